import { create, createFileRegistry } from '@bufbuild/protobuf';
import type { GenService } from '@bufbuild/protobuf/codegenv2';
import { FileDescriptorProtoSchema, type StringValueSchema, file_google_protobuf_wrappers } from '@bufbuild/protobuf/wkt';

/**
 * A tiny service built from a hand-written descriptor, so these tests do not depend on the
 * generated contracts: Echo (unary) and Count (server streaming), both on StringValue.
 */
const file = create(FileDescriptorProtoSchema, {
  name: 'hearth/test/v1/echo.proto',
  package: 'hearth.test.v1',
  syntax: 'proto3',
  dependency: ['google/protobuf/wrappers.proto'],
  service: [
    {
      name: 'EchoService',
      method: [
        { name: 'Echo', inputType: '.google.protobuf.StringValue', outputType: '.google.protobuf.StringValue' },
        {
          name: 'Count',
          inputType: '.google.protobuf.StringValue',
          outputType: '.google.protobuf.StringValue',
          serverStreaming: true,
        },
      ],
    },
  ],
});

const registry = createFileRegistry(file, (name) =>
  name === 'google/protobuf/wrappers.proto' ? file_google_protobuf_wrappers : undefined,
);

const service = registry.getService('hearth.test.v1.EchoService');
if (!service) throw new Error('EchoService missing from the test registry');

// The typed shape protoc-gen-es would generate, so handlers and clients are checked by tsc.
export const EchoService = service as unknown as GenService<{
  echo: { methodKind: 'unary'; input: typeof StringValueSchema; output: typeof StringValueSchema };
  count: { methodKind: 'server_streaming'; input: typeof StringValueSchema; output: typeof StringValueSchema };
}>;
