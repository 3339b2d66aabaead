import { Code, ConnectError } from '@connectrpc/connect';
import type { Identity } from '@hearth/authz';
import { type Database, newId } from '@hearth/db';
import { passwordAttempt } from '../limits/password-attempt.js';
import type { AuthLimits } from '../limits/types.js';
import { accountStore } from '../store/accounts.js';
import type { Account, AuthTables } from '../store/schema.js';
import { type RequestMeta, recordAudit } from './audit.js';
import { type PasswordHasher, checkPasswordStrength } from './passwords.js';
import { enqueueCreateProfile } from './profile-delivery.js';
import { type IssuedTokens, type Sessions, unauthenticated } from './sessions.js';
import { toRoles } from './tokens.js';

export interface PasswordAccountsDeps {
  readonly db: Database<AuthTables>;
  readonly hasher: PasswordHasher;
  readonly sessions: Sessions;
  readonly limits: AuthLimits;
  readonly now: () => Date;
}

export interface RegisterInput {
  readonly email: string;
  readonly password: string;
  readonly handle: string;
  readonly displayName: string;
  readonly deviceName: string;
}

/** One message for every failed login, so it never tells whether an email has an account. */
export const INVALID_CREDENTIALS = 'email or password is incorrect';

/** Emails compare after NFKC, trimming and lower-casing (the unique index sees only this form). */
export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

/** Accounts and passwords: Register, Login, ChangePassword. */
export class PasswordAccounts {
  constructor(private readonly d: PasswordAccountsDeps) {}

  /**
   * Creates the account, its profile job and a session in one transaction.
   *
   * An email that already has an account is answered as Login would answer those credentials:
   * the right password signs in (so a retry after a lost response is safe, whatever its
   * idempotency key), a wrong one gets the Login error and counts as a failed login. Both paths
   * cost one argon2id operation, so timing does not tell them apart either.
   */
  async register(input: RegisterInput, meta: RequestMeta): Promise<IssuedTokens> {
    await this.d.limits.consumeRegister(meta.ip);
    const email = normalizeEmail(input.email);
    await checkPasswordStrength(input.password, [email, email.split('@')[0] ?? '', input.handle, input.displayName]);
    const existing = await accountStore.findByEmail(this.d.db.db, email);
    if (existing) return this.#login({ email, password: input.password, deviceName: input.deviceName }, meta, 'register');

    const passwordHash = await this.d.hasher.hash(input.password);
    const userId = newId();
    const now = this.d.now();
    const started = await this.d.db.transaction(async (tx) => {
      if (!(await accountStore.insert(tx, { id: userId, email, passwordHash, now }))) return undefined;
      // The profile belongs to the user service; the job queue delivers it.
      await enqueueCreateProfile(tx, { userId, handle: input.handle, displayName: input.displayName });
      const session = await this.d.sessions.start(tx, { userId, deviceName: input.deviceName, meta, now });
      await recordAudit(tx, meta, { type: 'register', userId, sessionId: session.sessionId }, now);
      return session;
    });
    // A concurrent Register of the same email won the unique index a moment ago.
    if (!started) return this.#login({ email, password: input.password, deviceName: input.deviceName }, meta, 'register');
    return this.d.sessions.issue(started, userId, ['user'], now);
  }

  async login(input: { email: string; password: string; deviceName: string }, meta: RequestMeta): Promise<IssuedTokens> {
    return this.#login({ ...input, email: normalizeEmail(input.email) }, meta, 'login');
  }

  /** Password sign-in, for Login and for Register of a taken email; `email` is normalized. */
  async #login(input: { email: string; password: string; deviceName: string }, meta: RequestMeta, via: 'login' | 'register'): Promise<IssuedTokens> {
    const key = { email: input.email, ip: meta.ip };
    // Looked up before the limiter sees the attempt: a database that is gone or stuck fails the
    // call here, with nothing reserved or counted (ADR 0005).
    const found = await accountStore.findByEmail(this.d.db.db, key.email);
    const account = found && found.state !== 'deleted' && found.deleted_at === null ? found : undefined;
    // Unknown email, deleted account or no password: a verify against the dummy hash, same cost.
    const { passwordOk } = await passwordAttempt(this.d.limits, key, async () => ({
      passwordOk: (await this.d.hasher.verify(account?.password_hash, input.password)) && account !== undefined,
    }));
    if (!passwordOk || !account) {
      const reason = !account ? 'unknown_account' : account.password_hash ? 'wrong_password' : 'no_password';
      await recordAudit(this.d.db.db, meta, { type: 'login_failed', userId: account?.id ?? null, detail: { reason, via } }, this.d.now());
      throw unauthenticated(INVALID_CREDENTIALS);
    }
    if (account.state !== 'active') {
      await recordAudit(this.d.db.db, meta, { type: 'login_failed', userId: account.id, detail: { reason: account.state, via } }, this.d.now());
      throw new ConnectError('account suspended', Code.PermissionDenied);
    }
    return this.#signIn(account, input.deviceName, meta, via === 'register' ? { via } : {});
  }

  async #signIn(account: Account, deviceName: string, meta: RequestMeta, detail: Record<string, unknown>): Promise<IssuedTokens> {
    const now = this.d.now();
    const { session, roles } = await this.d.db.transaction(async (tx) => {
      // Read again under a share lock: SetAccountAccess may have suspended the account or taken
      // a role away since the password was checked, and must not miss the session started here.
      const current = await accountStore.findById(tx, account.id, { forShare: true });
      if (!current || current.state === 'deleted') throw unauthenticated(INVALID_CREDENTIALS);
      if (current.state !== 'active') throw new ConnectError('account suspended', Code.PermissionDenied);
      const started = await this.d.sessions.start(tx, { userId: account.id, deviceName, meta, now });
      await recordAudit(tx, meta, { type: 'login_ok', userId: account.id, sessionId: started.sessionId, detail }, now);
      return { session: started, roles: current.roles };
    });
    return this.d.sessions.issue(session, account.id, toRoles(roles), now);
  }

  /** Sets a new password and ends every other session of the user; returns how many ended. */
  async changePassword(identity: Identity, input: { currentPassword: string; newPassword: string }, meta: RequestMeta): Promise<number> {
    const account = await accountStore.findById(this.d.db.db, identity.userId);
    if (!account || account.state === 'deleted') throw unauthenticated('authentication required');
    const stored = account.password_hash;
    if (stored) {
      // Guessing the current password from a borrowed session is limited like Login.
      const key = { email: account.email, ip: meta.ip };
      const { passwordOk } = await passwordAttempt(this.d.limits, key, async () => ({
        passwordOk: !!input.currentPassword && (await this.d.hasher.verify(stored, input.currentPassword)),
      }));
      if (!passwordOk) {
        meta.logger.info({ userId: account.id }, 'change password refused: current password wrong');
        throw new ConnectError('current password is incorrect', Code.PermissionDenied);
      }
    }
    if (input.newPassword === input.currentPassword) {
      throw new ConnectError('new_password must differ from current_password', Code.InvalidArgument);
    }
    await checkPasswordStrength(input.newPassword, [account.email, account.email.split('@')[0] ?? '']);
    const passwordHash = await this.d.hasher.hash(input.newPassword);
    const now = this.d.now();
    return this.d.db.transaction(async (tx) => {
      await accountStore.setPasswordHash(tx, account.id, passwordHash, now);
      return this.d.sessions.revokeAll(tx, { userId: account.id, keep: identity.sessionId, reason: 'password_changed', meta, now });
    });
  }
}
