import { Code, ConnectError } from '@connectrpc/connect';
import { type Caller, isStaff } from '@hearth/authz';
import { AccountState, Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import type { AccountState as StateName, ProfileRow, RoleName } from '../store/schema.js';

/** The domain's records, as the store reads them; handlers map them to messages (rpc/mappers.ts). */
export type { AccountState, DirectMessages, ProfileRow, RoleName, SettingsRow } from '../store/schema.js';

/**
 * A profile as others may see it: a deleted account keeps its id, state and times, and shows
 * nothing else ("Deleted account"); its handle stays reserved in the store until the purge.
 */
export interface ProfileView extends Omit<ProfileRow, 'handle' | 'purge_after'> {
  readonly handle: string;
}

export function viewOf(row: ProfileRow): ProfileView {
  const { purge_after: _purge, ...rest } = row;
  if (row.state !== 'deleted') return { ...rest, handle: row.handle ?? '' };
  return { ...rest, handle: '', display_name: '', bio: '', pronouns: '', avatar_url: '' };
}

const ROLE_ORDER: readonly RoleName[] = ['user', 'moderator', 'admin'];

/** ROLE_USER is implied: every set has it, in one canonical order so sets compare as arrays. */
export function normalizeRoles(roles: Iterable<RoleName>): RoleName[] {
  const set = new Set<RoleName>(roles);
  set.add('user');
  return ROLE_ORDER.filter((r) => set.has(r));
}

export function sameRoles(a: readonly RoleName[], b: readonly RoleName[]): boolean {
  const x = normalizeRoles(a);
  const y = normalizeRoles(b);
  return x.length === y.length && x.every((r, i) => r === y[i]);
}

export const ROLE_TO_PROTO: Readonly<Record<RoleName, Role>> = { user: Role.USER, moderator: Role.MODERATOR, admin: Role.ADMIN };
export const ROLE_FROM_PROTO: Readonly<Partial<Record<Role, RoleName>>> = {
  [Role.USER]: 'user',
  [Role.MODERATOR]: 'moderator',
  [Role.ADMIN]: 'admin',
};
export const STATE_TO_PROTO: Readonly<Record<StateName, AccountState>> = {
  active: AccountState.ACTIVE,
  suspended: AccountState.SUSPENDED,
  deleted: AccountState.DELETED,
};
export const STATE_FROM_PROTO: Readonly<Partial<Record<AccountState, StateName>>> = {
  [AccountState.ACTIVE]: 'active',
  [AccountState.SUSPENDED]: 'suspended',
  [AccountState.DELETED]: 'deleted',
};

/**
 * The user whose blocks and privacy apply to what the caller sees; undefined for staff and other
 * Hearth services, who see past both.
 */
export function restrictedViewer(caller: Caller): string | undefined {
  if (caller.kind === 'service' || isStaff(caller.identity)) return undefined;
  return caller.identity.userId;
}

/** How the audit log names who acted. */
export function actorOf(caller: Caller): string {
  return caller.kind === 'user' ? caller.identity.userId : `service:${caller.service.service}`;
}

export const userNotFound = (): ConnectError => new ConnectError('user not found', Code.NotFound);
/** Handles are stored and compared in lower case. */
export function normalizeHandle(handle: string): string {
  return handle.toLowerCase();
}

export const MAX_HANDLE_LENGTH = 30;

/**
 * Variants for a taken handle, numbered from `from`: the number is appended, and the handle is
 * shortened first when needed so the result stays within 30 characters.
 */
export function handleVariants(handle: string, from: number, count: number): string[] {
  const out: string[] = [];
  for (let n = from; n < from + count; n++) {
    const suffix = String(n);
    out.push(handle.slice(0, MAX_HANDLE_LENGTH - suffix.length) + suffix);
  }
  return out;
}

/**
 * True when `url` is an https URL on one of `hosts` (exact host name, default port, no user
 * info). Avatars on other hosts would tell those hosts who looked at a profile.
 */
export function isMediaUrl(url: string, hosts: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'https:' || u.username !== '' || u.password !== '' || u.port !== '') return false;
  return hosts.some((h) => h.toLowerCase() === u.hostname);
}
