// Message declarations. Source order matters wherever the descriptor keeps order: fields and
// oneofs print in descriptor order (a oneof's fields must be adjacent), and a map field's
// synthetic entry type takes its place among nested messages where the field is declared, so
// nested messages that precede that entry are printed before the field.
import { isFieldSet } from '@bufbuild/protobuf';
import {
  type DescriptorProto,
  ExtensionRangeOptionsSchema,
  type FieldDescriptorProto,
  FieldDescriptorProtoSchema,
  MessageOptionsSchema,
  OneofOptionsSchema,
} from '@bufbuild/protobuf/wkt';
import { type PrintContext, bracketOptions, join, optionStatements, rangeText, reservedNames, stripDot } from './context.js';
import { optionEntries } from './options.js';
import { printEnum, visibility } from './print-enum.js';
import { printField } from './print-field.js';

// Message field numbers stop below 2^29; descriptor ranges are end-exclusive.
const FIELD_MAX = 536870911;

export function printMessage(ctx: PrintContext, m: DescriptorProto, scope: string, indent: string): string[] {
  const fullName = join(scope, m.name);
  const inner = `${indent}  `;
  const body: string[][] = [];
  const named = (x: { typeName: string }): string => ctx.names.relative([fullName], x.typeName);

  const options = optionStatements(optionEntries(MessageOptionsSchema, m.options, ctx.registry, named), inner);
  if (options.length > 0) body.push(options);

  const printedNested = new Set<number>();
  const nestedBefore = (limit: number): string[][] => {
    const out: string[][] = [];
    m.nestedType.forEach((n, i) => {
      if (i < limit && !printedNested.has(i) && !n.options?.mapEntry) {
        printedNested.add(i);
        out.push(printMessage(ctx, n, fullName, inner));
      }
    });
    return out;
  };

  const fields: string[] = [];
  const printedOneofs = new Set<number>();
  for (let i = 0; i < m.field.length; i++) {
    const field = m.field[i] as FieldDescriptorProto;
    const entryIndex = mapEntryIndex(m, fullName, field);
    if (entryIndex >= 0) {
      const earlier = nestedBefore(entryIndex);
      if (earlier.length > 0) {
        if (fields.length > 0) body.push(fields.splice(0));
        body.push(...earlier);
      }
      fields.push(printField(ctx, field, { scope: fullName, inOneof: false, mapEntry: m.nestedType[entryIndex] }, inner));
      continue;
    }
    const oneofIndex = realOneof(field);
    if (oneofIndex === undefined) {
      fields.push(printField(ctx, field, { scope: fullName, inOneof: false }, inner));
      continue;
    }
    if (printedOneofs.has(oneofIndex)) {
      throw new Error(`${fullName}: fields of oneof #${oneofIndex} are not adjacent; source cannot express that`);
    }
    printedOneofs.add(oneofIndex);
    const members: FieldDescriptorProto[] = [];
    while (i < m.field.length && realOneof(m.field[i] as FieldDescriptorProto) === oneofIndex) {
      members.push(m.field[i++] as FieldDescriptorProto);
    }
    i--;
    fields.push(...printOneof(ctx, m, fullName, oneofIndex, members, inner));
  }
  if (fields.length > 0) body.push(fields);

  const ranges: string[] = [];
  for (const r of m.extensionRange) {
    const entries = optionEntries(ExtensionRangeOptionsSchema, r.options, ctx.registry, named);
    ranges.push(`${inner}extensions ${rangeText(r.start, r.end - 1, FIELD_MAX)}${bracketOptions(entries, inner)};`);
  }
  if (m.reservedRange.length > 0) {
    ranges.push(`${inner}reserved ${m.reservedRange.map((r) => rangeText(r.start, r.end - 1, FIELD_MAX)).join(', ')};`);
  }
  ranges.push(...reservedNames(ctx, m.reservedName, inner));
  if (ranges.length > 0) body.push(ranges);

  for (const e of m.enumType) body.push(printEnum(ctx, e, fullName, inner));
  body.push(...nestedBefore(m.nestedType.length));
  body.push(...printExtendBlocks(ctx, m.extension, fullName, inner));

  const open = `${indent}${visibility(m.visibility)}message ${m.name} {`;
  if (body.length === 0) return [`${open}}`];
  return [open, ...body.flatMap((block, i) => (i === 0 ? block : ['', ...block])), `${indent}}`];
}

/** The oneof a field is declared in; proto3 `optional` fields sit in a synthetic one, not written. */
function realOneof(field: FieldDescriptorProto): number | undefined {
  // oneof_index reads as 0 when unset, so presence decides.
  if (!isFieldSet(field, FieldDescriptorProtoSchema.field.oneofIndex) || field.proto3Optional) return undefined;
  return field.oneofIndex;
}

function mapEntryIndex(m: DescriptorProto, fullName: string, field: FieldDescriptorProto): number {
  if (field.typeName === '') return -1;
  const typeName = stripDot(field.typeName);
  return m.nestedType.findIndex((n) => n.options?.mapEntry === true && join(fullName, n.name) === typeName);
}

function printOneof(
  ctx: PrintContext,
  m: DescriptorProto,
  fullName: string,
  index: number,
  members: readonly FieldDescriptorProto[],
  indent: string,
): string[] {
  const decl = m.oneofDecl[index];
  if (!decl) throw new Error(`${fullName}: field refers to missing oneof #${index}`);
  const oneofName = join(fullName, decl.name);
  const inner = `${indent}  `;
  const options = optionEntries(OneofOptionsSchema, decl.options, ctx.registry, (x) =>
    ctx.names.relative([oneofName, fullName], x.typeName),
  );
  return [
    `${indent}oneof ${decl.name} {`,
    ...optionStatements(options, inner),
    ...members.map((f) => printField(ctx, f, { scope: fullName, inOneof: true }, inner)),
    `${indent}}`,
  ];
}

/** Consecutive extensions of the same message share one `extend` block, keeping their order. */
export function printExtendBlocks(
  ctx: PrintContext,
  extensions: readonly FieldDescriptorProto[],
  scope: string,
  indent: string,
): string[][] {
  const blocks: string[][] = [];
  let current: { extendee: string; lines: string[] } | undefined;
  for (const ext of extensions) {
    if (!current || current.extendee !== ext.extendee) {
      current = { extendee: ext.extendee, lines: [] };
      blocks.push(current.lines);
      current.lines.push(`${indent}extend ${ctx.names.relative([scope], stripDot(ext.extendee))} {`);
    }
    current.lines.push(printField(ctx, ext, { scope, inOneof: false }, `${indent}  `));
  }
  for (const block of blocks) block.push(`${indent}}`);
  return blocks;
}
