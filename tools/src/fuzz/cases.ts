import { type DescMessage, type JsonObject, type JsonValue, ScalarType } from '@bufbuild/protobuf';
import { baselineBytes, binaryBodies } from './binary.js';
import { type Body, JSON_TYPE, PROTO_TYPE, malformedBodies, withRawMembers } from './bodies.js';
import { type Path, type Value, toJsonText, valueAt, withValue } from './json.js';
import { forgedPageTokens } from './page-tokens.js';
import type { Rng } from './prng.js';
import { type Slot, isPageToken, slotsOf } from './schema.js';
import { type Variant, lengthBoundaries, oddTexts } from './texts.js';
import { type Ids, validValue } from './valid.js';
import { boundaries, deepNesting, enumOddities, wrongTypes } from './values.js';

/** The classes of bad input, each generated per field from the descriptors. */
export const CASE_CLASSES = ['text', 'wrong-type', 'boundary', 'enum', 'unknown-field', 'page-token', 'binary', 'body'] as const;
export type CaseClass = (typeof CASE_CLASSES)[number];

/** One request to send. */
export interface Case {
  readonly klass: CaseClass | 'baseline' | 'case-changed ids';
  readonly variant: string;
  /** The field it spoils, in proto names, or "(body)". */
  readonly target: string;
  /**
   * The body, built at send time from the valid-shape request as it stands then (fresh
   * idempotency keys, the version the last success left), so a case is not an idempotent
   * replay or a stale write that stops before the store.
   */
  readonly build: (base: JsonObject) => Body;
  readonly anonymous: boolean;
  /** A handler must never see this request: the value cannot have been understood. */
  readonly mustRefuse: boolean;
}

type Candidate = Variant<Body, [JsonObject]> & { readonly klass: CaseClass; readonly target: string };

export interface CaseOptions {
  readonly rng: Rng;
  /** Cases to draw for this RPC. */
  readonly budget: number;
  /** The share of cases sent without a token. */
  readonly anonymousShare: number;
  readonly ids: Ids;
  /** A next_page_token the baseline call returned, to forge from. */
  readonly issuedPageToken?: string;
}

// Draws per class per round: text and page tokens are where issue 9 found most.
const WEIGHTS: Readonly<Record<CaseClass, number>> = { text: 3, 'wrong-type': 2, boundary: 2, enum: 1, 'unknown-field': 1, 'page-token': 3, binary: 2, body: 1 };

export const json = (value: Value): Body => ({ bytes: Buffer.from(toJsonText(value), 'utf8'), headers: { 'content-type': JSON_TYPE } });

/** Draws `budget` cases for one RPC from every class that applies to its request message. */
export function casesFor(input: DescMessage, baseline: JsonObject, opts: CaseOptions): Case[] {
  const pools = candidates(input, baseline, opts);
  // Per class: the `first` variants (shuffled) before the rest (shuffled), so a small budget
  // still hits every field with the inputs issue 9 named.
  const queues = new Map<CaseClass, Candidate[]>(
    CASE_CLASSES.map((k) => {
      const pool = pools.filter((c) => c.klass === k);
      return [k, [...opts.rng.shuffle(pool.filter((c) => c.first)), ...opts.rng.shuffle(pool.filter((c) => !c.first))]];
    }),
  );
  const round = CASE_CLASSES.flatMap((k) => Array<CaseClass>(WEIGHTS[k]).fill(k));
  const out: Case[] = [];
  while (out.length < opts.budget && [...queues.values()].some((q) => q.length > 0)) {
    for (const k of round) {
      const next = queues.get(k)?.shift();
      if (!next || out.length >= opts.budget) continue;
      out.push({ klass: k, variant: next.name, target: next.target, build: next.value, anonymous: opts.rng.chance(opts.anonymousShare), mustRefuse: next.mustRefuse ?? false });
    }
  }
  return out;
}

function candidates(input: DescMessage, baseline: JsonObject, opts: CaseOptions): Candidate[] {
  const { rng, ids } = opts;
  const slots = slotsOf(input, baseline);
  const out: Candidate[] = [];
  const add = (klass: CaseClass, target: string, variants: readonly Variant<Body, [JsonObject]>[]) => out.push(...variants.map((v) => ({ ...v, klass, target })));
  const atSlot = <T extends Value>(slot: Slot, variants: readonly Variant<T>[]) =>
    variants.map((v): Variant<Body, [JsonObject]> => ({ ...v, value: (base) => json(place(base, slot, v.value())) }));
  const marker = slots.find((s) => s.kind.kind === 'scalar' && s.kind.scalar === ScalarType.STRING && s.mapKey === undefined);

  for (const slot of slots) {
    const isItem = typeof slot.path[slot.path.length - 1] === 'number';
    const valid = valueAt(baseline, slot.path) ?? validValue(slot.field, slot.kind, slot.rules, ids, rng, 0);
    add('wrong-type', slot.label, atSlot(slot, slot.mapKey === undefined ? wrongTypes(slot.kind, isItem) : []));
    add('enum', slot.label, atSlot(slot, enumOddities(slot.kind, slot.rules)));
    add('boundary', slot.label, atSlot(slot, [...boundaries(slot.kind, slot.rules, valid), ...(isItem || slot.kind.kind === 'list' ? [deepNesting()] : [])]));
    if (slot.kind.kind === 'scalar' && slot.kind.scalar === ScalarType.STRING) {
      const text = typeof valid === 'string' ? valid : (slot.mapKey ?? '');
      if (isPageToken(slot)) add('page-token', slot.label, atSlot(slot, forgedPageTokens(rng, opts.issuedPageToken)));
      add('text', slot.label, atSlot(slot, oddTexts(text)));
      add('boundary', slot.label, atSlot(slot, lengthBoundaries(slot.rules)));
    }
    if (slot.kind.kind === 'message' && valid && typeof valid === 'object' && !Array.isArray(valid)) {
      add('unknown-field', slot.label, atSlot(slot, [{ name: 'unknown field in a nested message', value: () => ({ ...valid, fuzzUnknownField: 1 }) }]));
    }
  }

  const raw = (name: string, members: string | ((base: JsonObject) => string), first = false): Variant<Body, [JsonObject]> => ({
    name,
    first,
    value: (base) => ({ bytes: Buffer.from(withRawMembers(toJsonText(base), typeof members === 'string' ? members : members(base))), headers: { 'content-type': JSON_TYPE } }),
  });
  const both = slots.find((s) => s.path.length === 1 && s.field.name !== s.field.jsonName && baseline[s.field.jsonName] !== undefined);
  add('unknown-field', '(body)', [
    raw('unknown field', '"fuzzUnknownField":1', true),
    raw('__proto__ member', '"__proto__":{"isAdmin":true,"roles":["ROLE_ADMIN"]}'),
    raw('constructor member', '"constructor":{"prototype":{"isAdmin":true}}'),
    raw('NUL as a key', '"\\u0000":1'),
    raw('@type member', '"@type":"type.googleapis.com/google.protobuf.Empty"'),
    ...(both ? [raw('proto name and JSON name both set', (base) => `"${both.field.name}":${JSON.stringify(base[both.field.jsonName] ?? null)}`)] : []),
  ]);
  add(
    'body',
    '(body)',
    malformedBodies().map((v) => ({ ...v, value: (base: JsonObject) => v.value(toJsonText(base), marker ? toJsonText(place(base, marker, 'FUZZMARK')) : undefined) })),
  );

  const valid = baselineBytes(input, baseline);
  add('binary', '(body)', [
    ...binaryBodies(valid, rng).map((v): Variant<Body, [JsonObject]> => ({ ...v, value: () => ({ bytes: v.value(), headers: { 'content-type': PROTO_TYPE } }) })),
    { name: 'JSON sent as protobuf', value: (base) => ({ bytes: Buffer.from(toJsonText(base)), headers: { 'content-type': PROTO_TYPE } }) },
    ...(valid ? [{ name: 'protobuf sent as JSON', value: (): Body => ({ bytes: valid, headers: { 'content-type': JSON_TYPE } }) }] : []),
  ]);
  return out;
}

/**
 * The request with `value` at the slot: for a map key, the entry renamed; for a oneof member,
 * the other members of its oneof removed so the case tests this member alone.
 */
export function place(base: JsonObject, slot: Slot, value: Value): { [key: string]: Value } {
  if (slot.mapKey !== undefined) {
    const map = valueAt(base, slot.path) as JsonObject;
    const entry = map[slot.mapKey] as JsonValue;
    const key = typeof value === 'string' ? value : toJsonText(value);
    return withValue(base, slot.path, Object.fromEntries([[key, entry]]) as JsonObject);
  }
  let body: JsonObject = base;
  const oneof = slot.field.oneof;
  if (oneof) {
    const parent: Path = slot.path.slice(0, typeof slot.path[slot.path.length - 1] === 'number' ? -2 : -1);
    for (const sibling of oneof.fields) if (sibling !== slot.field) body = withValue(body, [...parent, sibling.jsonName], undefined) as JsonObject;
  }
  return withValue(body, slot.path, value);
}
