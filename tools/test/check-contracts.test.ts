import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { checkFile, checkContracts, inputMessages } from '../src/check-contracts.js';
import { bufBuild } from '../src/proto-print/descriptor-compare.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const buf = path.join(repoRoot, 'node_modules/.bin/buf');

/** Builds one hearth.* proto file (with protovalidate importable) and checks it. */
async function check(source: string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'hearth-contracts-'));
  try {
    await mkdir(path.join(dir, 'proto/hearth/x/v1'), { recursive: true });
    await cp(path.join(repoRoot, 'proto/vendor'), path.join(dir, 'proto/vendor'), { recursive: true });
    await cp(path.join(repoRoot, 'buf.yaml'), path.join(dir, 'buf.yaml'));
    await writeFile(path.join(dir, 'proto/hearth/x/v1/x.proto'), source);
    const set = await bufBuild(buf, 'proto', dir);
    const files = set.file.filter((f) => f.package.startsWith('hearth.'));
    const inputs = inputMessages(files);
    return files.flatMap((f) => checkFile(f, inputs)).map((p) => `${p.element}: ${p.problem}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const GOOD = `syntax = "proto3";
package hearth.x.v1;
import "buf/validate/validate.proto";
// A service.
service XService {
  // Gets a thing.
  rpc GetThing(GetThingRequest) returns (GetThingResponse);
}
// Request.
message GetThingRequest {
  // Which thing.
  string id = 1 [(buf.validate.field).string.uuid = true];
  // Whether to include details.
  bool full = 2;
  // A filter, checked field by field.
  Filter filter = 3;
}
// A filter.
message Filter {
  // Maximum size.
  int32 max = 1 [(buf.validate.field).int32.lte = 10];
}
// Response.
message GetThingResponse {
  // The thing's name (responses need no rules).
  string name = 1;
}
`;

describe('contract conventions check', () => {
  it('passes the real contracts in proto/', async () => {
    assert.deepEqual(await checkContracts(), []);
  });

  it('passes a file that follows the conventions', async () => {
    assert.deepEqual(await check(GOOD), []);
  });

  it('finds an undocumented element', async () => {
    const problems = await check(GOOD.replace('  // Gets a thing.\n', ''));
    assert.deepEqual(problems, ['hearth.x.v1.XService.GetThing: no comment']);
  });

  it('finds a request field without rules, including inside nested input messages', async () => {
    const problems = await check(
      GOOD.replace(' [(buf.validate.field).string.uuid = true]', '').replace(' [(buf.validate.field).int32.lte = 10]', ''),
    );
    assert.deepEqual(problems.sort(), ['hearth.x.v1.Filter.max: no validation rules', 'hearth.x.v1.GetThingRequest.id: no validation rules']);
  });
});
