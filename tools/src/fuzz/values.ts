import { type JsonValue, ScalarType } from '@bufbuild/protobuf';
import type { FieldRules } from '@hearth/contracts/gen/buf/validate/validate_pb.js';
import { RawJson, type Value } from './json.js';
import { type Kind, ruleNumber } from './schema.js';
import type { Variant } from './texts.js';

const v = (name: string, value: Value, extra: Partial<Variant<Value>> = {}): Variant<Value> => ({ name, value: () => value, ...extra });
const raw = (text: string) => new RawJson(text);
const INT64 = [ScalarType.INT64, ScalarType.SINT64, ScalarType.SFIXED64];
const UINT64 = [ScalarType.UINT64, ScalarType.FIXED64];
const UINT32 = [ScalarType.UINT32, ScalarType.FIXED32];
const FLOAT = [ScalarType.FLOAT, ScalarType.DOUBLE];

/** JSON of the wrong type for the slot: what a buggy or hostile client sends. */
export function wrongTypes(kind: Kind, isItem: boolean): Variant<Value>[] {
  const any = [v('null', null), v('array', []), v('object', {})];
  const nullItem = isItem ? [v('null list item', null)] : [];
  switch (kind.kind) {
    case 'list':
      return [v('string for a list', 'x'), v('object for a list', {}), v('number for a list', 1), v('nested list', [[]]), v('list of objects', [{}]), v('null', null)];
    case 'map':
      return [v('list for a map', []), v('string for a map', 'x'), v('object value', { k: {} }), v('null value', { k: null }), v('null', null)];
    case 'enum':
      return [...any, ...nullItem, v('boolean for an enum', true), v('fraction for an enum', 1.5), v('empty string for an enum', '')];
    case 'message':
      if (kind.message.typeName === 'google.protobuf.Timestamp') return [v('number for a timestamp', 1_700_000_000), v('object for a timestamp', { seconds: 1 }), ...nullItem];
      if (kind.message.typeName === 'google.protobuf.Duration') return [v('number for a duration', 3600), v('object for a duration', { seconds: 1 }), ...nullItem];
      return [v('string for a message', 'x'), v('number for a message', 1), v('list for a message', [{}]), v('boolean for a message', true), ...nullItem];
    case 'scalar':
      if (kind.scalar === ScalarType.STRING || kind.scalar === ScalarType.BYTES) {
        const bytes = kind.scalar === ScalarType.BYTES ? [v('not base64', '!!not base64!!')] : [];
        return [...any, ...nullItem, ...bytes, v('number for a string', 42), v('boolean for a string', true), v('list of strings', ['a', 'b'])];
      }
      if (kind.scalar === ScalarType.BOOL) return [...any, ...nullItem, v('string for a bool', 'yes'), v('number for a bool', 1), v('quoted bool', 'true')];
      return [...any, ...nullItem, v('word for a number', 'abc'), v('empty string for a number', ''), v('boolean for a number', true), v('two numbers', '1 2')];
  }
}

/** Enum values the enum does not define: unknown names must be refused, never dropped. */
export function enumOddities(kind: Kind, rules: FieldRules | undefined): Variant<Value>[] {
  if (kind.kind !== 'enum') return [];
  const e = kind.enum;
  const prefix = e.values[0]?.name.replace(/_UNSPECIFIED$/, '') ?? 'ENUM';
  const known = e.values.find((x) => x.number !== 0) ?? e.values[0];
  const r = rules?.type.case === 'enum' ? rules.type.value : undefined;
  // An undefined number is refused by protovalidate only where the rule asks for defined values.
  const strict = r?.definedOnly === true || (r?.in.length ?? 0) > 0;
  return [
    v('unknown enum name', `${prefix}_FUZZ_UNKNOWN`, { mustRefuse: true, first: true }),
    v('lower-case enum name', known?.name.toLowerCase() ?? 'x', { mustRefuse: true }),
    v('enum name with NUL', `${known?.name ?? 'X'}\u0000`, { mustRefuse: true }),
    v('enum name of another enum', 'ROLE_ADMIN_FUZZ', { mustRefuse: true }),
    v('enum number 9999', 9999, { mustRefuse: strict }),
    v('enum number -1', -1, { mustRefuse: strict }),
    v('enum number 2^31 - 1', 2_147_483_647, { mustRefuse: strict }),
    v('enum number 2^31', 2_147_483_648, { mustRefuse: true }),
    v('enum number 0 (unspecified)', 0),
  ];
}

/** Numbers, times, durations and list sizes at and past their limits. */
export function boundaries(kind: Kind, rules: FieldRules | undefined, valid: JsonValue | undefined): Variant<Value>[] {
  switch (kind.kind) {
    case 'list': {
      const r = rules?.type.case === 'repeated' ? rules.type.value : undefined;
      const item = Array.isArray(valid) ? valid[0] : undefined;
      const out = [v('empty list', []), { name: '10,000 items', value: () => Array.from({ length: 10_000 }, () => item ?? null) }];
      if (item !== undefined) out.push(v('duplicate items', [item, item]));
      const maxItems = ruleNumber(r, 'maxItems');
      if (maxItems !== undefined) {
        const n = maxItems + 1;
        out.push({ name: `max_items ${maxItems} + 1 distinct`, value: () => Array.from({ length: n }, (_, i) => distinctLike(item, i)) });
      }
      return out;
    }
    case 'map':
      return [v('empty map', {}), { name: '10,000 entries', value: () => Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, null])) }];
    case 'message':
      if (kind.message.typeName === 'google.protobuf.Timestamp') return TIMESTAMPS.map((t) => v(`timestamp ${t}`, t));
      if (kind.message.typeName === 'google.protobuf.Duration') return DURATIONS.map((d) => v(`duration ${d}`, d));
      return [deepNesting()];
    case 'enum':
      return [];
    case 'scalar':
      return numbers(kind.scalar, rules);
  }
}

/** A value nested far deeper than any request: parsers that recurse must refuse it, not fall over. */
export function deepNesting(depth = 10_000): Variant<Value> {
  return { name: `nested ${depth} deep`, value: () => raw(`${'['.repeat(depth)}${']'.repeat(depth)}`) };
}

const TIMESTAMPS = [
  '0001-01-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999999999Z',
  '10000-01-01T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '2030-02-30T00:00:00Z',
  '2030-01-01T24:00:00Z',
  '2030-01-01T00:00:00+25:00',
  'now',
];
const DURATIONS = ['0s', '-1s', '315576000000s', '315576000001s', '-315576000001s', '1.0000000001s', '9223372036854775807s', 'NaNs', '1h'];

function numbers(scalar: ScalarType, rules: FieldRules | undefined): Variant<Value>[] {
  if (scalar === ScalarType.STRING || scalar === ScalarType.BYTES || scalar === ScalarType.BOOL) return [];
  const common = [v('NaN as a string', 'NaN'), v('Infinity as a string', 'Infinity'), v('-Infinity as a string', '-Infinity'), v('zero', 0), v('-1', -1)];
  const bounds = ruleBounds(rules).map((n) => v(`rule bound ${n}`, n));
  if (FLOAT.includes(scalar)) {
    return [...common, ...bounds, v('1e309 (past double)', raw('1e309')), v('3.5e38 (past float)', 3.5e38), v('5e-324', 5e-324), v('-0', raw('-0'))];
  }
  const ints = [v('fraction', 1.5), v('exponent form', '1e3'), v('hex', '0x10'), v('padded', ' 7 '), v('-0', raw('-0'))];
  if (INT64.includes(scalar) || UINT64.includes(scalar)) {
    return [
      ...common,
      ...bounds,
      ...ints,
      v('2^63 - 1', '9223372036854775807'),
      v('2^63', '9223372036854775808'),
      v('-2^63 - 1', '-9223372036854775809'),
      v('2^64', '18446744073709551616'),
      v('2^64 as a JSON number', raw('18446744073709551616')),
      v('2^53 + 1 as a JSON number', raw('9007199254740993')),
    ];
  }
  const u32 = UINT32.includes(scalar);
  return [
    ...common,
    ...bounds,
    ...ints,
    v('2^31 - 1', 2_147_483_647),
    v('2^31', 2_147_483_648),
    v('-2^31 - 1', -2_147_483_649),
    v(u32 ? '2^32' : '2^32 (past int32)', 4_294_967_296),
    v('2^63 - 1', raw('9223372036854775807')),
    v('2^64', raw('18446744073709551616')),
  ];
}

/** The numbers just outside the rule's range: where off-by-one bugs live. */
function ruleBounds(rules: FieldRules | undefined): number[] {
  const t = rules?.type;
  if (!t?.value || typeof t.value !== 'object' || !('lessThan' in t.value) || !('greaterThan' in t.value)) return [];
  const r = t.value as { lessThan: { value?: unknown }; greaterThan: { value?: unknown } };
  const out: number[] = [];
  for (const b of [r.greaterThan.value, r.lessThan.value]) {
    if (typeof b === 'number' || typeof b === 'bigint') out.push(Number(b) - 1, Number(b), Number(b) + 1);
  }
  return out;
}

/** The i-th of a list of items that differ, shaped like `item` (ids stay UUID-shaped). */
function distinctLike(item: JsonValue | undefined, i: number): JsonValue {
  if (typeof item === 'string' && /^[0-9a-f-]{36}$/.test(item)) return `${item.slice(0, 24)}${i.toString(16).padStart(12, '0')}`;
  if (typeof item === 'string') return `${item}${i}`;
  return item ?? i;
}
