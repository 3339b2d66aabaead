import { type Body, JSON_TYPE } from './bodies.js';
import type { Outcome } from './http.js';

export interface Finding {
  readonly rpc: string;
  /** A class of bad input (text, page-token...), "case-changed ids", or "coverage" for what the walk could not do. */
  readonly klass: string;
  readonly variant: string;
  readonly target: string;
  readonly caller: 'person' | 'anonymous';
  /** internal, unknown, data_loss, HTTP 5xx, unavailable, hang, connection failed, accepted silently, case mismatch, crash. */
  readonly problem: string;
  readonly request: string;
  readonly answer: string;
}

/** Codes that blame the server for what a client sent. */
const SERVER_FAULTS = new Set(['internal', 'unknown', 'data_loss']);
/**
 * Answers only a handler gives. An unknown enum name that gets one of these was dropped on the
 * way in rather than refused; a refusal by the gate in front (unauthenticated, permission
 * denied, not found) or unimplemented says nothing either way and passes.
 */
const HANDLER_ANSWERS = new Set(['ok', 'aborted', 'failed_precondition', 'already_exists']);
/** Fair codes that Connect sends with a 5xx status: not built yet (501), the client's own deadline (504). */
const FAIR_5XX = new Set(['unimplemented', 'deadline_exceeded']);

/**
 * What is wrong with an answer to bad input, or undefined when it is a fair answer. Every code
 * but internal, unknown and data_loss is fair; unavailable is not (the database is up: the
 * run checks readiness before it starts). HTTP 5xx never is. A hang (past the per-call
 * deadline) or a dropped connection is a finding too, unless the body was past the limit. `mustRefuse` cases also fail when a
 * handler answered them (see HANDLER_ANSWERS).
 */
export function problemOf(outcome: Outcome, mustRefuse: boolean, oversized = false): string | undefined {
  if (outcome.kind === 'hang') return 'hang';
  // A server may answer a body past its limit by closing the connection mid-upload (RFC 9110, 413).
  if (outcome.kind === 'network') return oversized ? undefined : 'connection failed';
  if (outcome.code && SERVER_FAULTS.has(outcome.code)) return outcome.code;
  if (outcome.code === 'unavailable') return 'unavailable';
  if (outcome.status >= 500 && !FAIR_5XX.has(outcome.code ?? '')) return `HTTP ${outcome.status}`;
  if (mustRefuse && HANDLER_ANSWERS.has(codeOf(outcome))) return 'accepted silently';
  return undefined;
}

/** A short label for an answer: its Connect code, or ok, or what went wrong on the wire. */
export function codeOf(outcome: Outcome): string {
  if (outcome.kind === 'hang') return 'hang';
  if (outcome.kind === 'network') return 'network';
  if (outcome.status === 200) return 'ok';
  return outcome.code ?? `http_${outcome.status}`;
}

export function describeOutcome(outcome: Outcome): string {
  if (outcome.kind === 'hang') return `no answer in ${outcome.ms} ms`;
  if (outcome.kind === 'network') return `connection failed: ${outcome.error}`;
  const message = outcome.message ?? (outcome.status === 200 ? '' : outcome.body);
  return `HTTP ${outcome.status} ${codeOf(outcome)}${message ? ` ${JSON.stringify(truncate(message, 160))}` : ''}`;
}

/** The request as a reader can see it: JSON text (escapes make NUL and surrogates visible) or hex. */
export function excerpt(body: Body, max = 200): string {
  const type = body.headers['content-type'];
  const extra = Object.entries(body.headers).filter(([k, v]) => !(k === 'content-type' && v === JSON_TYPE));
  const prefix = extra.length > 0 ? `[${extra.map(([k, v]) => `${k}: ${v}`).join(', ')}] ` : '';
  const bytes = Buffer.from(body.bytes);
  const size = bytes.byteLength > max ? ` (${bytes.byteLength} bytes)` : '';
  if (type?.startsWith(JSON_TYPE) && bytes.toString('utf8').length > 0 && Buffer.from(bytes.toString('utf8')).equals(bytes)) {
    const text = JSON.stringify(truncate(bytes.toString('utf8'), max)).slice(1, -1);
    return `${prefix}${text}${size}`;
  }
  return `${prefix}0x${bytes.subarray(0, Math.floor(max / 2)).toString('hex')}${size}`;
}

/** Cut at a code point, so an emoji is not split into a lone surrogate in the report. */
function truncate(s: string, max: number): string {
  return s.length > max ? `${Array.from(s.slice(0, max + 1)).slice(0, -1).join('')}…` : s;
}

/**
 * The findings grouped by input class, then by problem, one line each, so a reader sees at a
 * glance which classes fail and how; a summary of counts comes first.
 */
export function formatFindings(findings: readonly Finding[], header: string): string {
  const lines = [header, ''];
  const byClass = groupBy(findings, (f) => f.klass);
  for (const [klass, list] of byClass) {
    const problems = groupBy(list, (f) => f.problem);
    lines.push(`${klass}: ${list.length} (${[...problems].map(([p, l]) => `${p} ×${l.length}`).join(', ')}) in ${new Set(list.map((f) => f.rpc)).size} RPCs`);
  }
  for (const [klass, list] of byClass) {
    lines.push('', `== ${klass} (${list.length}) ==`);
    for (const [problem, group] of groupBy(list, (f) => f.problem)) {
      lines.push(`-- ${problem} (${group.length})`);
      for (const f of group) {
        lines.push(`  ${f.rpc} [${f.target}] ${f.variant}, as ${f.caller} -> ${f.answer}`);
        lines.push(`      ${f.request}`);
      }
    }
  }
  return lines.join('\n');
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    out.set(k, [...(out.get(k) ?? []), item]);
  }
  return out;
}
