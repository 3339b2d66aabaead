// Enforces the contract conventions (docs/adr/0003) that buf lint cannot see:
//   - every service, RPC, message, field, oneof, enum and enum value has a comment, because
//     the proto files are the API reference;
//   - every field of every message a client sends carries protovalidate rules, so nothing
//     reaches a handler unchecked (bools excepted; a field that truly takes any value says so
//     with `(buf.validate.field).ignore = IGNORE_ALWAYS`).
//
//   npm run -w tools check:contracts
import {
  type DescriptorProto,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bufBuild } from './proto-print/descriptor-compare.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

// Field numbers in descriptor.proto, as used by SourceCodeInfo paths.
const FILE_MESSAGE = 4;
const FILE_ENUM = 5;
const FILE_SERVICE = 6;
const MESSAGE_FIELD = 2;
const MESSAGE_NESTED = 3;
const MESSAGE_ENUM = 4;
const MESSAGE_ONEOF = 8;
const ENUM_VALUE = 2;
const SERVICE_METHOD = 2;
// Extension numbers of buf.validate.field and buf.validate.oneof in FieldOptions / OneofOptions.
const VALIDATE_FIELD = 1159;

export interface ContractProblem {
  readonly file: string;
  readonly element: string;
  readonly problem: 'no comment' | 'no validation rules';
}

export function checkFile(file: FileDescriptorProto, inputs: ReadonlySet<string>): ContractProblem[] {
  const commented = new Set(
    (file.sourceCodeInfo?.location ?? [])
      .filter((l) => (l.leadingComments + l.trailingComments).trim() !== '')
      .map((l) => l.path.join('.')),
  );
  const problems: ContractProblem[] = [];
  const need = (p: number[], element: string) => {
    if (!commented.has(p.join('.'))) problems.push({ file: file.name, element, problem: 'no comment' });
  };
  const pkg = file.package;

  const walkEnum = (values: { name: string }[], p: number[], name: string) => {
    need(p, name);
    values.forEach((v, i) => need([...p, ENUM_VALUE, i], `${name}.${v.name}`));
  };
  const walkMessage = (m: DescriptorProto, p: number[], name: string) => {
    need(p, name);
    m.oneofDecl.forEach((o, i) => {
      // proto3 `optional` makes a synthetic oneof; the field's own comment covers it.
      const synthetic = m.field.some((f) => f.proto3Optional && f.oneofIndex === i);
      if (!synthetic) need([...p, MESSAGE_ONEOF, i], `${name}.${o.name}`);
    });
    m.field.forEach((f, i) => {
      need([...p, MESSAGE_FIELD, i], `${name}.${f.name}`);
      const isInput = inputs.has(`${pkg}.${name}`);
      const hasRules = f.options?.$unknown?.some((u) => u.no === VALIDATE_FIELD) ?? false;
      // A bool cannot hold a bad value, so it needs no rule; a message field of ours is checked
      // field by field instead (it is in `inputs` too).
      const exempt =
        (f.type === FieldDescriptorProto_Type.BOOL && f.label !== FieldDescriptorProto_Label.REPEATED) ||
        (f.type === FieldDescriptorProto_Type.MESSAGE && f.typeName.startsWith('.hearth.'));
      if (isInput && !hasRules && !exempt) {
        problems.push({ file: file.name, element: `${name}.${f.name}`, problem: 'no validation rules' });
      }
    });
    m.nestedType.forEach((n, i) => {
      if (!n.options?.mapEntry) walkMessage(n, [...p, MESSAGE_NESTED, i], `${name}.${n.name}`);
    });
    m.enumType.forEach((e, i) => walkEnum(e.value, [...p, MESSAGE_ENUM, i], `${name}.${e.name}`));
  };

  file.messageType.forEach((m, i) => walkMessage(m, [FILE_MESSAGE, i], m.name));
  file.enumType.forEach((e, i) => walkEnum(e.value, [FILE_ENUM, i], e.name));
  file.service.forEach((s, i) => {
    need([FILE_SERVICE, i], s.name);
    s.method.forEach((m, j) => need([FILE_SERVICE, i, SERVICE_METHOD, j], `${s.name}.${m.name}`));
  });
  return problems.map((p) => ({ ...p, element: `${pkg}.${p.element}` }));
}

/**
 * Every message a client sends: RPC inputs, realtime ClientFrame, and (transitively) the
 * hearth messages they contain. Their fields are what validation must cover.
 */
export function inputMessages(files: readonly FileDescriptorProto[]): Set<string> {
  const messages = new Map<string, DescriptorProto>();
  const index = (m: DescriptorProto, prefix: string) => {
    messages.set(`${prefix}.${m.name}`, m);
    m.nestedType.forEach((n) => index(n, `${prefix}.${m.name}`));
  };
  for (const f of files) f.messageType.forEach((m) => index(m, f.package));
  const todo = files.flatMap((f) => f.service.flatMap((s) => s.method.map((m) => m.inputType.slice(1))));
  todo.push('hearth.realtime.v1.ClientFrame');
  const seen = new Set<string>();
  while (todo.length > 0) {
    const name = todo.pop() as string;
    const m = messages.get(name);
    if (!m || seen.has(name)) continue;
    seen.add(name);
    for (const f of m.field) if (f.typeName.startsWith('.hearth.')) todo.push(f.typeName.slice(1));
  }
  return seen;
}

/** Builds proto/ with buf (source info included) and checks every hearth.* file. */
export async function checkContracts(root = repoRoot): Promise<ContractProblem[]> {
  const set = await bufBuild(path.join(root, 'node_modules/.bin/buf'), 'proto', root);
  const files = set.file.filter((f) => f.package.startsWith('hearth.'));
  const inputs = inputMessages(files);
  return files.flatMap((f) => checkFile(f, inputs));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problems = await checkContracts();
  for (const p of problems) console.error(`${p.file}: ${p.element}: ${p.problem}`);
  if (problems.length > 0) {
    console.error(`${problems.length} contract convention problem(s); see docs/adr/0003-contract-conventions.md`);
    process.exitCode = 1;
  } else {
    console.log('every hearth.* element is documented and every request field has validation rules');
  }
}
