import { type Client, type Interceptor, type Transport, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import {
  AuthService,
  ChatService,
  CircleService,
  ModerationService,
  PostService,
  SupportService,
  UserService,
} from '@hearth/contracts';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { bearerAuth } from './auth.js';
import { refreshWith, sessionAuth } from './session-auth.js';
import type { TokenStore } from './token-store.js';

export interface HearthClientOptions {
  /** The one origin that serves every service, e.g. https://api.example.org or http://127.0.0.1:8080. */
  readonly baseUrl: string;
  /**
   * The session's tokens (bearer mode): sign-ins through this client fill it, every call sends
   * its access token, and it is refreshed one Refresh at a time when it expires. Cookie-mode
   * web apps leave it out.
   */
  readonly tokens?: TokenStore;
  /** Returns the current access token, if any, for apps that keep and refresh tokens themselves. */
  readonly getAccessToken?: () => string | undefined | Promise<string | undefined>;
  /** Extra interceptors, run after authentication (and on its Refresh calls). */
  readonly interceptors?: readonly Interceptor[];
  /** Binary protobuf on the wire (smaller, faster); JSON by default for easy debugging. */
  readonly binary?: boolean;
  /**
   * A ready transport (tests, React Native, gRPC-web); overrides baseUrl and the options above.
   * To use a TokenStore with it, add `sessionAuth(store, refreshWith(...))` to its interceptors.
   */
  readonly transport?: Transport;
  /** Send cookies with requests (cookie-mode web apps on another origin). */
  readonly credentials?: 'include' | 'same-origin' | 'omit';
}

/** Typed clients for every Hearth service, sharing one transport. */
export interface HearthClient {
  readonly transport: Transport;
  readonly auth: Client<typeof AuthService>;
  readonly user: Client<typeof UserService>;
  readonly circle: Client<typeof CircleService>;
  readonly chat: Client<typeof ChatService>;
  readonly post: Client<typeof PostService>;
  readonly support: Client<typeof SupportService>;
  readonly moderation: Client<typeof ModerationService>;
  /**
   * The access token calls are sent with now (refreshed first if it is about to expire), for
   * the realtime socket's Hello; undefined in cookie mode or when signed out.
   */
  accessToken(): Promise<string | undefined>;
}

/** Builds the SDK over the Connect protocol using `fetch` (browsers, Node 18+, React Native). */
export function createHearthClient(opts: HearthClientOptions): HearthClient {
  if (opts.transport && opts.tokens) throw new Error('tokens cannot be wired into a ready transport: add sessionAuth to its interceptors');
  if (opts.getAccessToken && opts.tokens) throw new Error('give either tokens or getAccessToken, not both');
  const connect = (auth: Interceptor[]): Transport =>
    createConnectTransport({
      baseUrl: opts.baseUrl,
      useBinaryFormat: opts.binary ?? false,
      interceptors: [...auth, ...(opts.interceptors ?? [])],
      ...(opts.credentials ? { fetch: (input, init) => fetch(input, { ...init, credentials: opts.credentials }) } : {}),
    });
  let auth: Interceptor[] = [];
  let accessToken = async (): Promise<string | undefined> => undefined;
  if (opts.tokens) {
    // Refresh goes out on a transport of its own: through sessionAuth it would wait for itself.
    const plain = createClient(AuthService, connect([]));
    const refresh = refreshWith((refreshToken) => plain.refresh({ refreshToken, tokenDelivery: TokenDelivery.BODY }));
    const tokens = opts.tokens;
    auth = [sessionAuth(tokens, refresh)];
    accessToken = () => tokens.accessToken(refresh);
  } else if (opts.getAccessToken) {
    const get = opts.getAccessToken;
    auth = [bearerAuth(get)];
    accessToken = async () => get();
  }
  const transport = opts.transport ?? connect(auth);
  return {
    transport,
    auth: createClient(AuthService, transport),
    user: createClient(UserService, transport),
    circle: createClient(CircleService, transport),
    chat: createClient(ChatService, transport),
    post: createClient(PostService, transport),
    support: createClient(SupportService, transport),
    moderation: createClient(ModerationService, transport),
    accessToken,
  };
}
