/**
 * A write named a version of a row that is no longer current (optimistic concurrency). The
 * platform answers it as Aborted, which clients treat as "reload and try again".
 */
export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
  constructor(
    /** What changed, as a person would call it: "circle", "membership", "profile". */
    readonly what: string,
    readonly current: string,
  ) {
    super(`the ${what} has changed (now version ${current}); reload it and try again`);
  }
}

/**
 * Throws VersionConflictError unless `requested` (an int64 from the request) is the row's
 * `current` version. Versions are stored as bigint and may reach us as number, string or bigint.
 */
export function assertVersion(what: string, current: number | string | bigint, requested: bigint): void {
  if (BigInt(current) !== requested) throw new VersionConflictError(what, String(current));
}
