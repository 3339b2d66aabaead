// Options as .proto source spells them. A message-valued option is flattened into paths
// (`(buf.validate.predefined).cel = { ... }`) rather than one big aggregate, the way upstream
// protovalidate writes its rules: each repeated element becomes its own entry, and only
// elements of repeated message fields are printed as aggregates.
import type { DescExtension, DescMessage, Message, Registry } from '@bufbuild/protobuf';
import { assertFullyExplained, setFields } from './fields.js';
import { formatElement, formatEnum, formatMapEntry, formatScalar } from './text-format.js';

export interface OptionEntry {
  /** `deprecated`, `features.field_presence`, `(buf.validate.predefined).cel`, ... */
  readonly name: string;
  /** The value in text format; aggregates span several lines. */
  readonly value: string;
}

/** How an extension is named where the options are written (a scope-relative name). */
export type ExtensionNamer = (ext: DescExtension) => string;

export function optionEntries(
  desc: DescMessage,
  options: Message | undefined,
  registry: Registry,
  extensionName: ExtensionNamer,
): OptionEntry[] {
  if (!options) return [];
  const entries: OptionEntry[] = [];
  flatten('', desc, options, registry, extensionName, entries);
  return entries;
}

function flatten(
  prefix: string,
  desc: DescMessage,
  message: Message,
  registry: Registry,
  extensionName: ExtensionNamer,
  out: OptionEntry[],
): void {
  assertFullyExplained(desc, message, registry);
  for (const { field, value } of setFields(desc, message, registry)) {
    if (field.kind === 'field' && field.name === 'uninterpreted_option') {
      // Compilers resolve every option before emitting a descriptor; one left over means the
      // descriptor did not come from a compiler and cannot be reproduced.
      if ((value as unknown[]).length > 0) throw new Error(`${desc.typeName} has uninterpreted options`);
      continue;
    }
    const segment = field.kind === 'extension' ? `(${extensionName(field)})` : field.name;
    const name = prefix === '' ? segment : `${prefix}.${segment}`;
    switch (field.fieldKind) {
      case 'message': {
        const inner = value as Message;
        if (setFields(field.message, inner, registry).length === 0) {
          assertFullyExplained(field.message, inner, registry);
          out.push({ name, value: '{}' });
        } else {
          flatten(name, field.message, inner, registry, extensionName, out);
        }
        break;
      }
      case 'list':
        for (const element of value as unknown[]) {
          out.push({ name, value: formatElement(field, element, registry) });
        }
        break;
      case 'map':
        for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
          out.push({ name, value: formatMapEntry(field, key, v, registry) });
        }
        break;
      case 'enum':
        out.push({ name, value: formatEnum(field.enum, value as number) });
        break;
      case 'scalar':
        out.push({ name, value: formatScalar(field.scalar, value) });
        break;
    }
  }
}
