import { defineRules, rule } from '@hearth/authz';
import { SupportService } from '@hearth/contracts/gen/hearth/support/v1/support_service_pb.js';

/**
 * Who may call each SupportService RPC (default deny; see packages/authz rules.ts). An SOS
 * never fails because of the caller's circles, so RaiseSos is open to every signed-in user and
 * the service reaches whichever of the named circles the caller belongs to.
 */
export const supportRules = defineRules(SupportService, {
  raiseSos: rule.signedIn({ note: 'circles the caller is not in are skipped, never an error' }),
  getSos: rule.signedIn({ note: 'the person in need, those it reached, moderators (service check)' }),
  acknowledgeSos: rule.signedIn({ note: 'those the alert reached' }),
  resolveSos: rule.signedIn({ note: 'the person in need, the acknowledger, moderators' }),
  cancelSos: rule.signedIn({ note: 'the person in need' }),
  listActiveSos: rule.signedIn({ note: 'alerts that reached the caller; moderators see all' }),
  createSupportRequest: rule.circle('circleId', 'member', { moderators: false, note: 'muted members refused by the service' }),
  getSupportRequest: rule.signedIn({ note: "membership of the request's circle and blocks (service check)" }),
  listSupportRequests: rule.signedIn({ note: "the caller's circles, unless a moderator" }),
  updateSupportRequest: rule.signedIn({ note: "the requester's own" }),
  resolveSupportRequest: rule.signedIn({ note: "the requester's own" }),
  cancelSupportRequest: rule.signedIn({ note: "the requester's own" }),
  offerSupport: rule.signedIn({ note: "membership of the request's circle, blocks (service check)" }),
  listOffers: rule.signedIn({ note: 'the requester sees all, others their own' }),
  acceptOffer: rule.signedIn({ note: 'the requester' }),
  withdrawOffer: rule.signedIn({ note: "the offerer's own" }),
  getCrisisResources: rule.public({ note: 'crisis lines must be reachable without an account' }),
  getSafetyPlan: rule.signedIn({ note: "the caller's own plan only" }),
  updateSafetyPlan: rule.signedIn({ note: "the caller's own plan only" }),
  deleteSafetyPlan: rule.signedIn({ note: "the caller's own plan only" }),
  eraseUserData: rule.internal({ note: 'UserService, when an account is deleted' }),
});
