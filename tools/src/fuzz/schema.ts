import { type DescEnum, type DescField, type DescMessage, type DescMethod, type DescService, type JsonObject, ScalarType, getOption, isFieldSet } from '@bufbuild/protobuf';
import { type FieldRules, field as fieldRulesOption, file_buf_validate_validate } from '@hearth/contracts/gen/buf/validate/validate_pb.js';
import type { Path } from './json.js';

/** One RPC to walk, found in the service descriptors (never listed by hand). */
export interface Rpc {
  readonly service: DescService;
  readonly method: DescMethod;
  /** The HTTP path: /hearth.circle.v1.CircleService/GetCircle */
  readonly path: string;
  /** For reports: CircleService.GetCircle */
  readonly name: string;
}

export function everyRpc(services: Iterable<DescService>): Rpc[] {
  return [...services].flatMap((service) =>
    service.methods.map((method) => ({ service, method, path: `/${service.typeName}/${method.name}`, name: `${service.name}.${method.name}` })),
  );
}

/** What one place in a request holds. Well-known types (Timestamp, Duration, ...) are leaves. */
export type Kind =
  | { readonly kind: 'scalar'; readonly scalar: ScalarType }
  | { readonly kind: 'enum'; readonly enum: DescEnum }
  | { readonly kind: 'message'; readonly message: DescMessage }
  | { readonly kind: 'list'; readonly of: Kind }
  | { readonly kind: 'map'; readonly key: ScalarType; readonly value: Kind };

/** A place in a request body that a case can change. */
export interface Slot {
  /** Where it is in the JSON body (json names; 0 for a list's first item; the key for a map value). */
  readonly path: Path;
  readonly field: DescField;
  readonly kind: Kind;
  /** The protovalidate rules that apply here (the item rules for a list item). */
  readonly rules: FieldRules | undefined;
  /** For reports, in proto names: subject.circle_id, user_ids[], labels{}, labels{key}. */
  readonly label: string;
  /** Set when the slot is a map entry's key rather than its value. */
  readonly mapKey?: string;
}

export function rulesOf(field: DescField): FieldRules | undefined {
  const rules = getOption(field, fieldRulesOption);
  return rules.type.case === undefined && !rules.required ? undefined : rules;
}

/**
 * A numeric rule (max_len, max_items...) as a number if the rule sets it. The rule messages are
 * proto2, where an unset field reads as its default (0), which would read as "at most 0".
 */
export function ruleNumber(rules: { readonly $typeName: string } | undefined, localName: string): number | undefined {
  if (!rules) return undefined;
  const desc = file_buf_validate_validate.messages.find((m) => m.typeName === rules.$typeName);
  const field = desc?.fields.find((f) => f.localName === localName);
  if (!desc || !field || !isFieldSet(rules as never, field)) return undefined;
  return Number((rules as unknown as Record<string, bigint | number>)[localName]);
}

export function kindOf(field: DescField): Kind {
  switch (field.fieldKind) {
    case 'scalar':
      return { kind: 'scalar', scalar: field.scalar };
    case 'enum':
      return { kind: 'enum', enum: field.enum };
    case 'message':
      return { kind: 'message', message: field.message };
    case 'list':
      return {
        kind: 'list',
        of:
          field.listKind === 'scalar'
            ? { kind: 'scalar', scalar: field.scalar }
            : field.listKind === 'enum'
              ? { kind: 'enum', enum: field.enum }
              : { kind: 'message', message: field.message },
      };
    case 'map':
      return {
        kind: 'map',
        key: field.mapKey,
        value:
          field.mapKind === 'scalar'
            ? { kind: 'scalar', scalar: field.scalar }
            : field.mapKind === 'enum'
              ? { kind: 'enum', enum: field.enum }
              : { kind: 'message', message: field.message },
      };
  }
}

/** Timestamp, Duration, wrappers, Struct...: written in their special JSON forms, not recursed into. */
export function isWellKnown(message: DescMessage): boolean {
  return message.typeName.startsWith('google.protobuf.');
}

/** Every slot of `message` that `body` (a baseline built for it) reaches, depth first. */
export function slotsOf(message: DescMessage, body: JsonObject, prefix: Path = [], labelPrefix = ''): Slot[] {
  const out: Slot[] = [];
  for (const field of message.fields) {
    const path = [...prefix, field.jsonName];
    const label = `${labelPrefix}${field.name}`;
    const rules = rulesOf(field);
    const kind = kindOf(field);
    out.push({ path, field, kind, rules, label });
    const value = body[field.jsonName];
    if (kind.kind === 'message' && !isWellKnown(kind.message) && isObject(value)) {
      out.push(...slotsOf(kind.message, value, path, `${label}.`));
    } else if (kind.kind === 'list' && Array.isArray(value) && value.length > 0) {
      const itemRules = rules?.type.case === 'repeated' ? rules.type.value.items : undefined;
      out.push({ path: [...path, 0], field, kind: kind.of, rules: itemRules, label: `${label}[]` });
      const first = value[0];
      if (kind.of.kind === 'message' && !isWellKnown(kind.of.message) && isObject(first)) {
        out.push(...slotsOf(kind.of.message, first, [...path, 0], `${label}[].`));
      }
    } else if (kind.kind === 'map' && isObject(value)) {
      const key = Object.keys(value)[0];
      if (key !== undefined) {
        const map = rules?.type.case === 'map' ? rules.type.value : undefined;
        out.push({ path: [...path, key], field, kind: kind.value, rules: map?.values, label: `${label}{}` });
        out.push({ path, field, kind: { kind: 'scalar', scalar: kind.key }, rules: map?.keys, label: `${label}{key}`, mapKey: key });
      }
    }
  }
  return out;
}

/**
 * Whether a slot holds one UUID: a string whose rule is `uuid`, or whose field is named like
 * an id (`*_id`, or an item of `*_ids`), as ADR 0003 names them.
 */
export function holdsUuid(slot: Slot): boolean {
  if (slot.kind.kind !== 'scalar' || slot.kind.scalar !== ScalarType.STRING || slot.mapKey !== undefined) return false;
  const rules = slot.rules?.type;
  if (rules?.case === 'string' && rules.value.wellKnown.case === 'uuid') return true;
  const isItem = slot.label.endsWith('[]');
  return isItem ? /(^|_)ids$/.test(slot.field.name) : /(^|_)id$/.test(slot.field.name);
}

export function isPageToken(slot: Slot): boolean {
  return slot.field.name === 'page_token' && slot.kind.kind === 'scalar' && slot.kind.scalar === ScalarType.STRING;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
