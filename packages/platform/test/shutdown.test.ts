import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { loadServiceConfig } from '@hearth/config';
import { type TestDatabase, createTestDatabase } from '@hearth/testkit';
import { type ServiceModule, startHost } from '../src/index.js';

/** One GET on a keep-alive agent: the status and whether the answer asked to close the connection. */
function get(agent: Agent, url: string): Promise<{ status: number; close: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, close: res.headers.connection === 'close' }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('shutdown under load', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'shutdown' });
  });
  afterAll(() => db.drop());

  it('serves what was sent before the signal, stops background work while its listener still answers, then closes cleanly', async () => {
    const config = loadServiceConfig('post', {}, {
      DATABASE_URL: db.url,
      HEARTH_PORT: '0',
      HEARTH_LOG_LEVEL: 'silent',
      HEARTH_AUTH_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
      HEARTH_DRAIN_DELAY_MS: '1000',
    });
    // A module whose background worker keeps calling its own process, as a job queue calling a
    // service hosted in the same process does; stop() lets the last call finish.
    const workerFailures: unknown[] = [];
    let workerCalls = 0;
    let stopping = false;
    let worker: Promise<void> | undefined;
    let address: (() => string) | undefined;
    const module: ServiceModule = {
      name: 'post',
      rules: [],
      routes: () => undefined,
      http(app) {
        app.get('/work', async () => {
          await new Promise((r) => setTimeout(r, 5));
          return { ok: true };
        });
      },
      readiness: [],
      migrate: async () => undefined,
      async start() {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        worker = (async () => {
          while (!stopping) {
            try {
              await get(agent, `${address?.()}work`);
              workerCalls++;
            } catch (err) {
              workerFailures.push(err);
            }
          }
          agent.destroy();
        })();
      },
      async stop() {
        stopping = true;
        await worker;
      },
      close: async () => undefined,
    };
    const host = await startHost({
      name: 'post',
      config,
      services: [
        {
          name: 'post',
          create: (runtime) => {
            address = () => runtime.address.url();
            return module;
          },
        },
      ],
    });

    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const sent: Array<{ at: number; outcome: Promise<{ status: number; close: boolean } | Error> }> = [];
    let closeStarted = Number.POSITIVE_INFINITY;
    let refused = false;
    const clients = Array.from({ length: 8 }, async () => {
      while (!refused) {
        const at = performance.now();
        const outcome = get(agent, `${host.url}/work`).catch((err: Error) => err);
        sent.push({ at, outcome });
        const r = await outcome;
        if (r instanceof Error && (r as NodeJS.ErrnoException).code === 'ECONNREFUSED') refused = true;
      }
    });
    // Load first (however slow the machine), then the signal.
    while (sent.length < 60) await new Promise((r) => setTimeout(r, 10));
    closeStarted = performance.now();
    await host.close();
    refused = true;
    await Promise.all(clients);
    agent.destroy();

    const before = sent.filter((s) => s.at < closeStarted);
    const outcomes = await Promise.all(before.map((s) => s.outcome));
    const failed = outcomes.filter((o) => o instanceof Error || o.status !== 200);
    assert.ok(before.length > 50, `only ${before.length} requests before the signal`);
    assert.deepEqual(failed, [], 'every request sent before shutdown began got its answer (no reset, no 503)');
    // While draining (readiness failed, the listener still open) requests are served, and each
    // answer closes its connection so the client goes elsewhere next time.
    const draining = await Promise.all(sent.filter((s) => s.at >= closeStarted && s.at < closeStarted + 800).map((s) => s.outcome));
    assert.ok(draining.length > 3, `only ${draining.length} requests while draining`);
    for (const o of draining) assert.ok(!(o instanceof Error) && o.status === 200 && o.close, `while draining: ${o instanceof Error ? o.message : JSON.stringify(o)}`);
    // Once the listener closes, a new connection is refused (or reset if it raced the close):
    // either way before any request was read, so a client can always retry it elsewhere.
    const late = await Promise.all(sent.filter((s) => s.at >= closeStarted + 800).map((s) => s.outcome));
    for (const o of late) {
      if (o instanceof Error) assert.ok(['ECONNREFUSED', 'ECONNRESET'].includes((o as NodeJS.ErrnoException).code ?? ''), `after draining: ${o.message}`);
      else assert.ok(o.status === 200 && o.close);
    }
    assert.deepEqual(workerFailures, [], "background work never called a closed listener");
    assert.ok(workerCalls > 5);
  });
});
