// `npm run -w tools grant-role -- --handle <handle> --role admin --reason "..."`: gives a person
// a platform role on a running Hearth, as an operator. This is how the first admin is made;
// admins then use UserService.SetUserRoles themselves. It calls UserService with the service
// identity, so it needs HEARTH_INTERNAL_SECRET (dev: read from .hearth/dev-secrets.json) and
// HEARTH_URL (default http://127.0.0.1:8080). The change is audited like an admin's.
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { SERVICE_TOKEN_HEADER, ServiceTokens } from '@hearth/authz';
import { Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_pb.js';
import { parseArgs } from 'node:util';
import { devSecrets } from './dev-secrets.js';

const ROLES: Record<string, Role> = { moderator: Role.MODERATOR, admin: Role.ADMIN };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      handle: { type: 'string' },
      role: { type: 'string', multiple: true },
      reason: { type: 'string' },
    },
  });
  const roles = (values.role ?? []).map((r) => {
    const role = ROLES[r];
    if (role === undefined) throw new Error(`--role must be one of ${Object.keys(ROLES).join(', ')}`);
    return role;
  });
  if (!values.handle || !values.reason) throw new Error('usage: grant-role --handle <handle> --role <moderator|admin> [--role ...] --reason <text>');
  const secret = process.env.HEARTH_INTERNAL_SECRET ?? (await devSecrets()).internalSecret;
  const tokens = new ServiceTokens(secret, 'operator');
  const client = createClient(
    UserService,
    createConnectTransport({
      baseUrl: process.env.HEARTH_URL ?? 'http://127.0.0.1:8080',
      httpVersion: '1.1',
      interceptors: [
        (next) => async (req) => {
          req.header.set(SERVICE_TOKEN_HEADER, await tokens.token());
          return next(req);
        },
      ],
    }),
  );
  // GetProfile by handle is a user's view; the operator looks the person up among all accounts.
  const { profiles } = await client.listUsers({ handlePrefix: values.handle, pageSize: 100 });
  const profile = profiles.find((p) => p.handle === values.handle?.toLowerCase());
  if (!profile) throw new Error(`no account with handle ${values.handle}`);
  const res = await client.setUserRoles({ userId: profile.id, roles, version: profile.version, reason: values.reason });
  const names = (res.profile?.roles ?? []).map((r) => Role[r].toLowerCase());
  process.stdout.write(`${profile.handle} now has roles: ${names.join(', ')} (effective at their next token refresh)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`grant-role: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
