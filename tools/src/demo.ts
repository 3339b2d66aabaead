// `npm run demo [-- --url <origin>]`: the README's walkthrough, run against a running Hearth
// (default http://127.0.0.1:8080, or HEARTH_URL) through the SDK an app would use. Two new
// people sign up, one makes a private circle the other cannot see, invites them in, and a block
// hides their profiles from each other. tools/test/demo.test.ts runs it against a fresh system,
// so the story the README tells is the one that works.
import { Code, ConnectError } from '@connectrpc/connect';
import { type HearthClient, TokenStore, createHearthClient } from '@hearth/client';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

export interface DemoOptions {
  /** The origin every service is served on. */
  readonly baseUrl: string;
  /** Where each step is reported; stdout by default. */
  readonly print?: (line: string) => void;
  /** How long to wait for a new account's profile (made by a job after Register). */
  readonly profileTimeoutMs?: number;
}

export interface DemoPerson {
  readonly id: string;
  readonly handle: string;
  readonly client: HearthClient;
}

export interface DemoResult {
  readonly a: DemoPerson;
  readonly b: DemoPerson;
  readonly circleId: string;
  readonly inviteCode: string;
}

const PASSWORD = 'lantern orbit velvet cactus 42';

/** Runs the story; rejects at the first step that does not answer as the README says. */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const run = randomBytes(3).toString('hex');
  let n = 0;
  const step = (text: string) => print(`${String(++n).padStart(2)}. ${text}`);
  const anonymous = createHearthClient({ baseUrl: opts.baseUrl });

  print(`Hearth demo against ${opts.baseUrl} (run ${run})`);
  const signUp = async (name: string): Promise<{ handle: string; email: string; client: HearthClient }> => {
    // The SDK keeps the session's tokens, sends the access token and refreshes it when it expires.
    const client = createHearthClient({ baseUrl: opts.baseUrl, tokens: new TokenStore() });
    const handle = `${name}_${run}`;
    const email = `${name}.${run}@example.org`;
    const { tokens } = await client.auth.register({
      email,
      password: PASSWORD,
      handle,
      displayName: name,
      tokenDelivery: TokenDelivery.BODY,
      idempotencyKey: `demo-${randomUUID()}`,
    });
    step(`AuthService.Register ${handle}: signed in (user ${tokens?.userId}, session ${tokens?.sessionId})`);
    return { handle, email, client };
  };
  const ash = await signUp('ash');
  const birch = await signUp('birch');

  // A second device of A's: sign in, rotate its refresh token, and show that the old one is spent.
  const device = await anonymous.auth.login({ email: ash.email, password: PASSWORD, deviceName: 'demo laptop', tokenDelivery: TokenDelivery.BODY });
  const first = device.tokens?.refreshToken ?? '';
  step(`AuthService.Login ${ash.handle} on a second device: new session ${device.tokens?.sessionId}`);
  const rotated = await anonymous.auth.refresh({ refreshToken: first, tokenDelivery: TokenDelivery.BODY });
  step(`AuthService.Refresh: new token pair for the same session ${rotated.tokens?.sessionId}; the old refresh token is spent`);
  await refused(anonymous.auth.refresh({ refreshToken: first, tokenDelivery: TokenDelivery.BODY }), Code.Unauthenticated);
  step('AuthService.Refresh with the spent token: unauthenticated, and that whole session is revoked (reuse detection)');

  const a = await profileOf(ash.client, opts.profileTimeoutMs ?? 15_000);
  const b = await profileOf(birch.client, opts.profileTimeoutMs ?? 15_000);
  step(`UserService.GetMe: profiles ${a.handle} and ${b.handle} exist (auth's job queue made them after Register)`);

  const { circle } = await a.client.circle.createCircle({
    name: 'Night owls',
    description: 'for the small hours',
    visibility: CircleVisibility.PRIVATE,
    idempotencyKey: `demo-${randomUUID()}`,
  });
  if (!circle) throw new Error('CreateCircle returned no circle');
  step(`CircleService.CreateCircle as ${a.handle}: private circle "${circle.name}" (${circle.id})`);
  await refused(b.client.circle.getCircle({ circleId: circle.id }), Code.NotFound);
  step(`CircleService.GetCircle as ${b.handle}: not_found (a private circle hides from non-members)`);

  const { invite } = await a.client.circle.createInvite({ circleId: circle.id, maxUses: 5, idempotencyKey: `demo-${randomUUID()}` });
  if (!invite) throw new Error('CreateInvite returned no invite');
  step(`CircleService.CreateInvite as ${a.handle}: code ${invite.code} (5 uses)`);
  await b.client.circle.joinCircle({ target: { case: 'inviteCode', value: invite.code } });
  step(`CircleService.JoinCircle as ${b.handle} with the code: joined`);
  const { circles } = await b.client.circle.listMyCircles({});
  if (!circles.some((c) => c.id === circle.id)) throw new Error(`ListMyCircles of ${b.handle} does not list the circle just joined`);
  step(`CircleService.ListMyCircles as ${b.handle}: ${circles.map((c) => `"${c.name}" (${c.memberCount} members)`).join(', ')}`);

  const seen = await b.client.user.getProfile({ lookup: { case: 'userId', value: a.id } });
  step(`UserService.GetProfile of ${a.handle} as ${b.handle}: ${seen.profile?.handle}`);
  await b.client.user.blockUser({ userId: a.id });
  step(`UserService.BlockUser as ${b.handle}: ${a.handle} blocked`);
  await refused(b.client.user.getProfile({ lookup: { case: 'userId', value: a.id } }), Code.NotFound);
  step(`UserService.GetProfile of ${a.handle} as ${b.handle}: not_found (a block hides both people from each other)`);

  print('done: every step answered as the README says');
  return { a, b, circleId: circle.id, inviteCode: invite.code };
}

/** The signed-in person's profile, once the job that creates it has run. */
async function profileOf(client: HearthClient, timeoutMs: number): Promise<DemoPerson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { profile } = await client.user.getMe({});
      if (profile) return { id: profile.id, handle: profile.handle, client };
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error('GetMe returned no profile');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The story expects this call to be refused with `code`; anything else stops the demo. */
async function refused(call: Promise<unknown>, code: Code): Promise<void> {
  try {
    await call;
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === code) return;
    throw new Error(`expected ${Code[code]}, got ${Code[e.code]}: ${e.rawMessage}`, { cause: err });
  }
  throw new Error(`expected ${Code[code]}, but the call succeeded`);
}

if (import.meta.main) {
  let baseUrl = process.env.HEARTH_URL ?? 'http://127.0.0.1:8080';
  const main = async (): Promise<void> => {
    const { values } = parseArgs({ options: { url: { type: 'string' } } });
    baseUrl = values.url ?? baseUrl;
    await runDemo({ baseUrl });
  };
  main().catch((err: unknown) => {
    const e = err instanceof ConnectError ? `[${Code[err.code]}] ${err.rawMessage}` : err instanceof Error ? err.message : String(err);
    const unreachable = /ECONNREFUSED|fetch failed/.test(e);
    process.stderr.write(unreachable ? `demo: cannot reach ${baseUrl}; is Hearth running? Start it with \`npm run dev\`\n` : `demo: ${e}\n`);
    process.exitCode = 1;
  });
}
