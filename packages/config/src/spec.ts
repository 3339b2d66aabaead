import { z } from 'zod';
import { parseKeyRing } from './schemas.js';
import { Secret } from './secret.js';

/** One environment variable: where it comes from and what it must look like. */
export interface EnvLeaf<T extends z.ZodType = z.ZodType> {
  readonly kind: 'env';
  readonly name: string;
  readonly schema: T;
  readonly secret: boolean;
  readonly description: string;
}

/** A nested config shape whose leaves are environment variables. */
export interface ConfigSpec {
  readonly [key: string]: EnvLeaf | ConfigSpec;
}

/** The typed config a spec produces: leaves become their schema's output (secrets become `Secret`). */
export type ConfigOf<S extends ConfigSpec> = {
  -readonly [K in keyof S]: S[K] extends EnvLeaf<infer T>
    ? z.output<T>
    : S[K] extends ConfigSpec
      ? ConfigOf<S[K]>
      : never;
};

/** Declares a plain environment variable. An absent or empty variable is `undefined` to the schema. */
export function env<T extends z.ZodType>(name: string, schema: T, description: string): EnvLeaf<T> {
  return { kind: 'env', name, schema, secret: false, description };
}

/**
 * Declares a secret environment variable. Its value is wrapped in `Secret` so it cannot be logged
 * by accident, and error messages never echo what was received.
 */
export function secretEnv(name: string, opts: { optional: true; minLength?: number }, description: string): EnvLeaf<z.ZodType<Secret | undefined>>;
export function secretEnv(name: string, opts: { optional?: false; minLength?: number }, description: string): EnvLeaf<z.ZodType<Secret>>;
export function secretEnv(
  name: string,
  opts: { optional?: boolean; minLength?: number },
  description: string,
): EnvLeaf<z.ZodType<Secret | undefined>> {
  const base = z.string().min(opts.minLength ?? 1, `must be at least ${opts.minLength ?? 1} characters`);
  const schema = opts.optional
    ? base.optional().transform((v) => (v === undefined ? undefined : new Secret(v)))
    : base.transform((v) => new Secret(v));
  return { kind: 'env', name, schema: schema as z.ZodType<Secret | undefined>, secret: true, description };
}

/**
 * A required key ring (schemas.parseKeyRing: `id:base64,...`, the first key current), kept
 * secret; a bad ring is reported by the entry at fault, never with its key material.
 */
export function keyRingEnv(name: string, description: string): EnvLeaf<z.ZodType<Secret>> {
  const leaf = secretEnv(name, {}, description);
  return {
    ...leaf,
    schema: leaf.schema.superRefine((s, ctx) => {
      const ring = parseKeyRing(s.reveal());
      if ('problem' in ring) ctx.addIssue({ code: 'custom', message: ring.problem });
    }),
  };
}

export function isLeaf(node: EnvLeaf | ConfigSpec): node is EnvLeaf {
  return (node as EnvLeaf).kind === 'env' && typeof (node as EnvLeaf).name === 'string';
}

/** Every leaf of a spec, depth first, with its path in the config object. */
export function leaves(spec: ConfigSpec, path: string[] = []): Array<{ path: string[]; leaf: EnvLeaf }> {
  const out: Array<{ path: string[]; leaf: EnvLeaf }> = [];
  for (const [key, node] of Object.entries(spec)) {
    if (isLeaf(node)) out.push({ path: [...path, key], leaf: node });
    else out.push(...leaves(node, [...path, key]));
  }
  return out;
}
