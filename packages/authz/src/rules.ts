import type { DescMessage, DescService, Message } from '@bufbuild/protobuf';
import { reflect } from '@bufbuild/protobuf/reflect';
import { Code } from '@connectrpc/connect';
import { type Caller, hasAnyRole, isStaff } from './caller.js';
import type { Role } from './identity.js';

/** A member's role in one circle (hearth.circle.v1.MemberRole). */
export type CircleRole = 'owner' | 'host' | 'member';

/**
 * How far into a circle a rule reaches:
 * - `visible`: anyone signed in for a public circle, members only for a private one;
 * - `member`, `host`, `owner`: at least that circle role (owner > host > member).
 */
export type CircleLevel = 'visible' | CircleRole;

/**
 * The gate in front of one RPC. The rule decides who may call at all; finer decisions that
 * need the resource itself (is the caller the author, is the target the owner) are made by the
 * service and written in the rule's `note`, so the table tells the whole story.
 */
export type Rule =
  /** Anyone, signed in or not (sign-in itself). */
  | { readonly kind: 'public'; readonly note?: string }
  /**
   * Any signed-in user, or only those with one of `roles`. `services` also admits other Hearth
   * services. `hiddenByBlock` names a request field holding a user id: when a block exists
   * between the caller and that user the call fails NotFound (staff are exempt).
   */
  | {
      readonly kind: 'signedIn';
      readonly roles?: readonly Role[];
      readonly services?: boolean;
      readonly hiddenByBlock?: string;
      readonly note?: string;
    }
  /** A circle's members (by level) and, with `moderators`, platform moderators and admins. */
  | {
      readonly kind: 'circle';
      readonly circleField: string;
      readonly level: CircleLevel;
      readonly moderators: boolean;
      readonly note?: string;
    }
  /** Other Hearth services; also users with one of `roles`, or a user whose id is in `selfField`. */
  | { readonly kind: 'internal'; readonly roles?: readonly Role[]; readonly selfField?: string; readonly note?: string };

type Note = { readonly note?: string };

/** The vocabulary of rule tables (services/<name>/src/rpc/rules.ts). */
export const rule = {
  public: (opts: Note = {}): Rule => ({ kind: 'public', ...opts }),
  signedIn: (opts: { services?: boolean; hiddenByBlock?: string } & Note = {}): Rule => ({ kind: 'signedIn', ...opts }),
  roles: (roles: readonly Role[], opts: { services?: boolean } & Note = {}): Rule => ({ kind: 'signedIn', roles, ...opts }),
  circle: (circleField: string, level: CircleLevel, opts: { moderators: boolean } & Note): Rule => ({
    kind: 'circle',
    circleField,
    level,
    ...opts,
  }),
  internal: (opts: { roles?: readonly Role[]; selfField?: string } & Note = {}): Rule => ({ kind: 'internal', ...opts }),
};

/** One rule per method, keyed by the method's local name (e.g. "getMe"). */
export type RuleTable<S extends DescService> = { readonly [M in keyof S['method']]: Rule };

/** A service's rules, checked against its descriptor. */
export interface ServiceRules {
  readonly service: DescService;
  /** The rule of a method by its proto name (e.g. "GetMe"), or undefined if it has none. */
  ruleFor(methodName: string): Rule | undefined;
}

/**
 * Declares the rules of one service. Every method needs one (the type system says so, and this
 * checks it again at startup), and every request field a rule names must exist and hold a
 * string, so a typo fails the process at start instead of failing open or closed later.
 */
export function defineRules<S extends DescService>(service: S, table: RuleTable<S>): ServiceRules {
  const byName = new Map<string, Rule>();
  const rules = table as Readonly<Record<string, Rule | undefined>>;
  for (const method of service.methods) {
    const r = rules[method.localName];
    if (!r) throw new Error(`${service.typeName}.${method.name} has no authorization rule`);
    for (const field of fieldsNamed(r)) stringField(method.input, field, `${service.typeName}.${method.name}`);
    byName.set(method.name, r);
  }
  const known = new Set(service.methods.map((m) => m.localName));
  for (const name of Object.keys(rules)) {
    if (!known.has(name)) throw new Error(`${service.typeName} has a rule for "${name}", which is not one of its methods`);
  }
  return { service, ruleFor: (methodName) => byName.get(methodName) };
}

/** The request fields a rule reads (they must be string fields of the request). */
export function fieldsNamed(r: Rule): string[] {
  if (r.kind === 'circle') return [r.circleField];
  if (r.kind === 'signedIn' && r.hiddenByBlock) return [r.hiddenByBlock];
  if (r.kind === 'internal' && r.selfField) return [r.selfField];
  return [];
}

function stringField(schema: DescMessage, localName: string, where: string) {
  const field = schema.fields.find((f) => f.localName === localName);
  if (!field || field.fieldKind !== 'scalar' || typeof field.scalar !== 'number' || field.scalar !== 9 /* STRING */) {
    throw new Error(`${where}: the rule names "${localName}", which is not a string field of ${schema.typeName}`);
  }
  return field;
}

/** A string field of a request by its local name; undefined when unset or empty. */
export function readField(schema: DescMessage, message: Message, localName: string): string | undefined {
  const field = stringField(schema, localName, schema.typeName);
  const r = reflect(schema, message);
  if (!r.isSet(field)) return undefined;
  const value = r.get(field);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** What the authorization layer knows about one user in one circle. */
export interface CircleAccess {
  /** Undefined when the user is not a member. */
  readonly role: CircleRole | undefined;
  readonly banned: boolean;
  readonly visibility: 'public' | 'private';
  readonly archived: boolean;
  /** Until when the member is muted, if they are (compare with the clock: a past time is no mute). */
  readonly mutedUntil?: Date | undefined;
}

/** Answers circle questions; the circle service answers from its store, others ask it by RPC. */
export interface MembershipSource {
  /** The user's standing in the circle, or undefined when the circle does not exist. */
  membership(circleId: string, userId: string): Promise<CircleAccess | undefined>;
}

/** Answers block questions; the user service answers from its store, others ask it by RPC. */
export interface BlockSource {
  /** The subset of `others` with a block in either direction with `userId`. */
  blockedAmong(userId: string, others: readonly string[]): Promise<ReadonlySet<string>>;
}

export interface AuthorizationSources {
  readonly memberships: MembershipSource;
  readonly blocks: BlockSource;
}

export type Decision =
  | { readonly allow: true }
  /** `field`: the request field at fault, for InvalidArgument (a malformed id the rule reads). */
  | { readonly allow: false; readonly code: Code; readonly message: string; readonly field?: string };

const ALLOW: Decision = { allow: true };
const deny = (code: Code, message: string): Decision => ({ allow: false, code, message });
const malformedId = (field: string): Decision => ({ allow: false, code: Code.InvalidArgument, message: 'value must be a valid UUID', field });
const RANK: Record<CircleRole, number> = { member: 1, host: 2, owner: 3 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Messages are deliberately plain: they say what is missing, never what exists. */
export const DENIED = {
  signIn: 'authentication required',
  role: 'this requires a platform role the caller does not have',
  internal: 'only Hearth services may call this',
  services: 'Hearth services may not call this',
  circleRole: 'this requires a higher role in the circle',
  notMember: 'only members of the circle may do this',
  circleNotFound: 'circle not found',
  userNotFound: 'user not found',
} as const;

/**
 * Decides one call. Private circles are NotFound to non-members (a private circle's existence
 * is itself private); a block hides the other person as NotFound, as if they did not exist.
 */
export async function decide(
  r: Rule,
  caller: Caller | undefined,
  schema: DescMessage,
  message: Message,
  sources: AuthorizationSources,
): Promise<Decision> {
  if (r.kind === 'public') return ALLOW;
  if (!caller) return deny(Code.Unauthenticated, DENIED.signIn);

  if (caller.kind === 'service') {
    if (r.kind === 'internal' || (r.kind === 'signedIn' && r.services)) return ALLOW;
    return deny(Code.PermissionDenied, DENIED.services);
  }
  const { identity } = caller;

  switch (r.kind) {
    case 'internal': {
      if (r.roles && hasAnyRole(identity, r.roles)) return ALLOW;
      if (r.selfField && readField(schema, message, r.selfField) === identity.userId) return ALLOW;
      return deny(Code.PermissionDenied, DENIED.internal);
    }
    case 'signedIn': {
      if (r.roles && !hasAnyRole(identity, r.roles)) return deny(Code.PermissionDenied, DENIED.role);
      const target = r.hiddenByBlock ? readField(schema, message, r.hiddenByBlock) : undefined;
      if (target && !UUID.test(target)) return malformedId(r.hiddenByBlock as string);
      if (target && target !== identity.userId && !isStaff(identity)) {
        const blocked = await sources.blocks.blockedAmong(identity.userId, [target]);
        if (blocked.has(target)) return deny(Code.NotFound, DENIED.userNotFound);
      }
      return ALLOW;
    }
    case 'circle': {
      const circleId = readField(schema, message, r.circleField);
      // protovalidate runs after this step; a malformed id must not reach the sources.
      if (!circleId || !UUID.test(circleId)) return malformedId(r.circleField);
      if (r.moderators && isStaff(identity)) return ALLOW;
      const access = await sources.memberships.membership(circleId, identity.userId);
      if (!access) return deny(Code.NotFound, DENIED.circleNotFound);
      if (access.role === undefined) {
        if (access.visibility === 'private') return deny(Code.NotFound, DENIED.circleNotFound);
        return r.level === 'visible' ? ALLOW : deny(Code.PermissionDenied, DENIED.notMember);
      }
      if (r.level === 'visible' || RANK[access.role] >= RANK[r.level]) return ALLOW;
      return deny(Code.PermissionDenied, DENIED.circleRole);
    }
  }
}
