import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { requireIdentity } from '@hearth/authz';
import type { Handlers, RpcDeps } from './context.js';

export function listSessions(deps: RpcDeps): Handlers['listSessions'] {
  return async (req, ctx) => {
    const identity = requireIdentity(ctx);
    const page = await deps.sessions.list(identity, req.pageSize, req.pageToken);
    return {
      sessions: page.sessions.map((s) => ({
        id: s.id,
        deviceName: s.device_name,
        ipAddress: s.ip,
        userAgent: s.user_agent,
        createTime: timestampFromDate(s.created_at),
        lastUseTime: timestampFromDate(s.last_used_at),
        expireTime: timestampFromDate(s.idle_expires_at),
        current: s.id === identity.sessionId,
      })),
      nextPageToken: page.nextPageToken,
    };
  };
}
