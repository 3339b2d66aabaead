// One field (or extension) declaration. Labels follow the syntax: proto2 spells every label,
// proto3 only `repeated` and explicit `optional`, editions only `repeated` (presence is a feature).
import { isFieldSet } from '@bufbuild/protobuf';
import { protoCamelCase } from '@bufbuild/protobuf/reflect';
import {
  type DescriptorProto,
  type FieldDescriptorProto,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProtoSchema,
  FieldDescriptorProto_Type as Type,
  FieldOptionsSchema,
} from '@bufbuild/protobuf/wkt';
import { type PrintContext, bracketOptions, join, stripDot } from './context.js';
import { type OptionEntry, optionEntries } from './options.js';
import { quoteString } from './text-format.js';

const SCALAR_KEYWORDS: Partial<Record<Type, string>> = {
  [Type.DOUBLE]: 'double',
  [Type.FLOAT]: 'float',
  [Type.INT64]: 'int64',
  [Type.UINT64]: 'uint64',
  [Type.INT32]: 'int32',
  [Type.FIXED64]: 'fixed64',
  [Type.FIXED32]: 'fixed32',
  [Type.BOOL]: 'bool',
  [Type.STRING]: 'string',
  [Type.BYTES]: 'bytes',
  [Type.UINT32]: 'uint32',
  [Type.SFIXED32]: 'sfixed32',
  [Type.SFIXED64]: 'sfixed64',
  [Type.SINT32]: 'sint32',
  [Type.SINT64]: 'sint64',
};

export interface FieldPlace {
  /** Full name of the message or package the declaration is written in. */
  readonly scope: string;
  readonly inOneof: boolean;
  /** The synthetic map entry type when the field is a map. */
  readonly mapEntry?: DescriptorProto | undefined;
}

export function printField(ctx: PrintContext, field: FieldDescriptorProto, place: FieldPlace, indent: string): string {
  const where = join(place.scope, field.name);
  const type = place.mapEntry ? mapType(ctx, place.mapEntry, place.scope, where) : typeText(ctx, field, place.scope, where);
  const label = place.mapEntry ? '' : labelText(ctx, field, place.inOneof, where);
  const entries = [...pseudoOptions(field, where), ...fieldOptions(ctx, field, place.scope, where)];
  return `${indent}${label}${type} ${field.name} = ${field.number}${bracketOptions(entries, indent)};`;
}

function labelText(ctx: PrintContext, field: FieldDescriptorProto, inOneof: boolean, where: string): string {
  if (field.label === Label.REPEATED) return 'repeated ';
  if (inOneof) return '';
  if (field.label === Label.REQUIRED) {
    if (ctx.syntax !== 'proto2') throw new Error(`${where}: required label outside proto2`);
    return 'required ';
  }
  if (ctx.syntax === 'proto2') return 'optional ';
  if (ctx.syntax === 'proto3' && field.proto3Optional) return 'optional ';
  return '';
}

function typeText(ctx: PrintContext, field: FieldDescriptorProto, scope: string, where: string): string {
  const keyword = SCALAR_KEYWORDS[field.type];
  if (keyword) return keyword;
  if (field.type === Type.GROUP && ctx.syntax !== 'editions') {
    // proto2 groups declare their type inline; nothing in the files we print uses them.
    throw new Error(`${where}: proto2 groups are not supported`);
  }
  if (field.typeName === '') throw new Error(`${where}: field has no type`);
  return ctx.names.relative([scope], stripDot(field.typeName));
}

function mapType(ctx: PrintContext, entry: DescriptorProto, scope: string, where: string): string {
  const [key, value] = entry.field;
  if (!key || !value || key.number !== 1 || value.number !== 2) throw new Error(`${where}: malformed map entry`);
  return `map<${typeText(ctx, key, scope, where)}, ${typeText(ctx, value, scope, where)}>`;
}

/** `default` and `json_name` are written like options but are fields of the descriptor itself. */
function pseudoOptions(field: FieldDescriptorProto, where: string): OptionEntry[] {
  const entries: OptionEntry[] = [];
  // Presence, not emptiness: an explicit `default = ""` is still a default.
  if (isFieldSet(field, FieldDescriptorProtoSchema.field.defaultValue)) {
    entries.push({ name: 'default', value: defaultText(field, where) });
  }
  if (isFieldSet(field, FieldDescriptorProtoSchema.field.jsonName) && field.jsonName !== protoCamelCase(field.name)) {
    entries.push({ name: 'json_name', value: quoteString(field.jsonName) });
  }
  return entries;
}

function defaultText(field: FieldDescriptorProto, where: string): string {
  const raw = field.defaultValue;
  switch (field.type) {
    case Type.STRING:
      return quoteString(raw);
    case Type.BYTES:
      // Descriptors hold bytes defaults already C-escaped, exactly as a literal's inside.
      return `"${raw}"`;
    case Type.MESSAGE:
    case Type.GROUP:
      throw new Error(`${where}: message fields cannot have defaults`);
    default:
      return raw;
  }
}

function fieldOptions(ctx: PrintContext, field: FieldDescriptorProto, scope: string, where: string): OptionEntry[] {
  // protoc resolves option names from the field's own full name outward.
  return optionEntries(FieldOptionsSchema, field.options, ctx.registry, (ext) =>
    ctx.names.relative([where, scope], ext.typeName),
  );
}
