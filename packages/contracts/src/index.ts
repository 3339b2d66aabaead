// The service descriptors of the v1 API, for code that works across all services (the
// monolith, the authorization matrix, the SDK). Messages are imported from their generated
// modules: `@hearth/contracts/gen/hearth/<service>/v1/<file>_pb.js`.
import { AuthService } from './gen/hearth/auth/v1/auth_service_pb.js';
import { ChatService } from './gen/hearth/circle/v1/chat_service_pb.js';
import { CircleService } from './gen/hearth/circle/v1/circle_service_pb.js';
import { ModerationService } from './gen/hearth/moderation/v1/moderation_service_pb.js';
import { PostService } from './gen/hearth/post/v1/post_service_pb.js';
import { SupportService } from './gen/hearth/support/v1/support_service_pb.js';
import { UserService } from './gen/hearth/user/v1/user_service_pb.js';

export { AuthService, ChatService, CircleService, ModerationService, PostService, SupportService, UserService };

/**
 * Every Connect service of the v1 API, by a short name. The Hearth service that serves one is
 * named by its package: hearth.circle.v1.ChatService is served by the circle service (ADR 0007).
 */
export const services = {
  auth: AuthService,
  user: UserService,
  circle: CircleService,
  chat: ChatService,
  post: PostService,
  moderation: ModerationService,
  support: SupportService,
} as const;

export type ConnectServiceName = keyof typeof services;
