import { Agent, request } from 'node:http';

/** What came back for one request. */
export type Outcome =
  | { readonly kind: 'answer'; readonly status: number; readonly code?: string; readonly message?: string; readonly body: string; readonly ms: number }
  | { readonly kind: 'hang'; readonly ms: number }
  | { readonly kind: 'network'; readonly error: string; readonly ms: number };

export interface Sender {
  /** POSTs `bytes` to `path`; never rejects. */
  post(path: string, bytes: Uint8Array, headers: Readonly<Record<string, string>>, localAddress?: string): Promise<Outcome>;
  get(path: string, localAddress?: string): Promise<Outcome>;
  close(): void;
}

const MAX_READ = 256 * 1024;

/**
 * Raw HTTP/1.1 with a deadline per call after which the call counts as a hang: keep-alive from
 * the default address, a connection of its own for a call from a given client address (those
 * are used once each, see addresses.ts). Raw, not a Connect client: the bodies are meant to be
 * malformed, and the fuzzer must see exactly the status, code and message a client would.
 */
export function createSender(baseUrl: string, deadlineMs: number): Sender {
  const base = new URL(baseUrl);
  const pooled = new Agent({ keepAlive: true, maxSockets: 4 });

  const send = (method: 'GET' | 'POST', path: string, bytes: Uint8Array | undefined, headers: Readonly<Record<string, string>>, localAddress?: string) =>
    new Promise<Outcome>((resolve) => {
      const started = performance.now();
      const ms = () => Math.round(performance.now() - started);
      let settled = false;
      const settle = (o: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const req = request(
        {
          host: base.hostname,
          port: base.port,
          method,
          path,
          ...(localAddress ? { agent: false, localAddress } : { agent: pooled }),
          headers: { 'connect-protocol-version': '1', 'user-agent': 'hearth-fuzz', ...headers, ...(bytes ? { 'content-length': String(bytes.byteLength) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_READ) chunks.push(c);
          });
          res.on('error', (err) => settle({ kind: 'network', error: `response: ${err.message}`, ms: ms() }));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            // Only error responses carry a Connect error; a success body may have a `code` field of its own.
            settle({ kind: 'answer', status, ...(status === 200 ? {} : connectError(res.headers['content-type'], body)), body, ms: ms() });
          });
        },
      );
      const timer = setTimeout(() => {
        settle({ kind: 'hang', ms: ms() });
        req.destroy();
      }, deadlineMs);
      req.on('error', (err: NodeJS.ErrnoException) => settle({ kind: 'network', error: err.code ?? err.message, ms: ms() }));
      req.end(bytes);
    });

  return {
    post: (path, bytes, headers, localAddress) => send('POST', path, bytes, headers, localAddress),
    get: (path, localAddress) => send('GET', path, undefined, {}, localAddress),
    close: () => pooled.destroy(),
  };
}

/** The Connect error in a response body, if it is one: `{"code": "...", "message": "..."}`. */
function connectError(contentType: string | undefined, body: string): { code?: string; message?: string } {
  if (!contentType?.startsWith('application/json')) return {};
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
    return {
      ...(typeof parsed.code === 'string' ? { code: parsed.code } : {}),
      ...(typeof parsed.message === 'string' ? { message: parsed.message } : {}),
    };
  } catch {
    return {};
  }
}
