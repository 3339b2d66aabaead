import type { ConnectRouter } from '@connectrpc/connect';
import { ModerationService } from '@hearth/contracts/gen/hearth/moderation/v1/moderation_service_pb.js';

/**
 * The ModerationService handlers, one file per RPC. RPCs not listed here are answered with
 * Code.Unimplemented by Connect until the issue that builds them lands.
 */
export function registerRpc(router: ConnectRouter): void {
  router.service(ModerationService, {});
}
