import { createHash, timingSafeEqual } from 'node:crypto';
import { FieldDescriptorProto_Type } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Identity } from '@hearth/authz';
import { ViolationsSchema } from '@hearth/contracts/gen/buf/validate/validate_pb.js';
import { type Database, newId } from '@hearth/db';
import type { AuthLimits } from '../limits/types.js';
import { accountStore } from '../store/accounts.js';
import { identityStore } from '../store/identities.js';
import { oauthFlowStore } from '../store/oauth-flows.js';
import type { Account, AuthTables, FlowIntentName, IdentityRow, ProviderName } from '../store/schema.js';
import { type RequestMeta, recordAudit } from './audit.js';
import { normalizeEmail } from './password-accounts.js';
import { randomToken, sha256 } from './crypto.js';
import { generatedProfile } from './oauth-profile.js';
import { enqueueCreateProfile } from './profile-delivery.js';
import { type OAuthProviders, type ProviderIdentity, ProviderError } from './oauth-providers.js';
import { type IssuedTokens, type Sessions, unauthenticated } from './sessions.js';
import { toRoles } from './tokens.js';

export interface OAuthSignInDeps {
  readonly db: Database<AuthTables>;
  readonly sessions: Sessions;
  readonly limits: AuthLimits;
  readonly providers: OAuthProviders;
  /** HEARTH_AUTH_OAUTH_REDIRECT_URIS: the only redirect URIs StartOAuth accepts (exact match). */
  readonly redirectUris: ReadonlySet<string>;
  readonly now: () => Date;
}

export interface StartInput {
  readonly provider: ProviderName;
  readonly intent: FlowIntentName;
  readonly redirectUri: string;
  readonly codeChallenge: string;
}

export interface StartedFlow {
  readonly authorizationUrl: string;
  readonly state: string;
  readonly expiresAt: Date;
}

/** The redirect's parts and the PKCE verifier, as FinishOAuth and LinkOAuth receive them. */
export interface RedirectInput {
  readonly provider: ProviderName;
  readonly code: string;
  readonly state: string;
  readonly redirectUri: string;
  readonly codeVerifier: string;
}

export interface OAuthSignInResult {
  readonly tokens: IssuedTokens;
  readonly accountCreated: boolean;
}

/** The contract: a flow must be finished within 10 minutes of StartOAuth. */
export const FLOW_TTL_MS = 10 * 60_000;
const FLOW_REFUSED = 'unknown, expired or already used state, or it was started for another provider, intent, redirect URI or user';
const VERIFIER_MISMATCH = 'code_verifier does not match the code_challenge given to StartOAuth';
const PROVIDER_REJECTED = 'the identity provider did not confirm this sign-in';
const PROVIDER_UNAVAILABLE = 'the identity provider cannot be reached; try again later';

type LinkOutcome =
  | { readonly identity: IdentityRow; readonly refused?: undefined }
  | { readonly identity?: undefined; readonly refused: 'account_deleted' | 'account_suspended' | 'linked_elsewhere' | 'provider_taken' };

/** Rolls a creation back when a concurrent call won a unique index; the caller retries as sign-in. */
class LostRace extends Error {}

/** Google and Apple sign-in and linking: StartOAuth, FinishOAuth, LinkOAuth, UnlinkOAuth, ListLinkedIdentities. */
export class OAuthSignIn {
  constructor(private readonly d: OAuthSignInDeps) {}

  async start(caller: Identity | undefined, input: StartInput, meta: RequestMeta): Promise<StartedFlow> {
    await this.d.limits.consumeOAuth(meta.ip);
    if (!this.d.redirectUris.has(input.redirectUri)) throw redirectNotAllowed();
    this.#requireConfigured(input.provider);
    if (input.intent === 'link' && !caller) throw unauthenticated('a LINK flow needs an access token');
    const state = randomToken(32);
    const nonce = randomToken(32);
    const url = await this.#provider(() =>
      this.d.providers.authorizationUrl(input.provider, { redirectUri: input.redirectUri, state, nonce, codeChallenge: input.codeChallenge }),
    );
    const now = this.d.now();
    const expiresAt = new Date(now.getTime() + FLOW_TTL_MS);
    await oauthFlowStore.insert(this.d.db.db, {
      stateHash: sha256(state),
      provider: input.provider,
      intent: input.intent,
      redirectUri: input.redirectUri,
      codeChallenge: input.codeChallenge,
      nonce,
      userId: input.intent === 'link' ? (caller?.userId ?? null) : null,
      now,
      expiresAt,
    });
    await oauthFlowStore.sweep(this.d.db.db, now);
    meta.logger.info({ provider: input.provider, intent: input.intent }, 'oauth flow started');
    return { authorizationUrl: url.href, state, expiresAt };
  }

  /**
   * Signs in with a provider identity: the account linked to it, or a new account when the
   * identity is new. A new identity whose verified email already has an account is refused
   * rather than linked (linking on email would hand the account to whoever controls the
   * provider account); the person signs in and links it instead.
   */
  async finish(input: RedirectInput & { deviceName: string }, meta: RequestMeta): Promise<OAuthSignInResult> {
    await this.d.limits.consumeOAuth(meta.ip);
    const who = await this.#redeem('sign_in', null, input, meta);
    // Twice at most: a creation that lost a race to a concurrent one finds its identity next time.
    for (let attempt = 0; attempt < 2; attempt++) {
      const linked = await identityStore.findBySubject(this.d.db.db, input.provider, who.subject);
      if (linked) return { tokens: await this.#signInLinked(linked, who, input.deviceName, meta), accountCreated: false };
      const created = await this.#createAccount(input.provider, who, input.deviceName, meta);
      if (created) return { tokens: created, accountCreated: true };
    }
    throw new Error('oauth sign-in lost the same race twice');
  }

  /** Adds the identity to the caller's account; linking the identity it already has is a no-op. */
  async link(caller: Identity, input: RedirectInput, meta: RequestMeta): Promise<IdentityRow> {
    await this.d.limits.consumeOAuth(meta.ip);
    const who = await this.#redeem('link', caller.userId, input, meta);
    const { provider } = input;
    const now = this.d.now();
    const outcome = await this.d.db.transaction(async (tx): Promise<LinkOutcome> => {
      // Serialises links and unlinks of one account.
      const account = await accountStore.findById(tx, caller.userId, { forUpdate: true });
      if (!account || account.state === 'deleted') return { refused: 'account_deleted' } as const;
      if (account.state !== 'active') return { refused: 'account_suspended' } as const;
      const existing = await identityStore.findBySubject(tx, provider, who.subject);
      if (existing) return existing.account_id === account.id ? ({ identity: existing } as const) : ({ refused: 'linked_elsewhere' } as const);
      if (await identityStore.findByAccount(tx, account.id, provider)) return { refused: 'provider_taken' } as const;
      const inserted = await identityStore.insert(tx, { accountId: account.id, provider, subject: who.subject, email: who.email, now, usedNow: false });
      // A concurrent link of the same identity to another account won the unique index.
      if (!inserted) return { refused: 'linked_elsewhere' } as const;
      await recordAudit(tx, meta, { type: 'identity_linked', userId: account.id, detail: { provider } }, now);
      return { identity: inserted } as const;
    });
    if (outcome.identity) return outcome.identity;
    await this.#fail(meta, caller.userId, { provider, intent: 'link', reason: outcome.refused });
    switch (outcome.refused) {
      case 'account_deleted':
        throw unauthenticated('authentication required');
      case 'account_suspended':
        throw new ConnectError('account suspended', Code.PermissionDenied);
      case 'linked_elsewhere':
        throw new ConnectError('this identity is linked to another account', Code.AlreadyExists);
      case 'provider_taken':
        throw new ConnectError(`the account already has a ${provider} identity; unlink it first`, Code.AlreadyExists);
    }
  }

  /** Removes the caller's identity from `provider`, unless it is the account's last way to sign in. */
  async unlink(caller: Identity, provider: ProviderName, meta: RequestMeta): Promise<void> {
    const now = this.d.now();
    await this.d.db.transaction(async (tx) => {
      const account = await accountStore.findById(tx, caller.userId, { forUpdate: true });
      if (!account || account.state === 'deleted') throw unauthenticated('authentication required');
      const identities = await identityStore.listByAccount(tx, account.id);
      const target = identities.find((i) => i.provider === provider);
      if (!target) throw new ConnectError(`no ${provider} identity is linked to this account`, Code.NotFound);
      if (!account.password_hash && identities.length === 1) {
        throw new ConnectError(
          "this is the account's last way to sign in: set a password with ChangePassword before unlinking it",
          Code.FailedPrecondition,
        );
      }
      await identityStore.delete(tx, target.id);
      await recordAudit(tx, meta, { type: 'identity_unlinked', userId: account.id, detail: { provider } }, now);
    });
  }

  async list(caller: Identity): Promise<{ identities: IdentityRow[]; hasPassword: boolean }> {
    const account = await accountStore.findById(this.d.db.db, caller.userId);
    if (!account || account.state === 'deleted') throw unauthenticated('authentication required');
    const identities = await identityStore.listByAccount(this.d.db.db, account.id);
    return { identities, hasPassword: account.password_hash !== null };
  }

  /**
   * Uses up the flow named by `state` and redeems the code at the provider. Every check that
   * runs after the flow is claimed (PKCE, code, ID token) burns it: a failure there is what an
   * intercepted redirect looks like, and the app starts again.
   */
  async #redeem(intent: FlowIntentName, userId: string | null, input: RedirectInput, meta: RequestMeta): Promise<ProviderIdentity> {
    const { provider } = input;
    this.#requireConfigured(provider);
    // Discovery before the flow is claimed, so an unreachable provider does not cost the flow.
    await this.#provider(() => this.d.providers.prepare(provider));
    const flow = await oauthFlowStore.consume(this.d.db.db, {
      stateHash: sha256(input.state),
      provider,
      intent,
      redirectUri: input.redirectUri,
      userId,
      now: this.d.now(),
    });
    if (!flow) {
      await this.#fail(meta, userId, { provider, intent, reason: 'flow_refused' });
      throw new ConnectError(FLOW_REFUSED, Code.FailedPrecondition);
    }
    if (!pkceMatches(input.codeVerifier, flow.code_challenge)) {
      await this.#fail(meta, userId, { provider, intent, reason: 'pkce_mismatch' });
      throw unauthenticated(VERIFIER_MISMATCH);
    }
    try {
      return await this.d.providers.exchange(provider, {
        redirectUri: flow.redirect_uri,
        code: input.code,
        state: input.state,
        nonce: flow.nonce,
        codeVerifier: input.codeVerifier,
      });
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      await this.#fail(meta, userId, { provider, intent, reason: err.reason, kind: err.kind });
      throw providerFailure(err);
    }
  }

  async #signInLinked(linked: IdentityRow, who: ProviderIdentity, deviceName: string, meta: RequestMeta): Promise<IssuedTokens> {
    const { provider } = linked;
    const account = await accountStore.findById(this.d.db.db, linked.account_id);
    if (!account || account.state === 'deleted' || account.deleted_at !== null) {
      await this.#fail(meta, linked.account_id, { provider, intent: 'sign_in', reason: 'account_deleted' });
      throw unauthenticated('no account signs in with this identity');
    }
    if (account.state !== 'active') {
      await this.#fail(meta, account.id, { provider, intent: 'sign_in', reason: account.state });
      throw new ConnectError('account suspended', Code.PermissionDenied);
    }
    const now = this.d.now();
    const { session, roles } = await this.d.db.transaction(async (tx) => {
      // Read again under a share lock, so a concurrent SetAccountAccess either sees this session
      // (and ends it) or is seen here (see AuthService#signIn).
      const current = await accountStore.findById(tx, account.id, { forShare: true });
      if (!current || current.state === 'deleted') throw unauthenticated('no account signs in with this identity');
      if (current.state !== 'active') throw new ConnectError('account suspended', Code.PermissionDenied);
      await identityStore.touch(tx, linked.id, who.email, now);
      const started = await this.d.sessions.start(tx, { userId: account.id, deviceName, meta, now });
      await recordAudit(tx, meta, { type: 'oauth_login_ok', userId: account.id, sessionId: started.sessionId, detail: { provider } }, now);
      return { session: started, roles: current.roles };
    });
    return this.d.sessions.issue(session, account.id, toRoles(roles), now);
  }

  /** The account, its identity, its profile job and a session, together; undefined after a lost race. */
  async #createAccount(provider: ProviderName, who: ProviderIdentity, deviceName: string, meta: RequestMeta): Promise<IssuedTokens | undefined> {
    // The account's email is its Login email later (after ChangePassword sets a password), so
    // only an address the provider vouches for may become one.
    if (!who.email || !who.emailVerified) {
      await this.#fail(meta, null, { provider, intent: 'sign_in', reason: 'no_verified_email' });
      throw new ConnectError('the identity provider did not share a verified email address, which a new account needs', Code.FailedPrecondition);
    }
    const email = normalizeEmail(who.email);
    const holder = await accountStore.findByEmail(this.d.db.db, email);
    if (holder) throw await this.#emailTaken(meta, provider, holder);
    const userId = newId();
    const now = this.d.now();
    const profile = generatedProfile(who.name);
    let started;
    try {
      started = await this.d.db.transaction(async (tx) => {
        if (!(await accountStore.insert(tx, { id: userId, email, passwordHash: null, now }))) throw new LostRace();
        const identity = await identityStore.insert(tx, { accountId: userId, provider, subject: who.subject, email: who.email, now, usedNow: true });
        if (!identity) throw new LostRace();
        await enqueueCreateProfile(tx, { userId, handle: profile.handle, displayName: profile.displayName });
        const session = await this.d.sessions.start(tx, { userId, deviceName, meta, now });
        await recordAudit(tx, meta, { type: 'oauth_register', userId, sessionId: session.sessionId, detail: { provider } }, now);
        return session;
      });
    } catch (err) {
      if (err instanceof LostRace) return undefined;
      throw err;
    }
    return this.d.sessions.issue(started, userId, ['user'], now);
  }

  /** The proto's "sign in the usual way, then link": only the email's owner learns anything from it. */
  async #emailTaken(meta: RequestMeta, provider: ProviderName, holder: Account): Promise<ConnectError> {
    await this.#fail(meta, holder.id, { provider, intent: 'sign_in', reason: 'email_in_use' });
    return new ConnectError(
      'an account already uses the email this identity shares: sign in to it, then link the identity with LinkOAuth',
      Code.FailedPrecondition,
    );
  }

  #requireConfigured(provider: ProviderName): void {
    if (!this.d.providers.isConfigured(provider)) throw new ConnectError(`${provider} sign-in is not configured on this server`, Code.FailedPrecondition);
  }

  /** Runs a provider call before any flow is claimed, mapping its failure to the contract's codes. */
  async #provider<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ProviderError) throw providerFailure(err);
      throw err;
    }
  }

  #fail(meta: RequestMeta, userId: string | null, detail: Record<string, unknown>): Promise<void> {
    return recordAudit(this.d.db.db, meta, { type: 'oauth_failed', userId, detail }, this.d.now());
  }
}

/** RFC 7636 S256: BASE64URL(SHA-256(verifier)) equals the challenge, compared in constant time. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

function providerFailure(err: ProviderError): ConnectError {
  return err.kind === 'unavailable'
    ? new ConnectError(PROVIDER_UNAVAILABLE, Code.Unavailable)
    : new ConnectError(PROVIDER_REJECTED, Code.Unauthenticated);
}

function redirectNotAllowed(): ConnectError {
  const message = 'redirect_uri is not one of the redirect URIs this server allows';
  return new ConnectError(message, Code.InvalidArgument, undefined, [
    {
      desc: ViolationsSchema,
      value: {
        violations: [
          {
            field: { elements: [{ fieldNumber: 3, fieldName: 'redirect_uri', fieldType: FieldDescriptorProto_Type.STRING }] },
            ruleId: 'hearth.auth.redirect_uri_allowed',
            message,
          },
        ],
      },
    },
  ]);
}
