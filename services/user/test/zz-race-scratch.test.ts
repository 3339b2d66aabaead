import { it } from 'vitest';
import { ConnectError } from '@connectrpc/connect';
import { startUsers } from './helpers.js';

it('race scratch', async () => {
  const t = await startUsers();
  let leaked = 0;
  const n = Number(process.env.RACE_N ?? 30);
  try {
    for (let i = 0; i < n; i++) {
      const a = await t.account();
      await a.users.deleteAccount({ confirmHandle: a.handle });
      const r = await a.users.getMe({}).then(() => 'ok', (e: unknown) => ConnectError.from(e).code);
      if (r === 'ok') leaked++;
    }
  } finally {
    console.log(`RACE: ${leaked}/${n} GetMe succeeded right after DeleteAccount`);
    await t.close();
  }
}, 600_000);
