import type { ConnectRouter } from '@connectrpc/connect';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_pb.js';

/**
 * The UserService handlers, one file per RPC. RPCs not listed here are answered with
 * Code.Unimplemented by Connect until the issue that builds them lands.
 */
export function registerRpc(router: ConnectRouter): void {
  router.service(UserService, {});
}
