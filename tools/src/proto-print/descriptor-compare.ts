// Compiles .proto source with buf and compares the result with an expected FileDescriptorProto,
// field by field, so a printer bug or a hand edit shows up as a named difference rather than a
// bare "not equal".
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  type DescMessage,
  type Message,
  type Registry,
  clone,
  equals,
  fromBinary,
} from '@bufbuild/protobuf';
import { protoCamelCase } from '@bufbuild/protobuf/reflect';
import {
  type DescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  type FileDescriptorSet,
  FileDescriptorSetSchema,
} from '@bufbuild/protobuf/wkt';
import { type AnyField, setFields, unexplainedFields } from './fields.js';

const run = promisify(execFile);

/** `buf build <dir>` as a binary FileDescriptorSet (imports included). */
export async function bufBuild(bufBin: string, dir: string, cwd: string): Promise<FileDescriptorSet> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'hearth-buf-build-'));
  try {
    const out = path.join(scratch, 'image.binpb');
    try {
      await run(bufBin, ['build', dir, '--as-file-descriptor-set', '-o', out], { cwd, maxBuffer: 64 << 20 });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`buf build ${dir} failed:\n${stderr || String(error)}`);
    }
    return fromBinary(FileDescriptorSetSchema, await readFile(out));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * What compilers are free to spell differently: source info (comments, spans), json_name when
 * it is the default (protoc-gen-es strips it, buf fills it in), and proto2's syntax string.
 */
export function normalizeFile(file: FileDescriptorProto): FileDescriptorProto {
  const copy = clone(FileDescriptorProtoSchema, file);
  copy.sourceCodeInfo = undefined;
  if (copy.syntax === 'proto2') copy.syntax = '';
  copy.extension.forEach(clearDefaultJsonName);
  copy.messageType.forEach(normalizeMessage);
  return copy;
}

function normalizeMessage(m: DescriptorProto): void {
  m.field.forEach(clearDefaultJsonName);
  m.extension.forEach(clearDefaultJsonName);
  m.nestedType.forEach(normalizeMessage);
}

function clearDefaultJsonName(f: FieldDescriptorProto): void {
  if (f.jsonName === protoCamelCase(f.name)) f.jsonName = '';
}

export interface FileComparison {
  readonly equal: boolean;
  /** Human-readable differences, e.g. `message_type[FloatRules].field[const].options.(buf.validate.predefined)...`. */
  readonly differences: readonly string[];
}

export function compareFiles(
  expected: FileDescriptorProto,
  actual: FileDescriptorProto,
  registry: Registry,
  limit = 20,
): FileComparison {
  const a = normalizeFile(expected);
  const b = normalizeFile(actual);
  const same = equals(FileDescriptorProtoSchema, a, b, { registry, extensions: true, unknown: true });
  const differences: string[] = [];
  diffMessage(FileDescriptorProtoSchema, a, b, registry, '', differences, limit);
  if (!same && differences.length === 0) differences.push('descriptors differ (equals() is false) but no field-level difference was found');
  return { equal: same && differences.length === 0, differences };
}

function label(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'name' in value && typeof value.name === 'string' && value.name !== '') {
    return value.name;
  }
  return '';
}

function show(value: unknown): string {
  if (value instanceof Uint8Array) return `bytes(${value.length})`;
  if (typeof value === 'bigint') return `${value}n`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function diffMessage(
  desc: DescMessage,
  a: Message,
  b: Message,
  registry: Registry,
  at: string,
  out: string[],
  limit: number,
): void {
  const fa = new Map(setFields(desc, a, registry).map((s) => [s.textName, s]));
  const fb = new Map(setFields(desc, b, registry).map((s) => [s.textName, s]));
  for (const name of new Set([...fa.keys(), ...fb.keys()])) {
    if (out.length >= limit) return;
    const x = fa.get(name);
    const y = fb.get(name);
    const where = at === '' ? name : `${at}.${name}`;
    if (!x || !y) {
      out.push(`${where}: ${x ? 'only in expected' : 'only in compiled source'} (${show((x ?? y)?.value)})`);
      continue;
    }
    diffValue(x.field, x.value, y.value, registry, where, out, limit);
  }
  const ua = unexplainedFields(desc, a, registry);
  const ub = unexplainedFields(desc, b, registry);
  if (JSON.stringify(ua.map((u) => [u.no, [...u.data]])) !== JSON.stringify(ub.map((u) => [u.no, [...u.data]]))) {
    out.push(`${at || '(file)'}: unknown fields differ`);
  }
}

function diffValue(field: AnyField, x: unknown, y: unknown, registry: Registry, where: string, out: string[], limit: number): void {
  switch (field.fieldKind) {
    case 'message':
      diffMessage(field.message, x as Message, y as Message, registry, where, out, limit);
      return;
    case 'list': {
      const xs = x as unknown[];
      const ys = y as unknown[];
      for (let i = 0; i < Math.max(xs.length, ys.length) && out.length < limit; i++) {
        const name = label(xs[i]) || label(ys[i]);
        const item = `${where}[${name === '' ? i : `${i}:${name}`}]`;
        if (i >= xs.length || i >= ys.length) {
          out.push(`${item}: ${i >= ys.length ? 'only in expected' : 'only in compiled source'} (${show(xs[i] ?? ys[i])})`);
        } else if (field.listKind === 'message') {
          diffMessage(field.message, xs[i] as Message, ys[i] as Message, registry, item, out, limit);
        } else if (!sameScalar(xs[i], ys[i])) {
          out.push(`${item}: expected ${show(xs[i])}, compiled ${show(ys[i])}`);
        }
      }
      return;
    }
    case 'map': {
      const xm = x as Record<string, unknown>;
      const ym = y as Record<string, unknown>;
      for (const key of new Set([...Object.keys(xm), ...Object.keys(ym)])) {
        if (!sameScalar(JSON.stringify(xm[key]), JSON.stringify(ym[key]))) out.push(`${where}[${key}]: differs`);
      }
      return;
    }
    default:
      if (!sameScalar(x, y)) out.push(`${where}: expected ${show(x)}, compiled ${show(y)}`);
  }
}

function sameScalar(x: unknown, y: unknown): boolean {
  if (x instanceof Uint8Array && y instanceof Uint8Array) {
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  return Object.is(x, y) || x === y;
}
