// What every part of the printer needs: the syntax being written, a registry that can decode the
// options' extensions, scope-aware names, and small layout helpers.
import { type DescFile, type Registry, createRegistry } from '@bufbuild/protobuf';
import { Edition } from '@bufbuild/protobuf/wkt';
import { NameResolver, collectFiles } from './names.js';
import type { OptionEntry } from './options.js';
import { indentTail } from './text-format.js';

export type Syntax = 'proto2' | 'proto3' | 'editions';

export interface PrintContext {
  readonly file: DescFile;
  readonly syntax: Syntax;
  readonly registry: Registry;
  readonly names: NameResolver;
}

export function createContext(file: DescFile): PrintContext {
  const files = collectFiles(file);
  return {
    file,
    syntax: syntaxOf(file),
    registry: createRegistry(...files),
    names: new NameResolver(files),
  };
}

function syntaxOf(file: DescFile): Syntax {
  switch (file.proto.syntax) {
    case '':
    case 'proto2':
      return 'proto2';
    case 'proto3':
      return 'proto3';
    case 'editions':
      return 'editions';
    default:
      throw new Error(`${file.name}: unknown syntax "${file.proto.syntax}"`);
  }
}

export function editionName(edition: Edition): string {
  const name = Edition[edition];
  if (!name?.startsWith('EDITION_') || !/^EDITION_\d+$/.test(name)) {
    throw new Error(`cannot write edition ${name ?? edition} in source`);
  }
  return name.slice('EDITION_'.length);
}

export function join(scope: string, name: string): string {
  return scope === '' ? name : `${scope}.${name}`;
}

/** Type names in descriptors are fully qualified with a leading dot. */
export function stripDot(typeName: string): string {
  return typeName.startsWith('.') ? typeName.slice(1) : typeName;
}

const INLINE_LIMIT = 100;

/**
 * ` [a = 1, b = 2]` after a field or enum value, or nothing. Long or multi-line option lists
 * get one entry per line so aggregates stay readable; `indent` is the statement's indentation.
 */
export function bracketOptions(entries: readonly OptionEntry[], indent: string): string {
  if (entries.length === 0) return '';
  const parts = entries.map((e) => `${e.name} = ${e.value}`);
  const inline = parts.join(', ');
  if (entries.length === 1) return ` [${indentTail(inline, indent)}]`;
  if (!inline.includes('\n') && inline.length <= INLINE_LIMIT) return ` [${inline}]`;
  const inner = `${indent}  `;
  return ` [\n${parts.map((p) => inner + indentTail(p, inner)).join(',\n')}\n${indent}]`;
}

/** `option a = 1;` statements inside a block. */
export function optionStatements(entries: readonly OptionEntry[], indent: string): string[] {
  return entries.map((e) => `${indent}option ${e.name} = ${indentTail(e.value, indent)};`);
}

/** `reserved "a", "b";` in proto2/proto3, `reserved a, b;` in editions (names are identifiers there). */
export function reservedNames(ctx: PrintContext, names: readonly string[], indent: string): string[] {
  if (names.length === 0) return [];
  const spelled = names.map((n) => (ctx.syntax === 'editions' ? n : JSON.stringify(n)));
  return [`${indent}reserved ${spelled.join(', ')};`];
}

/** `a`, `a to b`, `a to max`: `end` is inclusive here. */
export function rangeText(start: number, endInclusive: number, max: number): string {
  if (endInclusive === start) return String(start);
  return `${start} to ${endInclusive === max ? 'max' : String(endInclusive)}`;
}
