import { ScalarType } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { AuthService, CircleService, UserService } from '@hearth/contracts';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import type { Sender } from './http.js';
import type { Rng } from './prng.js';
import { type Rpc, holdsUuid, kindOf, rulesOf } from './schema.js';
import type { Ids } from './valid.js';

/** The signed-in person the fuzzer calls as, with what it needs to keep calling as them. */
export interface Identity {
  /** Authorization for the person's current session. */
  headers(): Record<string, string>;
  ids(): Ids;
  /**
   * A new public circle the person owns, for one RPC to use up (RPCs may leave or archive it).
   * Public, so that lists across people (DiscoverCircles) have pages to turn.
   */
  freshCircle(): Promise<string>;
  /** Whether the session still works: Logout and LogoutAll, called with valid input, end it. */
  alive(): Promise<boolean>;
  /** Signs in again; if sign-in is refused (a case rate-limited the account), seeds a new person. */
  renew(): Promise<void>;
  /** How often renew() ran, and how many people were seeded in all. */
  readonly counts: { renewals: number; people: number };
}

interface Person {
  readonly id: string;
  readonly email: string;
  readonly password: string;
  access: string;
  circleId: string;
}

export interface SeedOptions {
  readonly url: string;
  readonly rpcs: readonly Rpc[];
  readonly sender: Sender;
  readonly rng: Rng;
  /** Client addresses for the fuzzer's own calls, one per new person, so no case's rate limit refuses them. */
  readonly nextAddress: () => string | undefined;
}

/**
 * Registers a person through the system's own API, waits for their profile (it arrives
 * through auth's job queue), and creates a circle they own. The liveness probe is found in the
 * descriptors: the first RPC with a top-level UUID field, sent "not-a-uuid" there, which fails
 * validation after authentication, so it tells a live session from a dead one and runs no handler.
 */
export async function seedIdentity(opts: SeedOptions): Promise<Identity> {
  const counts = { renewals: 0, people: 0 };
  let address = opts.nextAddress();
  let person = await seedPerson(opts, address);
  counts.people++;
  const clients = () => clientsFor(opts.url, address, () => person.access);
  const probe = await findProbe(opts, () => person.access, address);

  const identity: Identity = {
    headers: () => ({ authorization: `Bearer ${person.access}` }),
    ids: () => ({ userId: person.id, circleId: person.circleId, email: person.email, password: person.password }),
    async freshCircle() {
      const create = () => clients().circle.createCircle({ name: 'Fuzz circle', visibility: CircleVisibility.PUBLIC, idempotencyKey: `fuzz-${opts.rng.hex(16)}` });
      let answer: Awaited<ReturnType<typeof create>>;
      try {
        answer = await create();
      } catch (err) {
        // The last case of the RPC before may have ended the session (Logout, LogoutAll).
        if (ConnectError.from(err).code !== Code.Unauthenticated) throw err;
        await identity.renew();
        answer = await create();
      }
      if (!answer.circle) throw new Error('CreateCircle returned no circle');
      return answer.circle.id;
    },
    async alive() {
      const o = await opts.sender.post(probe.path, Buffer.from(probe.body), { 'content-type': 'application/json', authorization: `Bearer ${person.access}` }, address);
      return !(o.kind === 'answer' && o.code === 'unauthenticated');
    },
    async renew() {
      counts.renewals++;
      try {
        // Without the dead token: a revoked token is refused even on RPCs that need none.
        const { tokens } = await clientsFor(opts.url, address, () => '').auth.login({ email: person.email, password: person.password, deviceName: 'fuzz', tokenDelivery: TokenDelivery.BODY });
        if (!tokens) throw new Error('Login returned no tokens');
        person.access = tokens.accessToken;
      } catch (err) {
        const code = ConnectError.from(err).code;
        if (code !== Code.ResourceExhausted && code !== Code.Unauthenticated && code !== Code.PermissionDenied) throw err;
        address = opts.nextAddress();
        person = await seedPerson(opts, address);
        counts.people++;
      }
    },
    counts,
  };
  return identity;
}

function clientsFor(url: string, localAddress: string | undefined, token: () => string) {
  const transport = createConnectTransport({
    baseUrl: url,
    httpVersion: '1.1',
    ...(localAddress ? { nodeOptions: { localAddress } } : {}),
    interceptors: [
      (next) => (req) => {
        if (token() !== '') req.header.set('authorization', `Bearer ${token()}`);
        return next(req);
      },
    ],
  });
  return { auth: createClient(AuthService, transport), user: createClient(UserService, transport), circle: createClient(CircleService, transport) };
}

async function seedPerson(opts: SeedOptions, address: string | undefined): Promise<Person> {
  // Not in the generator's fuzz-<hex> form, so no case redraws them.
  const tag = opts.rng.hex(10);
  const password = `walker ${opts.rng.hex(12)} lantern orbit`;
  const anonymous = clientsFor(opts.url, address, () => '');
  const email = `walker.${tag}@example.org`;
  const { tokens } = await anonymous.auth.register({
    email,
    password,
    handle: `walker_${tag}`,
    displayName: 'Fuzz',
    deviceName: 'fuzz',
    tokenDelivery: TokenDelivery.BODY,
    idempotencyKey: `walker-${tag}`,
  });
  if (!tokens) throw new Error('Register returned no tokens');
  const person: Person = { id: subjectOf(tokens.accessToken), email, password, access: tokens.accessToken, circleId: '' };
  const signedIn = clientsFor(opts.url, address, () => person.access);
  await eventually(() => signedIn.user.getMe({}));
  // A second device, so that the person's session list has a second page to forge tokens from.
  await anonymous.auth.login({ email, password, deviceName: 'fuzz phone', tokenDelivery: TokenDelivery.BODY });
  const { circle } = await signedIn.circle.createCircle({ name: 'Fuzz home', visibility: CircleVisibility.PRIVATE, idempotencyKey: `walker-home-${tag}` });
  if (!circle) throw new Error('CreateCircle returned no circle');
  person.circleId = circle.id;
  return person;
}

async function findProbe(opts: SeedOptions, access: () => string, address: string | undefined): Promise<{ path: string; body: string }> {
  const tried: string[] = [];
  for (const rpc of opts.rpcs) {
    const field = rpc.method.input.fields.find(
      (f) => !f.oneof && f.fieldKind === 'scalar' && f.scalar === ScalarType.STRING && holdsUuid({ path: [f.jsonName], field: f, kind: kindOf(f), rules: rulesOf(f), label: f.name }),
    );
    if (!field || rulesOf(field)?.type.case !== 'string') continue;
    const body = JSON.stringify({ [field.jsonName]: 'not-a-uuid' });
    const send = (auth: Record<string, string>) => opts.sender.post(rpc.path, Buffer.from(body), { 'content-type': 'application/json', ...auth }, address);
    const [anonymous, person] = [await send({}), await send({ authorization: `Bearer ${access()}` })];
    const code = (o: typeof anonymous) => (o.kind === 'answer' ? o.code : o.kind);
    if (code(anonymous) === 'unauthenticated' && code(person) !== 'unauthenticated' && person.kind === 'answer') return { path: rpc.path, body };
    tried.push(`${rpc.name}: anonymous ${code(anonymous)}, person ${code(person)}`);
  }
  throw new Error(`no RPC works as a session liveness probe:\n${tried.join('\n')}`);
}

export function subjectOf(accessToken: string): string {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string };
  return payload.sub;
}

async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
