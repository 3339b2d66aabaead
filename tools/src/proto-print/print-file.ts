// Prints a compiled file descriptor back as .proto source that compiles to the same descriptor
// (comments aside: descriptors embedded in generated code carry no source info). Anything the
// printer cannot express faithfully throws instead of being approximated; `compareWithBuf` in
// descriptor-compare.ts is the proof for a given file.
import type { DescFile } from '@bufbuild/protobuf';
import {
  FileOptionsSchema,
  MethodOptionsSchema,
  type ServiceDescriptorProto,
  ServiceOptionsSchema,
} from '@bufbuild/protobuf/wkt';
import { type PrintContext, createContext, editionName, join, optionStatements, stripDot } from './context.js';
import { optionEntries } from './options.js';
import { printEnum } from './print-enum.js';
import { printExtendBlocks, printMessage } from './print-message.js';

export interface PrintOptions {
  /** Comment lines for the top of the file, without the `//`. */
  readonly header?: readonly string[];
}

export function printProtoFile(file: DescFile, options: PrintOptions = {}): string {
  const ctx = createContext(file);
  const proto = file.proto;
  const pkg = proto.package;
  const blocks: string[][] = [];

  if (options.header && options.header.length > 0) {
    blocks.push(options.header.map((l) => (l === '' ? '//' : `// ${l}`)));
  }
  blocks.push([
    ctx.syntax === 'editions' ? `edition = "${editionName(proto.edition)}";` : `syntax = "${ctx.syntax}";`,
  ]);
  if (pkg !== '') blocks.push([`package ${pkg};`]);

  const imports = proto.dependency.map((dep, i) => {
    const kind = proto.publicDependency.includes(i) ? 'public ' : proto.weakDependency.includes(i) ? 'weak ' : '';
    return `import ${kind}${JSON.stringify(dep)};`;
  });
  imports.push(...proto.optionDependency.map((dep) => `import option ${JSON.stringify(dep)};`));
  if (imports.length > 0) blocks.push(imports);

  const fileOptions = optionEntries(FileOptionsSchema, proto.options, ctx.registry, (x) =>
    ctx.names.relative([pkg], x.typeName),
  );
  if (fileOptions.length > 0) blocks.push(optionStatements(fileOptions, ''));

  blocks.push(...printExtendBlocks(ctx, proto.extension, pkg, ''));
  for (const m of proto.messageType) blocks.push(printMessage(ctx, m, pkg, ''));
  for (const e of proto.enumType) blocks.push(printEnum(ctx, e, pkg, ''));
  for (const s of proto.service) blocks.push(printService(ctx, s, pkg));

  return `${blocks.map((b) => b.join('\n')).join('\n\n')}\n`;
}

function printService(ctx: PrintContext, s: ServiceDescriptorProto, pkg: string): string[] {
  const fullName = join(pkg, s.name);
  const lines = [`service ${s.name} {`];
  lines.push(
    ...optionStatements(
      optionEntries(ServiceOptionsSchema, s.options, ctx.registry, (x) => ctx.names.relative([fullName], x.typeName)),
      '  ',
    ),
  );
  for (const m of s.method) {
    const methodName = join(fullName, m.name);
    const type = (name: string, streaming: boolean | undefined): string =>
      `${streaming ? 'stream ' : ''}${ctx.names.relative([fullName], stripDot(name))}`;
    const signature = `  rpc ${m.name}(${type(m.inputType, m.clientStreaming)}) returns (${type(m.outputType, m.serverStreaming)})`;
    const entries = optionEntries(MethodOptionsSchema, m.options, ctx.registry, (x) =>
      ctx.names.relative([methodName, fullName], x.typeName),
    );
    if (entries.length === 0) {
      lines.push(`${signature};`);
    } else {
      lines.push(`${signature} {`, ...optionStatements(entries, '    '), '  }');
    }
  }
  lines.push('}');
  return lines;
}
