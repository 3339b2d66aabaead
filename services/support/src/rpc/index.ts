import type { ConnectRouter } from '@connectrpc/connect';
import { SupportService } from '@hearth/contracts/gen/hearth/support/v1/support_service_pb.js';

/**
 * The SupportService handlers, one file per RPC. RPCs not listed here are answered with
 * Code.Unimplemented by Connect until the issue that builds them lands.
 */
export function registerRpc(router: ConnectRouter): void {
  router.service(SupportService, {});
}
