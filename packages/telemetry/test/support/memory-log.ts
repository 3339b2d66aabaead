import type { DestinationStream } from 'pino';

export type LogLine = Record<string, unknown> & { level: string; msg?: string };

/** A pino destination that keeps every JSON line, parsed, for assertions. */
export function memoryLog(): DestinationStream & { readonly lines: LogLine[]; readonly raw: string[] } {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  return {
    lines,
    raw,
    write(chunk: string) {
      for (const text of chunk.split('\n').filter(Boolean)) {
        raw.push(text);
        lines.push(JSON.parse(text) as LogLine);
      }
    },
  };
}
