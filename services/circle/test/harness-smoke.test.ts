import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { type TestSystem, startTestSystem } from '@hearth/testkit/system';

describe('harness smoke', () => {
  let sys: TestSystem<'auth' | 'user' | 'circle'>;
  beforeAll(async () => {
    sys = await startTestSystem({ services: ['auth', 'user', 'circle'] });
  });
  afterAll(() => sys?.close());

  it('seeds a person and a private circle; another person cannot see it', async () => {
    const alice = await sys.seed.person({ name: 'alice' });
    const bob = await sys.seed.person({ name: 'bob' });
    const circle = await sys.seed.circle(alice, { visibility: CircleVisibility.PRIVATE });
    const got = await sys.circle.getCircle({ circleId: circle.id }, alice.call);
    expect(got.circle?.id).toBe(circle.id);
    await expect(sys.circle.getCircle({ circleId: circle.id }, bob.call)).rejects.toThrow(/not found/);
    await expect(sys.circle.getCircle({ circleId: circle.id.toUpperCase() }, alice.call)).resolves.toBeDefined();
  });
});
