import type { ServiceImpl } from '@connectrpc/connect';
import type { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import type { Accounts } from '../service/accounts.js';
import type { Blocks } from '../service/blocks.js';
import type { Profiles } from '../service/profiles.js';

/** What the handlers need: the services, nothing else. */
export interface RpcDeps {
  readonly profiles: Profiles;
  readonly blocks: Blocks;
  readonly accounts: Accounts;
}

export type Handlers = Partial<ServiceImpl<typeof UserService>>;

