// Renders the README's table of environment variables from the config specs themselves, so the
// docs cannot drift from what the code reads. `--write` updates README.md; `--check` fails on drift.
import { type ConfigSpec, describeConfig, sharedSpec } from '@hearth/config';
import { authConfigSpec } from '@hearth/service-auth';
import { circleConfigSpec } from '@hearth/service-circle';
import { moderationConfigSpec } from '@hearth/service-moderation';
import { postConfigSpec } from '@hearth/service-post';
import { realtimeConfigSpec } from '@hearth/service-realtime';
import { supportConfigSpec } from '@hearth/service-support';
import { userConfigSpec } from '@hearth/service-user';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const START = '<!-- env:start -->';
const END = '<!-- env:end -->';

const groups: ReadonlyArray<readonly [string, ConfigSpec]> = [
  ['every process', sharedSpec],
  ['auth', authConfigSpec],
  ['user', userConfigSpec],
  ['circle', circleConfigSpec],
  ['post', postConfigSpec],
  ['moderation', moderationConfigSpec],
  ['support', supportConfigSpec],
  ['realtime', realtimeConfigSpec],
];

export function renderEnvTable(): string {
  const rows = ['| variable | read by | secret | meaning |', '| --- | --- | --- | --- |'];
  for (const [who, spec] of groups) {
    for (const v of describeConfig(spec)) {
      rows.push(`| \`${v.variable}\` | ${who} | ${v.secret ? 'yes' : ''} | ${v.description} |`);
    }
  }
  return rows.join('\n');
}

export function spliceReadme(readme: string, table: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the ${START} ... ${END} markers`);
  return `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`;
}

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain) {
  const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url));
  const current = await readFile(readmePath, 'utf8');
  const next = spliceReadme(current, renderEnvTable());
  if (process.argv.includes('--check')) {
    if (next !== current) {
      process.stderr.write('README.md env table is out of date: run `npm run -w tools docs:env`\n');
      process.exitCode = 1;
    }
  } else {
    await writeFile(readmePath, next);
  }
}
