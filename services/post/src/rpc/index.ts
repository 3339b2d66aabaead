import type { ConnectRouter } from '@connectrpc/connect';
import { PostService } from '@hearth/contracts/gen/hearth/post/v1/post_service_pb.js';

/**
 * The PostService handlers, one file per RPC. RPCs not listed here are answered with
 * Code.Unimplemented by Connect until the issue that builds them lands.
 */
export function registerRpc(router: ConnectRouter): void {
  router.service(PostService, {});
}
