import { type Socket, createConnection, createServer } from 'node:net';

/**
 * A TCP proxy in front of a real server (Redis, Postgres), to take the server away from a client
 * the way a network does, while the server itself keeps running for every other test.
 */
export interface TcpProxy {
  readonly port: number;
  /** Resets every connection and closes new ones at once, until `restore`. */
  cut(): void;
  /**
   * Holds every byte in both directions on open and new connections (a stalled server, a
   * half-open link), until `restore` delivers them: requests sent meanwhile then land late.
   */
  stall(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
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
    if (mode === 'cut') {
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

  return {
    port: address.port,
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
