// `npm run -w tools grant-role -- --handle <handle> --add admin --reason "..."`: adds or removes
// a person's platform roles on a running Hearth, as an operator. This is how the first admin is
// made; admins then use UserService.SetUserRoles themselves. It calls UserService with the
// service identity, so it needs HEARTH_INTERNAL_SECRET (dev: read from .hearth/dev-secrets.json)
// and HEARTH_URL (default http://127.0.0.1:8080). The change is audited like an admin's.
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { SERVICE_TOKEN_HEADER, ServiceTokens } from '@hearth/authz';
import { type Profile, Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import { parseArgs } from 'node:util';
import { devSecrets } from './dev-secrets.js';

const ROLES: Record<string, Role> = { moderator: Role.MODERATOR, admin: Role.ADMIN };
const USAGE =
  'usage: grant-role --handle <handle> (--add <role> | --remove <role>)... --reason <text>\n' +
  `  roles: ${Object.keys(ROLES).join(', ')}; the person's other roles are kept`;

/** Thrown for a bad command line: printed with the usage. */
class UsageError extends Error {}

export interface GrantRoleResult {
  readonly handle: string;
  /** The person's roles afterwards, by name (every account also has "user"). */
  readonly roles: readonly string[];
  /** False when the person already had exactly these roles; nothing was written then. */
  readonly changed: boolean;
  /** True when a role was taken away: the person's sessions end at once. */
  readonly sessionsEnded: boolean;
}

/**
 * Runs the command: `args` as on the command line, `env` for HEARTH_URL and
 * HEARTH_INTERNAL_SECRET. Roles not named stay as they are: a set that replaced them would
 * silently demote someone (and a removed role ends their sessions).
 */
export async function grantRole(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<GrantRoleResult> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      handle: { type: 'string' },
      add: { type: 'string', multiple: true },
      remove: { type: 'string', multiple: true },
      reason: { type: 'string' },
      role: { type: 'string', multiple: true },
    },
  });
  if (values.role) throw new UsageError('--role is gone: it replaced every role; say --add <role> or --remove <role>');
  const add = (values.add ?? []).map(role);
  const remove = (values.remove ?? []).map(role);
  if (add.length + remove.length === 0) throw new UsageError('nothing to do: give --add <role> or --remove <role>');
  const both = add.filter((r) => remove.includes(r));
  if (both.length > 0) throw new UsageError(`--add and --remove both name ${both.map(name).join(', ')}`);
  if (!values.handle || !values.reason) throw new UsageError('--handle and --reason are required');

  const secret = env.HEARTH_INTERNAL_SECRET ?? (await devSecrets()).internalSecret;
  const tokens = new ServiceTokens(secret, 'operator');
  const client = createClient(
    UserService,
    createConnectTransport({
      baseUrl: env.HEARTH_URL ?? 'http://127.0.0.1:8080',
      httpVersion: '1.1',
      interceptors: [
        (next) => async (req) => {
          req.header.set(SERVICE_TOKEN_HEADER, await tokens.token());
          return next(req);
        },
      ],
    }),
  );
  const profile = await findByHandle(values.handle, (pageToken) => client.listUsers({ handlePrefix: values.handle, pageSize: 100, pageToken }));
  // ROLE_USER is implied: the request carries only the roles that can be given and taken.
  const current: Role[] = profile.roles.filter((r) => r !== Role.USER);
  const roles = [...current.filter((r) => !remove.includes(r)), ...add.filter((r) => !current.includes(r))];
  const sessionsEnded = current.some((r) => !roles.includes(r));
  if (roles.length === current.length && !sessionsEnded) {
    return { handle: profile.handle, roles: names(profile.roles), changed: false, sessionsEnded: false };
  }
  const res = await client.setUserRoles({ userId: profile.id, roles, version: profile.version, reason: values.reason });
  return { handle: profile.handle, roles: names(res.profile?.roles ?? []), changed: true, sessionsEnded };
}

function role(text: string): Role {
  const r = ROLES[text.toLowerCase()];
  if (r === undefined) throw new UsageError(`unknown role "${text}": one of ${Object.keys(ROLES).join(', ')}`);
  return r;
}

function name(r: Role): string {
  return Role[r].toLowerCase();
}

function names(roles: readonly Role[]): string[] {
  return [...new Set([Role.USER, ...roles])].sort((a, b) => a - b).map(name);
}

/** GetProfile by handle is a user's view; the operator looks the person up among all accounts. */
async function findByHandle(handle: string, page: (token: string) => Promise<{ profiles: Profile[]; nextPageToken: string }>): Promise<Profile> {
  const wanted = handle.toLowerCase();
  let token = '';
  do {
    const { profiles, nextPageToken } = await page(token);
    const found = profiles.find((p) => p.handle === wanted);
    if (found) return found;
    token = nextPageToken;
  } while (token);
  throw new Error(`no account with handle ${handle}`);
}

function report(r: GrantRoleResult): string {
  if (!r.changed) return `${r.handle} already has roles: ${r.roles.join(', ')} (nothing changed)`;
  const when = r.sessionsEnded
    ? 'a role was removed, so their sessions have ended and they sign in again'
    : 'effective at their next token refresh';
  return `${r.handle} now has roles: ${r.roles.join(', ')} (${when})`;
}

if (import.meta.main) {
  grantRole(process.argv.slice(2)).then(
    (r) => process.stdout.write(`${report(r)}\n`),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      const usage = err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
      process.stderr.write(`grant-role: ${message}\n${usage ? `${USAGE}\n` : ''}`);
      process.exitCode = 1;
    },
  );
}
