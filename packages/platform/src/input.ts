import { type DescField, type DescMessage, ScalarType, getOption, hasOption } from '@bufbuild/protobuf';
import type { Path } from '@bufbuild/protobuf/reflect';
import type { Interceptor } from '@connectrpc/connect';
import { field as fieldRules } from '@bufbuild/protovalidate/gen/buf/validate/validate_pb.js';
import type { Violation } from '@bufbuild/protovalidate';
import { fieldError, violationAt } from '@hearth/authz';
import { canonicalUuid } from '@hearth/db';

/**
 * The input step of every RPC (after authentication, before authorization and protovalidate):
 * - text Postgres cannot store, or that is not text at all, is refused for every string field
 *   of every request, at any depth: NUL (U+0000) and unpaired UTF-16 surrogates. Both pass
 *   protovalidate's length rules and would otherwise fail in the database as `internal`, or be
 *   accepted by one RPC and then fail a job forever.
 * - every id is put in its one spelling: a string field whose rule is `string.uuid` (or whose
 *   items or map values are) is lower-cased when it is a UUID in any case, so no service ever
 *   compares two spellings of one id. Malformed ids are left for the rules to refuse.
 * Violations are InvalidArgument with details, like protovalidate's (fieldError).
 */
export function inputInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      const violations: Violation[] = [];
      normalize(planFor(req.method.input), req.message as unknown as Record<string, unknown>, [], violations);
      if (violations.length > 0) throw fieldError(violations);
    }
    return next(req);
  };
}

const TEXT_RULE = 'hearth.text';
const TEXT_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

/** Whether a string can be stored as Postgres text: no NUL, well-formed UTF-16. */
export function isStorableText(s: string): boolean {
  return s.isWellFormed() && !s.includes('\0');
}

interface FieldPlan {
  readonly field: DescField;
  /** Scalar string, or list/map of strings: check (and maybe canonicalise) the strings. */
  readonly strings: boolean;
  /** The strings are ids (`string.uuid`). */
  readonly uuid: boolean;
  /** Map keys are strings. */
  readonly stringKeys: boolean;
  /** Nested messages to walk (singular, list items or map values). */
  readonly message: Plan | undefined;
}
interface Plan {
  readonly fields: FieldPlan[];
}

// One plan per message type, built on first use and kept: a request only walks the fields that
// can hold text, and a message type without any costs one lookup.
const plans = new WeakMap<DescMessage, Plan>();
const EMPTY: Plan = { fields: [] };

function planFor(desc: DescMessage, building = new Set<DescMessage>()): Plan {
  const known = plans.get(desc);
  if (known) return known;
  // A recursive type: walk it through the plan being built (filled in below).
  const plan: Plan = { fields: [] };
  if (building.has(desc)) return plan;
  building.add(desc);
  for (const field of desc.fields) {
    const strings =
      (field.fieldKind === 'scalar' || field.fieldKind === 'list' || field.fieldKind === 'map') && field.scalar === ScalarType.STRING;
    const stringKeys = field.fieldKind === 'map' && field.mapKey === ScalarType.STRING;
    const nested = field.message && !isWellKnownWithoutText(field.message) ? planFor(field.message, building) : undefined;
    const message = nested && nested.fields.length > 0 ? nested : undefined;
    if (strings || stringKeys || message) plan.fields.push({ field, strings, stringKeys, uuid: strings && isUuidField(field), message });
  }
  building.delete(desc);
  const result = plan.fields.length > 0 ? plan : EMPTY;
  plans.set(desc, result);
  return result;
}

// Timestamps, durations, wrappers of numbers: no text inside.
function isWellKnownWithoutText(desc: DescMessage): boolean {
  return desc.typeName === 'google.protobuf.Timestamp' || desc.typeName === 'google.protobuf.Duration';
}

function isUuidField(field: DescField): boolean {
  if (!hasOption(field, fieldRules)) return false;
  const rules = getOption(field, fieldRules);
  const t = rules.type;
  const isUuid = (r: typeof rules | undefined): boolean => r?.type.case === 'string' && r.type.value.wellKnown.case === 'uuid';
  if (isUuid(rules)) return true;
  if (t.case === 'repeated') return isUuid(t.value.items);
  if (t.case === 'map') return isUuid(t.value.values);
  return false;
}

function normalize(plan: Plan, msg: Record<string, unknown>, path: Path, out: Violation[]): void {
  for (const p of plan.fields) {
    const { field } = p;
    const holder = field.oneof ? (msg[field.oneof.localName] as { case?: string; value?: unknown } | undefined) : undefined;
    if (field.oneof && holder?.case !== field.localName) continue;
    const value = holder ? holder.value : msg[field.localName];
    if (value === undefined || value === null) continue;
    const at = [...path, field];
    switch (field.fieldKind) {
      case 'scalar': {
        const fixed = text(value as string, p.uuid, at, out);
        if (fixed !== value) {
          if (holder) holder.value = fixed;
          else msg[field.localName] = fixed;
        }
        break;
      }
      case 'message':
        if (p.message) normalize(p.message, value as Record<string, unknown>, at, out);
        break;
      case 'list': {
        const list = value as unknown[];
        for (let i = 0; i < list.length; i++) {
          const item = [...at, { kind: 'list_sub' as const, index: i }];
          if (p.strings) list[i] = text(list[i] as string, p.uuid, item, out);
          else if (p.message) normalize(p.message, list[i] as Record<string, unknown>, item, out);
        }
        break;
      }
      case 'map': {
        const map = value as Record<string, unknown>;
        for (const key of Object.keys(map)) {
          const entry = [...at, { kind: 'map_sub' as const, key }];
          if (p.stringKeys && !isStorableText(key)) out.push(violationAt(entry, TEXT_RULE, `key ${TEXT_MESSAGE}`));
          if (p.strings) map[key] = text(map[key] as string, p.uuid, entry, out);
          else if (p.message) normalize(p.message, map[key] as Record<string, unknown>, entry, out);
        }
        break;
      }
    }
  }
}

function text(value: string, uuid: boolean, path: Path, out: Violation[]): string {
  if (!isStorableText(value)) {
    out.push(violationAt(path, TEXT_RULE, TEXT_MESSAGE));
    return value;
  }
  return uuid ? (canonicalUuid(value) ?? value) : value;
}
