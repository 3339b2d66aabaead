// GetCrisisResources: no sign-in, by region with the international directories after, unknown
// regions the international ones alone, always-open and the requested language first, and
// fetchable with a plain HTTP GET that caches may keep.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code } from '@connectrpc/connect';
import { refusal } from '@hearth/testkit';
import { type TestSystem, startTestSystem } from '@hearth/testkit/system';
import type { SupportApp } from '../src/app.js';

let sys: TestSystem<'auth' | 'support'>;

beforeAll(async () => {
  sys = await startTestSystem({ services: ['auth', 'support'], name: 'support_crisis' });
});
afterAll(async () => {
  await sys?.close();
});

describe('GetCrisisResources', () => {
  it("answers without sign-in: the region's emergency number and lines, then the international directories", async () => {
    const gb = await sys.support.getCrisisResources({ regionCode: 'GB' });
    assert.deepEqual([gb.regionCode, gb.emergencyNumber], ['GB', '999']);
    assert.deepEqual(gb.resources.map((r) => r.name), ['Samaritans', 'Shout', 'Find A Helpline']);
    const samaritans = gb.resources[0]!;
    assert.deepEqual([samaritans.phone, samaritans.alwaysOpen, samaritans.languages], ['116 123', true, ['en', 'cy']]);
    assert.deepEqual([gb.resources[1]!.sms, gb.resources[1]!.smsBody], ['85258', 'SHOUT']);
    const unknown = await sys.support.getCrisisResources({ regionCode: 'ZZ' });
    assert.deepEqual([unknown.regionCode, unknown.emergencyNumber, unknown.resources.map((r) => r.name)], ['', '', ['Find A Helpline']]);
    const none = await sys.support.getCrisisResources({});
    assert.deepEqual(none.resources.map((r) => r.name), ['Find A Helpline']);
  });

  it('lists lines in the requested language first among the always-open ones', async () => {
    const db = (sys.modules.support as SupportApp).db.db;
    await db
      .insertInto('crisis_resources')
      .values([
        { region_code: 'CA', name: 'Ligne de jour', description: 'x', hours: 'Mon-Fri 9-17', always_open: false, languages: ['fr'] },
        { region_code: 'CA', name: 'Always, in French', description: 'x', hours: '24/7', always_open: true, languages: ['fr-CA'] },
      ])
      .execute();
    const fr = await sys.support.getCrisisResources({ regionCode: 'CA', language: 'fr' });
    assert.deepEqual(fr.resources.map((r) => r.name), ['9-8-8 Suicide Crisis Helpline', 'Always, in French', 'Find A Helpline', 'Ligne de jour']);
    const en = await sys.support.getCrisisResources({ regionCode: 'CA', language: 'en-CA' });
    assert.deepEqual(en.resources.map((r) => r.name).slice(0, 2), ['9-8-8 Suicide Crisis Helpline', 'Find A Helpline'], 'English-speaking always-open lines first');
  });

  it('is a cacheable HTTP GET for apps that keep it offline, and refuses a malformed region', async () => {
    const message = encodeURIComponent(JSON.stringify({ regionCode: 'AU' }));
    const res = await fetch(`${sys.url}/hearth.support.v1.SupportService/GetCrisisResources?connect=v1&encoding=json&message=${message}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('cache-control') ?? '', /public, max-age=\d+/);
    const body = (await res.json()) as { emergencyNumber: string; resources: Array<{ phone: string }> };
    assert.deepEqual([body.emergencyNumber, body.resources[0]?.phone], ['000', '13 11 14']);
    assert.equal((await refusal(sys.support.getCrisisResources({ regionCode: 'gb' }))).code, Code.InvalidArgument);
  });
});
