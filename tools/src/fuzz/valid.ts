import { type DescField, type DescMessage, type JsonObject, type JsonValue, ScalarType } from '@bufbuild/protobuf';
import type { FieldRules } from '@hearth/contracts/gen/buf/validate/validate_pb.js';
import type { Rng } from './prng.js';
import { type Kind, isWellKnown, kindOf, ruleNumber, rulesOf } from './schema.js';

/**
 * What the signed-in caller legitimately has: their id, a circle they own, and their own
 * sign-in (so that Login and Register cases get past the password check to the store).
 */
export interface Ids {
  readonly userId: string;
  readonly circleId: string;
  readonly email: string;
  readonly password: string;
}

const MAX_DEPTH = 4;

/**
 * A valid-shape request: every field set (the first member of each oneof) to a value its
 * protovalidate rules accept where a generator can know them, and ids to the caller's real
 * ones, so that a case which breaks one field leaves the rest able to reach the handler and
 * the store. It is the baseline each case departs from.
 */
export function baselineOf(message: DescMessage, ids: Ids, rng: Rng, depth = 0): JsonObject {
  const out: JsonObject = {};
  const oneofs = new Set<string>();
  for (const field of message.fields) {
    if (field.oneof) {
      if (oneofs.has(field.oneof.name)) continue;
      oneofs.add(field.oneof.name);
    }
    const value = validValue(field, kindOf(field), rulesOf(field), ids, rng, depth);
    if (value !== undefined) out[field.jsonName] = value;
  }
  return out;
}

// What the generator writes where any text will do: fuzz-<hex> and fuzz_<hex>.
const FREE_TEXT = /^(fuzz[-_])([0-9a-f]+)$/;

/**
 * The request with every generated free text (names, handles, idempotency keys) drawn again, so
 * that each case creates afresh instead of replaying an idempotent create. Ids, codes and
 * patterns stay as they are.
 */
export function freshen<T extends JsonValue>(value: T, rng: Rng, ids: Ids): T {
  if (typeof value === 'string') {
    // Half the cases sign up or sign in as someone new: Register then creates an account
    // instead of signing in, and both paths are walked.
    if (value === ids.email) return (rng.chance(0.5) ? value : `fuzz.${rng.hex(10)}@example.org`) as T;
    const m = FREE_TEXT.exec(value);
    return (m ? `${m[1]}${rng.hex((m[2] as string).length)}` : value) as T;
  }
  if (Array.isArray(value)) return value.map((v) => freshen(v, rng, ids)) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, freshen(v, rng, ids)])) as T;
  return value;
}

/** The id a field names: the circle for circle fields, the caller for everything else. */
export function idFor(field: DescField, ids: Ids): string {
  return /circle/.test(field.name) ? ids.circleId : ids.userId;
}

export function validValue(field: DescField, kind: Kind, rules: FieldRules | undefined, ids: Ids, rng: Rng, depth: number): JsonValue | undefined {
  switch (kind.kind) {
    case 'list': {
      const r = rules?.type.case === 'repeated' ? rules.type.value : undefined;
      const count = Math.max(1, ruleNumber(r, 'minItems') ?? 0);
      const items: JsonValue[] = [];
      for (let i = 0; i < count; i++) {
        const item = validValue(field, kind.of, r?.items, ids, rng, depth);
        if (item !== undefined) items.push(item);
      }
      return items;
    }
    case 'map': {
      const r = rules?.type.case === 'map' ? rules.type.value : undefined;
      const key = validValue(field, { kind: 'scalar', scalar: kind.key }, r?.keys, ids, rng, depth);
      const value = validValue(field, kind.value, r?.values, ids, rng, depth);
      return value === undefined ? {} : { [String(key)]: value };
    }
    case 'enum': {
      const r = rules?.type.case === 'enum' ? rules.type.value : undefined;
      const allowed = kind.enum.values.filter((v) => (r?.in.length ? r.in.includes(v.number) : v.number !== 0 && !r?.notIn.includes(v.number)));
      return (allowed[0] ?? kind.enum.values[0])?.name ?? 0;
    }
    case 'message':
      if (isWellKnown(kind.message)) return wellKnownValue(kind.message, rules, ids, field, rng);
      return depth < MAX_DEPTH ? baselineOf(kind.message, ids, rng, depth + 1) : undefined;
    case 'scalar':
      return scalarValue(field, kind.scalar, rules, ids, rng);
  }
}

function scalarValue(field: DescField, scalar: ScalarType, rules: FieldRules | undefined, ids: Ids, rng: Rng): JsonValue {
  switch (scalar) {
    case ScalarType.STRING:
      return stringValue(field, rules, ids, rng);
    case ScalarType.BOOL:
      return false;
    case ScalarType.BYTES:
      return Buffer.from(`fuzz-${rng.hex(8)}`).toString('base64');
    default: {
      const n = numberWithin(rules, 1);
      const is64 = [ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64].includes(scalar);
      return is64 ? String(n) : n;
    }
  }
}

/** `preferred` moved into the rule's range (and onto its `in` list, if it has one). */
export function numberWithin(rules: FieldRules | undefined, preferred: number): number {
  const t = rules?.type;
  if (!t?.value || typeof t.value !== 'object' || !('lessThan' in t.value) || !('greaterThan' in t.value)) return preferred;
  const r = t.value as { in: (number | bigint)[]; lessThan: { case?: string; value?: unknown }; greaterThan: { case?: string; value?: unknown } };
  if (r.in.length > 0) return Number(r.in[0]);
  let n = preferred;
  const lo = r.greaterThan.value;
  const hi = r.lessThan.value;
  if (typeof lo === 'number' || typeof lo === 'bigint') n = Math.max(n, Number(lo) + (r.greaterThan.case === 'gt' ? 1 : 0));
  if (typeof hi === 'number' || typeof hi === 'bigint') n = Math.min(n, Number(hi) - (r.lessThan.case === 'lt' ? 1 : 0));
  return n;
}

function stringValue(field: DescField, rules: FieldRules | undefined, ids: Ids, rng: Rng): string {
  const r = rules?.type.case === 'string' ? rules.type.value : undefined;
  // The first page: a token of our own making would be refused before the list is read.
  if (field.name === 'page_token') return '';
  if (r?.in.length) return r.in[0] as string;
  if (r?.wellKnown.case === 'uuid' || /(^|_)ids?$/.test(field.name)) return idFor(field, ids);
  // Only `password` itself: a right `current_password` would let ChangePassword cases change it.
  if (field.name === 'password') return ids.password;
  switch (r?.wellKnown.case) {
    case 'email':
      return ids.email;
    case 'uri':
    case 'uriRef':
      return 'https://example.org/fuzz';
    case 'hostname':
    case 'address':
      return 'example.org';
    case 'ip':
    case 'ipv4':
      return '192.0.2.1';
    case 'ipv6':
      return '2001:db8::1';
    default:
      break;
  }
  if (r?.pattern) {
    const matching = patternCandidates(rng).find((c) => matches(r.pattern as string, c));
    if (matching !== undefined) return matching;
  }
  const min = ruleNumber(r, 'minLen') ?? ruleNumber(r, 'minBytes') ?? 0;
  const max = ruleNumber(r, 'maxLen') ?? ruleNumber(r, 'maxBytes') ?? 64;
  const length = Math.min(Math.max(12, min), max);
  const text = `fuzz-${rng.hex(Math.max(length, 8))}`.slice(0, length);
  return `${r?.prefix ?? ''}${text}${r?.contains ?? ''}${r?.suffix ?? ''}`;
}

/**
 * Strings that fit the patterns ADR 0003 fields use (handles, invite codes, PKCE values,
 * region and language codes, phone numbers, slugs), random where they may be, so that one
 * RPC's valid handle is never another's (a DeleteAccount must not confirm an UpdateProfile).
 */
function patternCandidates(rng: Rng): string[] {
  const alnum = (n: number) => {
    const chars = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
    return `f${Array.from({ length: n - 1 }, () => chars[rng.int(chars.length)]).join('')}`;
  };
  return [`fuzz_${rng.hex(8)}`, alnum(12), alnum(8), alnum(43), alnum(64), `fuzz-${rng.hex(6)}`, 'US', 'en', 'en-US', '+1 555 0100', alnum(3), alnum(30), 'x'];
}

function matches(pattern: string, s: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(s);
  } catch {
    return false; // RE2 syntax JavaScript does not know; fall back to a plain string
  }
}

function wellKnownValue(message: DescMessage, rules: FieldRules | undefined, ids: Ids, field: DescField, rng: Rng): JsonValue | undefined {
  switch (message.typeName) {
    case 'google.protobuf.Timestamp':
      return rules?.type.case === 'timestamp' && rules.type.value.lessThan.case === 'ltNow' ? '2020-01-01T00:00:00Z' : '2030-01-01T00:00:00Z';
    case 'google.protobuf.Duration': {
      const r = rules?.type.case === 'duration' ? rules.type.value : undefined;
      let s = 3600;
      if (r?.greaterThan.value) s = Math.max(s, Number(r.greaterThan.value.seconds) + (r.greaterThan.case === 'gt' ? 1 : 0));
      if (r?.lessThan.value) s = Math.min(s, Number(r.lessThan.value.seconds) - (r.lessThan.case === 'lt' ? 1 : 0));
      return `${s}s`;
    }
    case 'google.protobuf.FieldMask':
      return '';
    case 'google.protobuf.Struct':
    case 'google.protobuf.Empty':
      return {};
    case 'google.protobuf.ListValue':
      return [];
    case 'google.protobuf.Value':
      return 'fuzz';
    case 'google.protobuf.Any':
      return undefined; // needs a type registry entry; left unset
    default: {
      // The wrappers: the JSON form is the wrapped scalar.
      const value = message.fields.find((f) => f.name === 'value');
      return value?.fieldKind === 'scalar' ? scalarValue(field, value.scalar, rules, ids, rng) : undefined;
    }
  }
}
