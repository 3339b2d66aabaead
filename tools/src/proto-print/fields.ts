// One way to list what is set on a message, shared by the text-format printer, the option
// printer and the descriptor diff. Extensions live in `$unknown` in protobuf-es v2, so they are
// listed through a registry; an unknown field that no registry entry explains cannot be printed
// faithfully and is reported instead of being dropped.
import {
  type DescExtension,
  type DescField,
  type DescMessage,
  type Message,
  type Registry,
  getExtension,
  isFieldSet,
} from '@bufbuild/protobuf';

export type AnyField = DescField | DescExtension;

export interface SetField {
  readonly field: AnyField;
  /** How the field is named in text format: `name` or `[full.extension.name]`. */
  readonly textName: string;
  readonly value: unknown;
}

export interface UnexplainedField {
  readonly no: number;
  readonly wireType: number;
  readonly data: Uint8Array;
}

export function fieldValue(message: Message, field: DescField): unknown {
  const record = message as unknown as Record<string, unknown>;
  if (field.oneof) {
    const oneof = record[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
    return oneof?.case === field.localName ? oneof.value : undefined;
  }
  return record[field.localName];
}

/** Regular fields in declaration order, then extensions in field-number order. */
export function setFields(desc: DescMessage, message: Message, registry: Registry): SetField[] {
  const result: SetField[] = [];
  for (const field of desc.fields) {
    if (isFieldSet(message, field)) {
      result.push({ field, textName: field.name, value: fieldValue(message, field) });
    }
  }
  for (const ext of presentExtensions(desc, message, registry)) {
    result.push({ field: ext, textName: `[${ext.typeName}]`, value: getExtension(message, ext) });
  }
  return result;
}

export function presentExtensions(desc: DescMessage, message: Message, registry: Registry): DescExtension[] {
  const seen = new Map<number, DescExtension>();
  for (const uf of message.$unknown ?? []) {
    const ext = registry.getExtensionFor(desc, uf.no);
    if (ext && !seen.has(uf.no)) seen.set(uf.no, ext);
  }
  return [...seen.values()].sort((a, b) => a.number - b.number);
}

/** Unknown fields that are not extensions known to the registry. */
export function unexplainedFields(desc: DescMessage, message: Message, registry: Registry): UnexplainedField[] {
  return (message.$unknown ?? []).filter((uf) => !registry.getExtensionFor(desc, uf.no));
}

export function assertFullyExplained(desc: DescMessage, message: Message, registry: Registry): void {
  const unexplained = unexplainedFields(desc, message, registry);
  if (unexplained.length > 0) {
    const numbers = unexplained.map((u) => u.no).join(', ');
    throw new Error(`${desc.typeName} carries unknown field(s) ${numbers} that no known extension explains`);
  }
}
