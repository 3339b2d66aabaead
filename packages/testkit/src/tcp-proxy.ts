import { type Socket, createConnection, createServer } from 'node:net';

/**
 * A TCP proxy between a system and one of its dependencies (Redis, Postgres), to take the
 * dependency away the way a network does, while the real server keeps running for every other
 * test file: `cut()` resets every connection and refuses new ones (a crashed or unreachable
 * server); `stall()` holds every byte both ways on open and new connections (a frozen server,
 * a half-open link) until `restore()` delivers them late.
 */
export interface TcpProxy {
  readonly port: number;
  /**
   * `url` with its host and port replaced by the proxy's; from then on the proxy forwards to
   * the host and port `url` had (so it follows wherever the run's Postgres or Redis is).
   */
  rewrite(url: string): string;
  cut(): void;
  stall(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(initial?: { host: string; port: number }): Promise<TcpProxy> {
  let target = initial;
  let mode: 'open' | 'cut' | 'stall' = 'open';
  const sockets = new Set<Socket>();
  const flushes = new Set<() => void>();

  const forward = (from: Socket, to: Socket): void => {
    const held: Buffer[] = [];
    const flush = () => {
      for (const chunk of held.splice(0)) to.write(chunk);
    };
    flushes.add(flush);
    from.on('data', (chunk: Buffer) => {
      if (mode === 'stall') held.push(chunk);
      else to.write(chunk);
    });
    from.on('close', () => {
      flushes.delete(flush);
      to.destroy();
    });
  };

  const server = createServer((client) => {
    if (mode === 'cut' || !target) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy has no port');
  const port = address.port;

  return {
    port,
    rewrite(url) {
      const u = new URL(url);
      const defaultPort = u.protocol.startsWith('redis') ? 6379 : 5432;
      target = { host: u.hostname, port: Number(u.port || defaultPort) };
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut() {
      mode = 'cut';
      for (const s of sockets) s.resetAndDestroy();
    },
    stall() {
      mode = 'stall';
    },
    restore() {
      mode = 'open';
      for (const flush of flushes) flush();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
