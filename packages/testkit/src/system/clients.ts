import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_service_pb.js';
import { ChatService } from '@hearth/contracts/gen/hearth/circle/v1/chat_service_pb.js';
import { CircleService } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';
import { ModerationService } from '@hearth/contracts/gen/hearth/moderation/v1/moderation_service_pb.js';
import { PostService } from '@hearth/contracts/gen/hearth/post/v1/post_service_pb.js';
import { SupportService } from '@hearth/contracts/gen/hearth/support/v1/support_service_pb.js';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';

/** Typed clients of every Connect service, pointed at the system (no credentials). */
export interface Clients {
  readonly auth: Client<typeof AuthService>;
  readonly user: Client<typeof UserService>;
  readonly circle: Client<typeof CircleService>;
  readonly chat: Client<typeof ChatService>;
  readonly post: Client<typeof PostService>;
  readonly moderation: Client<typeof ModerationService>;
  readonly support: Client<typeof SupportService>;
}

/** Clients of every service at `baseUrl`, over one HTTP/1.1 transport (as the web SDK speaks). */
export function connectClients(baseUrl: string): Clients {
  const transport = createConnectTransport({ baseUrl, httpVersion: '1.1' });
  return {
    auth: createClient(AuthService, transport),
    user: createClient(UserService, transport),
    circle: createClient(CircleService, transport),
    chat: createClient(ChatService, transport),
    post: createClient(PostService, transport),
    moderation: createClient(ModerationService, transport),
    support: createClient(SupportService, transport),
  };
}
