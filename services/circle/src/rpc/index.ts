import type { ConnectRouter } from '@connectrpc/connect';
import { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_pb.js';

/**
 * The CircleService handlers, one file per RPC. RPCs not listed here are answered with
 * Code.Unimplemented by Connect until the issue that builds them lands.
 */
export function registerRpc(router: ConnectRouter): void {
  router.service(CircleService, {});
}
