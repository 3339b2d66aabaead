import { type Client, type Interceptor, type Transport, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import {
  AuthService,
  CircleService,
  ModerationService,
  PostService,
  SupportService,
  UserService,
} from '@hearth/contracts';
import { bearerAuth } from './auth.js';

export interface HearthClientOptions {
  /** The one origin that serves every service, e.g. https://api.example.org or http://127.0.0.1:8080. */
  readonly baseUrl: string;
  /** Returns the current access token, if any (bearer mode). Cookie-mode web apps leave it out. */
  readonly getAccessToken?: () => string | undefined | Promise<string | undefined>;
  /** Extra interceptors, run after authentication. */
  readonly interceptors?: readonly Interceptor[];
  /** Binary protobuf on the wire (smaller, faster); JSON by default for easy debugging. */
  readonly binary?: boolean;
  /** A ready transport (tests, React Native, gRPC-web); overrides baseUrl and the options above. */
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
  readonly post: Client<typeof PostService>;
  readonly support: Client<typeof SupportService>;
  readonly moderation: Client<typeof ModerationService>;
}

/** Builds the SDK over the Connect protocol using `fetch` (browsers, Node 18+, React Native). */
export function createHearthClient(opts: HearthClientOptions): HearthClient {
  const transport =
    opts.transport ??
    createConnectTransport({
      baseUrl: opts.baseUrl,
      useBinaryFormat: opts.binary ?? false,
      interceptors: [...(opts.getAccessToken ? [bearerAuth(opts.getAccessToken)] : []), ...(opts.interceptors ?? [])],
      ...(opts.credentials ? { fetch: (input, init) => fetch(input, { ...init, credentials: opts.credentials }) } : {}),
    });
  return {
    transport,
    auth: createClient(AuthService, transport),
    user: createClient(UserService, transport),
    circle: createClient(CircleService, transport),
    post: createClient(PostService, transport),
    support: createClient(SupportService, transport),
    moderation: createClient(ModerationService, transport),
  };
}
