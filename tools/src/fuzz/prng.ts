/**
 * The fuzz run's seeds. The same seed gives the same cases, so a failing run can be replayed
 * with HEARTH_FUZZ_SEED; each RPC draws from its own stream (derived from the seed and its
 * name), so adding an RPC does not change the cases of the others. The generator is testkit's.
 */
export { type Rng, createRng, deriveSeed } from '@hearth/testkit';

/** The seed a run uses unless HEARTH_FUZZ_SEED says otherwise. */
export const DEFAULT_SEED = 20_261_130;

export function seedFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_SEED;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`HEARTH_FUZZ_SEED must be an integer, got ${JSON.stringify(value)}`);
  return n >>> 0;
}

