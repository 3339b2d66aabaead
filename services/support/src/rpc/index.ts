import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';
import { type EraseUserDataResponseSchema, SupportService } from '@hearth/contracts/gen/hearth/support/v1/support_service_pb.js';
import type { CrisisResources } from '../service/crisis-resources.js';
import type { SafetyPlans } from '../service/safety-plans.js';
import type { SupportOffers } from '../service/support-offers.js';
import type { SupportRequests } from '../service/support-requests.js';
import { crisisResourceHandlers } from './crisis-resources.js';
import { safetyPlanHandlers } from './safety-plans.js';
import { supportOfferHandlers, supportRequestHandlers } from './support-requests.js';

/** What the handlers need: the services, nothing else. */
export interface RpcDeps {
  readonly plans: SafetyPlans;
  readonly crisis: CrisisResources;
  readonly requests: SupportRequests;
  readonly offers: SupportOffers;
  /** EraseUserData (internal): what a deleted account left here. */
  readonly erase: (userId: string) => Promise<{ requests: number; offers: number }>;
}

/**
 * The SupportService handlers. Who may call each one is decided before they run by the rule
 * table in rules.ts. RPCs not listed here are answered with Code.Unimplemented by Connect until
 * the issue that builds them lands.
 */
export function registerRpc(router: ConnectRouter, deps: RpcDeps): void {
  router.service(SupportService, {
    ...safetyPlanHandlers(deps.plans),
    ...crisisResourceHandlers(deps.crisis),
    ...supportRequestHandlers(deps.requests),
    ...supportOfferHandlers(deps.offers),
    eraseUserData: async (req): Promise<MessageInitShape<typeof EraseUserDataResponseSchema>> => {
      const { requests, offers } = await deps.erase(req.userId);
      return { requestCount: requests, offerCount: offers };
    },
  });
}
