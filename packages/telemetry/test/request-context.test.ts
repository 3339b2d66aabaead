import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { requestIdsFrom, sanitizeId } from '../src/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('sanitizeId', () => {
  it('keeps short tokens of letters, digits, dot, underscore and dash', () => {
    for (const ok of ['abc', 'A-b_c.9', '0', 'x'.repeat(128), '01JD6W8Z3Q5T-req.1']) assert.equal(sanitizeId(ok), ok);
  });

  it('rejects anything else', () => {
    const bad = ['', 'x'.repeat(129), 'a b', 'a\nb', 'a\r\nx-evil: 1', '{"a":1}', 'ünïcode', 'a/b', 'a;b', '<script>'];
    for (const value of bad) assert.equal(sanitizeId(value), undefined, JSON.stringify(value));
    assert.equal(sanitizeId(null), undefined);
    assert.equal(sanitizeId(undefined), undefined);
  });
});

describe('requestIdsFrom', () => {
  it('uses sane incoming ids', () => {
    const ids = requestIdsFrom(new Headers({ 'x-request-id': 'req-1', 'x-correlation-id': 'corr-1' }));
    assert.deepEqual(ids, { requestId: 'req-1', correlationId: 'corr-1' });
  });

  it('makes a new request id when the header is missing or unsafe, and correlates on it', () => {
    for (const headers of [new Headers(), new Headers({ 'x-request-id': 'bad id', 'x-correlation-id': 'x'.repeat(200) })]) {
      const ids = requestIdsFrom(headers);
      assert.match(ids.requestId, UUID);
      assert.equal(ids.correlationId, ids.requestId);
    }
  });

  it('keeps a sane correlation id even when the request id is replaced', () => {
    const ids = requestIdsFrom(new Headers({ 'x-request-id': 'no spaces allowed', 'x-correlation-id': 'flow-7' }));
    assert.match(ids.requestId, UUID);
    assert.equal(ids.correlationId, 'flow-7');
  });

  it('never reuses a generated id', () => {
    assert.notEqual(requestIdsFrom(new Headers()).requestId, requestIdsFrom(new Headers()).requestId);
  });
});
