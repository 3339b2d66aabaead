import type { JsonObject } from '@bufbuild/protobuf';
import type { Body } from './bodies.js';
import { json, place } from './cases.js';
import { codeOf, describeOutcome, excerpt } from './classify.js';
import type { Outcome } from './http.js';
import { valueAt } from './json.js';
import { type Slot, holdsUuid } from './schema.js';
import { type Ids, idFor } from './valid.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Enough to cover every id field of today's requests (at most three) without a long tail. */
const MAX_SLOTS = 6;

export interface CaseIdCheck {
  readonly target: string;
  /** Set when the upper-case spelling was answered differently. */
  readonly mismatch?: { readonly variant: string; readonly target: string; readonly request: string; readonly answer: string };
}

/**
 * Ids are case-insensitive in meaning (RFC 9562) and canonical in lower case: the upper-case
 * spelling of a real id the caller has must get the same answer as the lower-case one (same
 * code, and the same result where the RPC answers the same thing twice). Sent lower, upper,
 * lower, all three from the same request: a state change by the first call (an archive, a
 * leave) shows as lower != lower, and then the upper-case answer only has to match one of them.
 */
export async function checkCaseChangedIds(
  base: JsonObject,
  slots: readonly Slot[],
  ids: Ids,
  send: (build: (b: JsonObject) => Body, target: string) => Promise<Outcome>,
): Promise<CaseIdCheck[]> {
  const out: CaseIdCheck[] = [];
  for (const slot of slots.filter(holdsUuid).slice(0, MAX_SLOTS)) {
    const current = valueAt(base, slot.path);
    const real = typeof current === 'string' && UUID.test(current) ? current : idFor(slot.field, ids);
    const lower = json(place(base, slot, real.toLowerCase()));
    const upper = json(place(base, slot, real.toUpperCase()));
    const first = await send(() => lower, slot.label);
    const changed = await send(() => upper, slot.label);
    const again = await send(() => lower, slot.label);
    const variant = compare(first, changed, again);
    out.push({
      target: slot.label,
      ...(variant && { mismatch: { variant, target: slot.label, request: excerpt(upper), answer: `upper ${describeOutcome(changed)}; lower ${describeOutcome(first)}` } }),
    });
  }
  return out;
}

function compare(first: Outcome, changed: Outcome, again: Outcome): string | undefined {
  const [a, b, c] = [codeOf(first), codeOf(changed), codeOf(again)];
  if (b !== a && b !== c) return `upper-case id answered ${b}, lower-case ${a}`;
  const bodies = [first, changed, again].map((o) => (o.kind === 'answer' ? o.body : ''));
  // Only an RPC that answered the lower-case spelling the same way twice can be held to it.
  if (a === 'ok' && b === 'ok' && c === 'ok' && bodies[0] === bodies[2] && bodies[1] !== bodies[0]) return 'same code, different result';
  return undefined;
}
