// The SDK in a real browser (Debian's chromium, driven by playwright-core): a page bundled with
// esbuild follows a circle with RealtimeClient over the browser's own WebSocket and sends with
// ChatOutbox over its fetch, across origins (CORS), and shows every message once, in order,
// through dropped connections.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import type { Person } from '@hearth/testkit/system';
import { freePort } from '@hearth/testkit';
import { type WholeSystem, startWholeSystem } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// On a developer's machine without a browser the test is skipped with a warning; CI has one
// (.ci/run checks), and there a missing browser is a failure, not a skip.
if (!existsSync(CHROMIUM)) {
  if (process.env.CI === 'true') throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
  process.stderr.write(`warning: no chromium at ${CHROMIUM}: the browser test is skipped (apt-get install chromium, or set CHROMIUM_PATH)\n`);
}

describe.skipIf(!existsSync(CHROMIUM))('the SDK in headless Chromium', () => {
  let whole: WholeSystem;
  let page: Server;
  let pageUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    // The page is served from an origin of its own, as a web app would be.
    const port = await freePort();
    pageUrl = `http://127.0.0.1:${port}`;
    whole = await startWholeSystem({ HEARTH_CORS_ORIGINS: pageUrl, HEARTH_CIRCLE_SENDS_PER_MINUTE: '10000' });
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL('fixtures/browser-chat.ts', import.meta.url))],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['@hearth/source'],
      logLevel: 'silent',
    });
    const js = bundle.outputFiles[0]!.text;
    page = createServer((req, res) => {
      if (req.url === '/app.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>hearth</title><script type="module" src="/app.js"></script>');
    });
    await new Promise<void>((resolve) => page.listen(port, '127.0.0.1', resolve));
    assert.equal((page.address() as AddressInfo).port, port);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => page?.close(resolve));
    await whole?.close();
  });

  it('follows a circle over the browser WebSocket, sends over fetch, and shows every message once, in order, through dropped connections', async () => {
    const { seed, circle: circles, chat } = whole.system;
    const owner = await seed.person({ name: 'owner' });
    const me: Person = await seed.person({ name: 'browser' });
    const { circle } = await circles.createCircle({ name: 'Web', visibility: CircleVisibility.PUBLIC, idempotencyKey: `c-${randomUUID()}` }, owner.call);
    await circles.joinCircle({ target: { case: 'circleId', value: circle!.id } }, me.call);
    const { lastSeq: start } = await chat.listMessages({ circleId: circle!.id, pageSize: 1 }, me.call);

    const tab = await browser.newPage();
    await tab.goto(pageUrl);
    await tab.waitForFunction(() => 'hearth' in globalThis);
    await tab.evaluate((o) => (globalThis as unknown as { hearth: { start(x: unknown): void } }).hearth.start(o), {
      baseUrl: whole.url,
      token: me.accessToken,
      circleId: circle!.id,
      lastSeq: String(start),
    });
    await tab.waitForFunction(() => (globalThis as unknown as { hearth: { state: { statuses: string[] } } }).hearth.state.statuses.includes('open'));

    // The page sends one itself (fetch, CORS), then the owner sends 30 while the page's socket drops twice.
    const own = await tab.evaluate((id) => (globalThis as unknown as { hearth: { send(c: string, b: string): Promise<string> } }).hearth.send(id, 'from the browser'), circle!.id);
    assert.ok(own.length > 0, 'sent through the outbox');
    const opened = () => tab.evaluate(() => (globalThis as unknown as { hearth: { state: { statuses: string[] } } }).hearth.state.statuses.filter((s) => s === 'open').length);
    let drops = 0;
    for (let i = 0; i < 30; i++) {
      if (i === 8 || i === 19) {
        // Each drop cuts an open socket (not one still reconnecting from the last drop).
        while ((await opened()) < drops + 1) await new Promise((r) => setTimeout(r, 20));
        await tab.evaluate(() => (globalThis as unknown as { hearth: { drop(): void } }).hearth.drop());
        drops++;
      }
      await chat.sendMessage({ circleId: circle!.id, clientMessageId: randomUUID(), body: `owner ${i}` }, owner.call);
    }
    const { lastSeq: end } = await chat.listMessages({ circleId: circle!.id, pageSize: 1 }, me.call);
    await tab.waitForFunction(
      (last) => (globalThis as unknown as { hearth: { state: { shown: Array<{ seq: string }> } } }).hearth.state.shown.at(-1)?.seq === last,
      String(end),
      { timeout: 15_000 },
    );
    const shown = await tab.evaluate(() => (globalThis as unknown as { hearth: { state: { shown: Array<{ seq: string; body: string; id: string }> } } }).hearth.state.shown);
    assert.deepEqual(
      shown.map((m) => BigInt(m.seq)),
      Array.from({ length: Number(end - start) }, (_, i) => start + BigInt(i + 1)),
      'each seq once, in order',
    );
    assert.deepEqual(
      shown.map((m) => m.body),
      ['from the browser', ...Array.from({ length: 30 }, (_, i) => `owner ${i}`)],
    );
    const statuses = await tab.evaluate(() => (globalThis as unknown as { hearth: { state: { statuses: string[] } } }).hearth.state.statuses);
    assert.ok(statuses.filter((s) => s === 'open').length >= 3, `reconnected after each drop: ${statuses.join(',')}`);
    await tab.close();
  });
});
