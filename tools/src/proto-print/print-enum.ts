// Enum declarations. Enum reserved ranges are inclusive (unlike message ranges) and their `max`
// is the largest int32.
import {
  type EnumDescriptorProto,
  EnumOptionsSchema,
  EnumValueOptionsSchema,
} from '@bufbuild/protobuf/wkt';
import {
  type PrintContext,
  bracketOptions,
  join,
  optionStatements,
  rangeText,
  reservedNames,
} from './context.js';
import { optionEntries } from './options.js';

const ENUM_MAX = 2147483647;

export function printEnum(ctx: PrintContext, e: EnumDescriptorProto, scope: string, indent: string): string[] {
  const fullName = join(scope, e.name);
  const inner = `${indent}  `;
  const lines = [`${indent}${visibility(e.visibility)}enum ${e.name} {`];
  lines.push(
    ...optionStatements(
      optionEntries(EnumOptionsSchema, e.options, ctx.registry, (x) => ctx.names.relative([fullName], x.typeName)),
      inner,
    ),
  );
  for (const value of e.value) {
    // Enum values live in the enum's enclosing scope.
    const valueName = join(scope, value.name);
    const entries = optionEntries(EnumValueOptionsSchema, value.options, ctx.registry, (x) =>
      ctx.names.relative([valueName, fullName], x.typeName),
    );
    lines.push(`${inner}${value.name} = ${value.number}${bracketOptions(entries, inner)};`);
  }
  if (e.reservedRange.length > 0) {
    const ranges = e.reservedRange.map((r) => rangeText(r.start, r.end, ENUM_MAX));
    lines.push(`${inner}reserved ${ranges.join(', ')};`);
  }
  lines.push(...reservedNames(ctx, e.reservedName, inner));
  lines.push(`${indent}}`);
  return lines;
}

/** Edition 2024 `export` / `local` keywords; 0 means unset. */
export function visibility(value: number): string {
  switch (value) {
    case 0:
      return '';
    case 1:
      return 'local ';
    case 2:
      return 'export ';
    default:
      throw new Error(`unknown symbol visibility ${value}`);
  }
}
