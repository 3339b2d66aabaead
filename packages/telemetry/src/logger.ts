import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

export type Logger = PinoLogger;

export interface LoggerOptions {
  readonly service: string;
  /** pino level name; defaults to `info`. */
  readonly level?: string;
  /** Where JSON lines go; stdout when omitted. Tests pass a memory stream. */
  readonly destination?: DestinationStream;
}

/** The value that replaces every redacted field. */
export const REDACTED = '[redacted]';

// Keys that hold credentials whatever object they sit in. Matched at the top level and one or two
// levels down: deep enough for `{ user: { password } }` or `{ body: { auth: { token } } }` without
// the cost of a recursive scan on every log line.
const SECRET_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'secret',
  'clientSecret',
  'privateKey',
  'idToken',
  'code_verifier',
  'cookie',
] as const;

// Header maps appear as `headers` at the top level or under `req`/`res`/`request` (one or two levels
// down). Node lowercases incoming header names; `set-cookie` needs bracket syntax in a redact path.
const SECRET_HEADERS = ['authorization', 'cookie', '["set-cookie"]'] as const;

const headerPath = (prefix: string, header: string): string =>
  header.startsWith('[') ? `${prefix}headers${header}` : `${prefix}headers.${header}`;

/**
 * Every path pino redacts. Exported so tests (and anyone adding a logger elsewhere) can check
 * that a field is covered instead of trusting it is.
 */
export const redactPaths: readonly string[] = [
  ...SECRET_HEADERS.flatMap((h) => ['', '*.', '*.*.'].map((prefix) => headerPath(prefix, h))),
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
];

/**
 * The one way Hearth code gets a root logger: JSON lines with `service`, an ISO timestamp, a
 * string level and secrets redacted. Request bodies are never passed to it: handlers log ids and
 * outcomes, not messages, because a body can hold anything a person typed.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: opts.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names survive log pipelines that do not know pino's numeric levels.
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...redactPaths], censor: REDACTED },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
