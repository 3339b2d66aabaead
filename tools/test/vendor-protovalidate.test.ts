// The vendored validate.proto must compile to exactly the descriptor @bufbuild/protovalidate
// enforces at runtime, and the check must notice when it does not. The printer is also
// round-tripped through buf on fixtures that use what validate.proto does not (maps, proto3
// optional, services, editions, defaults, custom options of every shape), so a future
// protovalidate that uses them is printed correctly or rejected loudly.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createFileRegistry } from '@bufbuild/protobuf';
import { bufBuild, compareFiles } from '../src/proto-print/descriptor-compare.js';
import { NameResolver } from '../src/proto-print/names.js';
import { printProtoFile } from '../src/proto-print/print-file.js';
import { quoteBytes, quoteString } from '../src/proto-print/text-format.js';
import { checkVendored, protoPath, repoRoot, writeVendored } from '../src/vendor-protovalidate.js';

const bufBin = path.join(repoRoot, 'node_modules/.bin/buf');
const fixtures = fileURLToPath(new URL('./fixtures/proto-print/', import.meta.url));

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'hearth-vendor-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function freshCopy(name: string): Promise<string> {
  const dir = path.join(scratch, name);
  await writeVendored(dir);
  return dir;
}

async function edit(dir: string, change: (text: string) => string): Promise<void> {
  const file = path.join(dir, protoPath);
  const before = await readFile(file, 'utf8');
  const after = change(before);
  assert.notEqual(after, before, 'the edit must change the file');
  await writeFile(file, after);
}

describe('vendored protovalidate', () => {
  test('the committed file matches the installed @bufbuild/protovalidate', async () => {
    const result = await checkVendored();
    assert.deepEqual(result.problems, []);
    assert.equal(result.ok, true);
  });

  test('a fresh generation passes the check', async () => {
    const result = await checkVendored(await freshCopy('fresh'));
    assert.deepEqual(result.problems, []);
  });

  test('a changed rule expression is reported with the message and field it belongs to', async () => {
    const dir = await freshCopy('changed-rule');
    await edit(dir, (t) =>
      t.replace('!rules.uuid || this.size() == 0 || this.size() == 16', '!rules.uuid || this.size() == 0 || this.size() == 15'),
    );
    const result = await checkVendored(dir);
    assert.equal(result.ok, false);
    assert.ok(
      result.problems.some((p) => p.includes('BytesRules') && p.includes('uuid') && p.includes('expression')),
      result.problems.join('\n'),
    );
  });

  test('a renumbered field is reported', async () => {
    const dir = await freshCopy('renumbered');
    await edit(dir, (t) => t.replace('optional string expression = 3;', 'optional string expression = 9;'));
    const result = await checkVendored(dir);
    assert.equal(result.ok, false);
    assert.ok(result.problems.some((p) => p.includes('Rule') && p.includes('expression')), result.problems.join('\n'));
  });

  test('a removed rule is reported', async () => {
    const dir = await freshCopy('removed');
    // Drop the second of the two rules on StringRules.email.
    await edit(dir, (t) => t.replace(/\},\n\s+\(predefined\)\.cel = \{\n\s+id: "string\.email_empty"[^}]*\}/, '}'));
    const result = await checkVendored(dir);
    assert.equal(result.ok, false);
    assert.ok(result.problems.some((p) => p.includes('StringRules') && p.includes('email')), result.problems.join('\n'));
  });

  test('a comment-only edit is caught as not being the tool output', async () => {
    const dir = await freshCopy('comment');
    await edit(dir, (t) => t.replace('package buf.validate;', '// local tweak\npackage buf.validate;'));
    const result = await checkVendored(dir);
    assert.equal(result.ok, false);
    assert.ok(result.problems.some((p) => p.includes("not the tool's output")), result.problems.join('\n'));
  });

  test('a missing LICENSE is reported', async () => {
    const dir = await freshCopy('no-license');
    await rm(path.join(dir, 'LICENSE'));
    const result = await checkVendored(dir);
    assert.equal(result.ok, false);
    assert.ok(result.problems.some((p) => p.includes('LICENSE')), result.problems.join('\n'));
  });

  test('the header keeps the upstream notice and names the source package version', async () => {
    const text = await readFile(path.join(repoRoot, 'proto/vendor/protovalidate', protoPath), 'utf8');
    assert.match(text, /^\/\/ Copyright .*Buf Technologies, Inc\./);
    assert.match(text, /http:\/\/www\.apache\.org\/licenses\/LICENSE-2\.0/);
    assert.match(text, /@bufbuild\/protovalidate@\d+\.\d+\.\d+\. DO NOT EDIT BY HAND/);
  });
});

describe('proto printer round trip', () => {
  test('every fixture prints back to source that compiles to the same descriptor', async () => {
    const src = path.join(scratch, 'fixtures-src');
    await cp(fixtures, src, { recursive: true });
    const original = await bufBuild(bufBin, src, scratch);
    const registry = createFileRegistry(original);
    const ours = original.file.filter((f) => f.name.startsWith('fixture/'));
    assert.equal(ours.length, 4);

    const out = path.join(scratch, 'fixtures-printed');
    for (const f of ours) {
      const desc = registry.getFile(f.name);
      assert.ok(desc, f.name);
      const target = path.join(out, f.name);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, printProtoFile(desc));
    }
    const printed = await bufBuild(bufBin, out, scratch);
    for (const f of ours) {
      const again = printed.file.find((p) => p.name === f.name);
      assert.ok(again, `${f.name} missing after printing`);
      const { equal, differences } = compareFiles(f, again, registry);
      assert.deepEqual(differences, [], f.name);
      assert.equal(equal, true, f.name);
    }
  });

  test('compareFiles notices a difference inside an option aggregate', async () => {
    const src = path.join(scratch, 'fixtures-cmp');
    await cp(fixtures, src, { recursive: true });
    const a = await bufBuild(bufBin, src, scratch);
    const file = path.join(src, 'fixture/v1/things.proto');
    await writeFile(file, (await readFile(file, 'utf8')).replace('{id: "r2"', '{id: "r3"'));
    const b = await bufBuild(bufBin, src, scratch);
    const name = 'fixture/v1/things.proto';
    const registry = createFileRegistry(a);
    const x = a.file.find((f) => f.name === name);
    const y = b.file.find((f) => f.name === name);
    assert.ok(x && y);
    const { equal, differences } = compareFiles(x, y, registry);
    assert.equal(equal, false);
    assert.ok(differences.some((d) => d.includes('[fixture.v1.limits].rules[1].id')), differences.join('\n'));
  });
});

describe('proto printer pieces', () => {
  test('strings escape quotes, backslashes and control characters but keep UTF-8 text', () => {
    assert.equal(quoteString('a"b\\c\n\t\u0001é☃'), '"a\\"b\\\\c\\n\\t\\001é☃"');
    assert.equal(quoteBytes(new Uint8Array([0, 65, 0xff, 0x22])), '"\\000A\\377\\""');
  });

  test('short names are used only where nothing closer shadows them', async () => {
    const src = path.join(scratch, 'fixtures-names');
    await cp(fixtures, src, { recursive: true });
    const set = await bufBuild(bufBin, src, scratch);
    const registry = createFileRegistry(set);
    const files = ['fixture/v1/things.proto', 'fixture/v1/opts.proto', 'google/protobuf/timestamp.proto']
      .map((n) => registry.getFile(n))
      .filter((f) => f !== undefined);
    const names = new NameResolver(files);
    assert.equal(names.relative(['fixture.v1.Thing'], 'fixture.v1.Rule'), 'Rule');
    // Inside Other, `Thing` means fixture.v1.Other.Thing.
    assert.equal(names.relative(['fixture.v1.Other'], 'fixture.v1.Thing'), 'v1.Thing');
    assert.equal(names.relative(['fixture.v1.Other'], 'fixture.v1.Other.Thing'), 'Thing');
    assert.equal(names.relative(['fixture.v1'], 'google.protobuf.Timestamp'), 'google.protobuf.Timestamp');
  });
});
