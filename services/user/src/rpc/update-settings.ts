import { requireIdentity } from '@hearth/authz';
import { type Handlers, type RpcDeps } from './context.js';
import { DM_FROM_PROTO, settingsMessage, versionOf } from './mappers.js';

export function updateSettings(deps: RpcDeps): Handlers['updateSettings'] {
  return async (req, ctx) => {
    const dm = req.directMessages === undefined ? undefined : DM_FROM_PROTO[req.directMessages];
    const settings = await deps.profiles.updateSettings(requireIdentity(ctx), {
      version: versionOf(req.version),
      ...(req.notifyMessages === undefined ? {} : { notify_messages: req.notifyMessages }),
      ...(req.notifyMentions === undefined ? {} : { notify_mentions: req.notifyMentions }),
      ...(req.notifySupportRequests === undefined ? {} : { notify_support_requests: req.notifySupportRequests }),
      ...(req.notifySosAlerts === undefined ? {} : { notify_sos_alerts: req.notifySosAlerts }),
      ...(dm === undefined ? {} : { direct_messages: dm }),
      ...(req.showPresence === undefined ? {} : { show_presence: req.showPresence }),
      ...(req.discoverableByHandle === undefined ? {} : { discoverable_by_handle: req.discoverableByHandle }),
    });
    return { settings: settingsMessage(settings) };
  };
}
