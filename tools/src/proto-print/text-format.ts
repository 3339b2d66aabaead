// Values as the protobuf text format (and .proto option syntax) spells them. Used for option
// values, aggregates (`{ id: "..." expression: "..." }`) and proto2 default values.
import {
  type DescEnum,
  type DescMessage,
  type Message,
  type Registry,
  ScalarType,
} from '@bufbuild/protobuf';
import { type AnyField, assertFullyExplained, setFields } from './fields.js';

/** One byte as it may appear inside a double-quoted literal; printable ASCII stays readable. */
function escapeByte(byte: number): string {
  switch (byte) {
    case 0x0a: return '\\n';
    case 0x0d: return '\\r';
    case 0x09: return '\\t';
    case 0x22: return '\\"';
    case 0x5c: return '\\\\';
  }
  if (byte < 0x20 || byte >= 0x7f) return `\\${byte.toString(8).padStart(3, '0')}`;
  return String.fromCharCode(byte);
}

export function quoteBytes(bytes: Uint8Array): string {
  let out = '"';
  for (const byte of bytes) out += escapeByte(byte);
  return `${out}"`;
}

/**
 * Strings keep non-ASCII characters as UTF-8 text (both protoc and buf read literals as UTF-8)
 * so CEL expressions and messages stay legible; only quotes, backslashes and control characters
 * are escaped.
 */
export function quoteString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0xd800 && code <= 0xdfff) throw new Error(`lone surrogate in string ${JSON.stringify(value)}`);
    out += code < 0x80 ? escapeByte(code) : ch;
  }
  return `${out}"`;
}

export function formatFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (Object.is(value, -0)) return '-0';
  // Shortest round-trip form: for float fields this parses back to the same float32.
  return String(value);
}

export function formatScalar(type: ScalarType, value: unknown): string {
  switch (type) {
    case ScalarType.STRING:
      return quoteString(String(value));
    case ScalarType.BYTES:
      return quoteBytes(value as Uint8Array);
    case ScalarType.BOOL:
      return value ? 'true' : 'false';
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return formatFloat(value as number);
    default:
      return String(value);
  }
}

export function formatEnum(desc: DescEnum, value: number): string {
  // An open enum may hold a number without a name; text format accepts the number.
  return desc.values.find((v) => v.number === value)?.name ?? String(value);
}

interface ElementKind {
  readonly scalar?: ScalarType | undefined;
  readonly enum?: DescEnum | undefined;
  readonly message?: DescMessage | undefined;
}

export function formatElement(kind: ElementKind, value: unknown, registry: Registry): string {
  if (kind.message) return formatAggregate(kind.message, value as Message, registry);
  if (kind.enum) return formatEnum(kind.enum, value as number);
  if (kind.scalar !== undefined) return formatScalar(kind.scalar, value);
  throw new Error('value without a type');
}

/** Prefixes every line but the first, so a multi-line value can follow `name: ` on its line. */
export function indentTail(text: string, indent: string): string {
  return text.split('\n').join(`\n${indent}`);
}

/** `name: value` lines for one field inside an aggregate; repeated fields repeat the name. */
export function textFieldLines(field: AnyField, textName: string, value: unknown, registry: Registry): string[] {
  const line = (v: string): string => `${textName}: ${v}`;
  switch (field.fieldKind) {
    case 'scalar':
      return [line(formatScalar(field.scalar, value))];
    case 'enum':
      return [line(formatEnum(field.enum, value as number))];
    case 'message':
      return [line(formatAggregate(field.message, value as Message, registry))];
    case 'list':
      return (value as unknown[]).map((element) => line(formatElement(field, element, registry)));
    case 'map':
      return Object.entries(value as Record<string, unknown>).map(([key, v]) =>
        line(formatMapEntry(field, key, v, registry)),
      );
  }
}

/** One map entry as the aggregate of its synthetic `{ key value }` message. */
export function formatMapEntry(field: AnyField, key: string, value: unknown, registry: Registry): string {
  if (field.fieldKind !== 'map') throw new Error(`${field.name} is not a map`);
  // protobuf-es keeps map keys as strings; only string keys need quoting to read back.
  const keyText = field.mapKey === ScalarType.STRING ? quoteString(key) : key;
  return `{\n  key: ${keyText}\n  value: ${indentTail(formatElement(field, value, registry), '  ')}\n}`;
}

/** A message as a text-format aggregate, one field per line, two spaces per nesting level. */
export function formatAggregate(desc: DescMessage, message: Message, registry: Registry): string {
  assertFullyExplained(desc, message, registry);
  const lines: string[] = [];
  for (const { field, textName, value } of setFields(desc, message, registry)) {
    lines.push(...textFieldLines(field, textName, value, registry));
  }
  if (lines.length === 0) return '{}';
  return `{\n${lines.map((l) => `  ${indentTail(l, '  ')}`).join('\n')}\n}`;
}
