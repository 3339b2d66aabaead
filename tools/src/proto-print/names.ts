// Shortest names that a .proto compiler resolves back to the intended symbol. protoc and buf
// resolve a reference by finding its first component in the innermost enclosing scope that has
// it, and then never look further out; printing `Rule` where `buf.validate.Rule` is meant is
// only safe when nothing closer is called `Rule`. This simulates that lookup over every symbol
// of the file and its imports, and falls back to a fully qualified `.name` when in doubt.
import type { DescFile } from '@bufbuild/protobuf';
import type { DescriptorProto, EnumDescriptorProto } from '@bufbuild/protobuf/wkt';

// Words that start a statement or name a scalar: a type reference spelled like one of them
// would be read as that word, so such a short form is never used.
const RESERVED_WORDS = new Set([
  'double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64',
  'sfixed32', 'sfixed64', 'bool', 'string', 'bytes', 'optional', 'required', 'repeated', 'group',
  'oneof', 'map', 'extensions', 'reserved', 'option', 'message', 'enum', 'extend', 'service', 'rpc',
  'stream', 'returns', 'syntax', 'edition', 'import', 'package', 'weak', 'public', 'to', 'max',
]);

function join(scope: string, name: string): string {
  return scope === '' ? name : `${scope}.${name}`;
}

function parentScope(scope: string): string {
  const dot = scope.lastIndexOf('.');
  return dot < 0 ? '' : scope.slice(0, dot);
}

export function collectFiles(file: DescFile): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (f: DescFile): void => {
    if (seen.has(f.name)) return;
    seen.set(f.name, f);
    f.dependencies.forEach(visit);
  };
  visit(file);
  return [...seen.values()];
}

export class NameResolver {
  private readonly symbols = new Set<string>();

  constructor(files: readonly DescFile[]) {
    for (const file of files) this.addFile(file);
  }

  /**
   * The shortest suffix of `fullName` that resolves to it from every scope in `scopes` (a
   * reference may be looked up from more than one scope, e.g. option names), else `.fullName`.
   */
  relative(scopes: readonly string[], fullName: string): string {
    const parts = fullName.split('.');
    for (let start = parts.length - 1; start >= 0; start--) {
      const candidate = parts.slice(start).join('.');
      if (RESERVED_WORDS.has(parts[start] ?? '')) continue;
      if (scopes.every((scope) => this.resolve(scope, candidate) === fullName)) return candidate;
    }
    return `.${fullName}`;
  }

  /** What a compiler would take `name` to mean inside `scope`, or undefined. */
  resolve(scope: string, name: string): string | undefined {
    const first = name.split('.')[0] ?? name;
    for (let s = scope; ; s = parentScope(s)) {
      if (this.symbols.has(join(s, first))) {
        const full = join(s, name);
        return this.symbols.has(full) ? full : undefined;
      }
      if (s === '') return undefined;
    }
  }

  private addFile(file: DescFile): void {
    const proto = file.proto;
    const pkg = proto.package;
    if (pkg !== '') {
      const parts = pkg.split('.');
      parts.forEach((_, i) => this.symbols.add(parts.slice(0, i + 1).join('.')));
    }
    proto.messageType.forEach((m) => this.addMessage(pkg, m));
    proto.enumType.forEach((e) => this.addEnum(pkg, e));
    proto.extension.forEach((x) => this.symbols.add(join(pkg, x.name)));
    for (const service of proto.service) {
      const name = join(pkg, service.name);
      this.symbols.add(name);
      service.method.forEach((m) => this.symbols.add(join(name, m.name)));
    }
  }

  private addMessage(scope: string, message: DescriptorProto): void {
    const name = join(scope, message.name);
    this.symbols.add(name);
    message.field.forEach((f) => this.symbols.add(join(name, f.name)));
    message.oneofDecl.forEach((o) => this.symbols.add(join(name, o.name)));
    message.extension.forEach((x) => this.symbols.add(join(name, x.name)));
    message.nestedType.forEach((m) => this.addMessage(name, m));
    message.enumType.forEach((e) => this.addEnum(name, e));
  }

  private addEnum(scope: string, e: EnumDescriptorProto): void {
    this.symbols.add(join(scope, e.name));
    // Enum values are siblings of their enum, not children (C++ scoping).
    e.value.forEach((v) => this.symbols.add(join(scope, v.name)));
  }
}
