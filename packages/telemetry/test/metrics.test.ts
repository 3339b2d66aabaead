import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { Registry, register as globalRegistry } from 'prom-client';
import { RPC_DURATION_BUCKETS, createMetrics } from '../src/index.js';

describe('createMetrics', () => {
  it('gives every call its own registry, never the global one', async () => {
    const a = createMetrics({ service: 'auth', collectDefault: false });
    const b = createMetrics({ service: 'post', collectDefault: false });
    assert.notEqual(a.registry, b.registry);
    assert.notEqual(a.registry, globalRegistry);
    a.rpcRequests.inc({ service: 'hearth.auth.v1.AuthService', method: 'SignIn', code: 'ok' });
    const bBody = (await b.render()).body;
    assert.doesNotMatch(bBody, /SignIn/);
    assert.equal(await globalRegistry.getSingleMetricAsString('hearth_rpc_requests_total').catch(() => 'absent'), 'absent');
  });

  it('renders Prometheus text with the service default label', async () => {
    const m = createMetrics({ service: 'post', collectDefault: false });
    m.httpRequests.inc({ route: '/healthz', status: '200' });
    m.rpcDuration.observe({ service: 'hearth.post.v1.PostService', method: 'GetPost', code: 'ok' }, 0.02);
    const { contentType, body } = await m.render();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.match(body, /^hearth_http_requests_total\{route="\/healthz",status="200",service="post"\} 1$/m);
    // The rpc service label is the Connect service; it takes the default label's place.
    assert.match(body, /^hearth_rpc_duration_seconds_count\{service="hearth\.post\.v1\.PostService",method="GetPost",code="ok"\} 1$/m);
    assert.match(body, /^hearth_rpc_duration_seconds_bucket\{le="0\.025",service="hearth\.post\.v1\.PostService",method="GetPost",code="ok"\} 1$/m);
    assert.match(body, /^hearth_rpc_duration_seconds_bucket\{le="0\.01",service="hearth\.post\.v1\.PostService",method="GetPost",code="ok"\} 0$/m);
  });

  it('uses RPC latency buckets from 5 ms to 10 s', () => {
    assert.equal(RPC_DURATION_BUCKETS[0], 0.005);
    assert.equal(RPC_DURATION_BUCKETS.at(-1), 10);
  });

  it('collects Node process metrics by default and not when disabled', async () => {
    const on = await createMetrics({ service: 'auth' }).render();
    const off = await createMetrics({ service: 'auth', collectDefault: false }).render();
    assert.match(on.body, /^process_resident_memory_bytes\{service="auth"\} \d+/m);
    assert.match(on.body, /^nodejs_eventloop_lag_seconds/m);
    assert.doesNotMatch(off.body, /process_resident_memory_bytes/);
  });

  it('fills a registry it is given', async () => {
    const registry = new Registry();
    const m = createMetrics({ service: 'user', collectDefault: false, registry });
    assert.equal(m.registry, registry);
    assert.ok(registry.getSingleMetric('hearth_rpc_requests_total'));
  });
});
