import { type ConfigOf, type ConfigSpec, leaves } from './spec.js';

export interface ConfigProblem {
  /** The environment variable at fault. */
  readonly variable: string;
  readonly message: string;
}

/** Thrown when configuration is invalid; lists every problem at once, never a secret's value. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.variable}: ${p.message}`);
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadOptions {
  /**
   * Prefixes this process owns (e.g. `HEARTH_AUTH_`). A set variable under an owned prefix that no
   * spec declares is an error: a typo must never silently become a default.
   */
  readonly ownedPrefixes?: readonly string[];
  /** Prefixes owned by someone else (another service); ignored even when under an owned prefix. */
  readonly foreignPrefixes?: readonly string[];
  /** Rules across variables, reported with every other problem (see ConfigCheck). */
  readonly checks?: ReadonlyArray<ConfigCheck<never>>;
}

/**
 * A rule that spans variables ("B is required when A is set"). It runs on the loaded values, and
 * is skipped when one of `variables` already has a problem of its own, so a variable is never
 * reported twice. It returns the problems it finds, each naming the variable to fix.
 */
export interface ConfigCheck<C> {
  readonly variables: readonly string[];
  check(config: C): ConfigProblem[];
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Step one and two of configuration: read the declared variables from `env` (empty counts as
 * unset), then validate each with its schema and build the nested typed object. Every bad or
 * missing value is collected before failing.
 */
export function loadConfig<S extends ConfigSpec>(spec: S, env: Env, opts: LoadOptions = {}): ConfigOf<S> {
  const problems: ConfigProblem[] = [];
  const result: Record<string, unknown> = {};
  const declared = new Set<string>();

  for (const { path, leaf } of leaves(spec)) {
    declared.add(leaf.name);
    const raw = env[leaf.name];
    const parsed = leaf.schema.safeParse(raw === undefined || raw.trim() === '' ? undefined : raw.trim());
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => i.message).join('; ');
      const shown = leaf.secret || raw === undefined ? '' : ` (got ${JSON.stringify(truncate(raw))})`;
      problems.push({ variable: leaf.name, message: `${raw === undefined ? 'missing: ' : ''}${message}${shown}` });
      continue;
    }
    setPath(result, path, parsed.data);
  }

  for (const name of Object.keys(env).sort()) {
    if (declared.has(name) || env[name] === undefined) continue;
    const owned = opts.ownedPrefixes?.some((p) => name.startsWith(p)) ?? false;
    const foreign = opts.foreignPrefixes?.some((p) => name.startsWith(p)) ?? false;
    if (owned && !foreign) problems.push({ variable: name, message: 'unknown variable (check the spelling)' });
  }

  const failed = new Set(problems.map((p) => p.variable));
  for (const c of (opts.checks ?? []) as ReadonlyArray<ConfigCheck<ConfigOf<S>>>) {
    if (c.variables.some((v) => failed.has(v))) continue;
    problems.push(...c.check(result as ConfigOf<S>));
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return result as ConfigOf<S>;
}

/** The variables a spec reads, for docs and `--help` output (never values). */
export function describeConfig(spec: ConfigSpec): Array<{ variable: string; secret: boolean; description: string }> {
  return leaves(spec).map(({ leaf }) => ({ variable: leaf.name, secret: leaf.secret, description: leaf.description }));
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
