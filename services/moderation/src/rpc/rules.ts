import { defineRules, rule } from '@hearth/authz';
import { ModerationService } from '@hearth/contracts/gen/hearth/moderation/v1/moderation_service_pb.js';

const moderators = rule.roles(['moderator']);

/**
 * Who may call each ModerationService RPC (default deny; see packages/authz rules.ts).
 * "Moderators only" admits admins too; on ESCALATED cases the service narrows it to admins.
 */
export const moderationRules = defineRules(ModerationService, {
  createReport: rule.signedIn(),
  listMyReports: rule.signedIn(),
  listQueue: moderators,
  getCase: moderators,
  listCaseReports: moderators,
  assignCase: moderators,
  actOnCase: moderators,
  dismissCase: moderators,
  escalateCase: moderators,
  addCaseNote: moderators,
  listCaseEvents: moderators,
  listMyActions: rule.signedIn({ note: 'actions against the caller' }),
  appealAction: rule.signedIn({ note: 'actions against the caller' }),
  getAppeal: rule.signedIn({ note: 'the appellant and moderators; NotFound for anyone else' }),
  listAppeals: rule.signedIn({ note: 'moderators see every appeal, others their own' }),
  resolveAppeal: rule.roles(['moderator'], { note: 'not by the moderator who took the action (service check)' }),
  listRules: moderators,
  upsertRule: rule.roles(['admin']),
  checkContent: rule.signedIn({ services: true, note: 'rule ids only for moderators and services' }),
});
