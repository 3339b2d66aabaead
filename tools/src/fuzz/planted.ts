import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { UserService } from '@hearth/contracts';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A small server to check the fuzzer against: it finds what is planted, and nothing else. */
export interface PlantedServer {
  readonly url: string;
  /** Undefined while it serves; why it stopped once a planted crash stopped it. */
  exited(): string | undefined;
  close(): Promise<void>;
}

/** The person the planted server "knows": GetProfile finds only this id, in lower case. */
export const PLANTED_USER_ID = '01a22dbe-e71f-7ef9-b403-9d84d185f15f';

const hasNul = (req: object) => Object.values(req).some((v) => typeof v === 'string' && v.includes('\u0000'));

/**
 * UserService with one bug per finding class the fuzzer reports, each the way issue 9 saw it:
 * - UpdateProfile passes NUL to a "store" that throws like Postgres (internal);
 * - ListBlocks parses its page token without checking it (internal);
 * - BlockUser never answers an id with NUL in it (hang);
 * - GetProfile compares ids as strings, so an upper-case id is not found (case mismatch);
 * - ListUsers answers every request OK, an unknown enum name included (accepted silently);
 * - UnblockUser stops the whole server on an id with NUL in it (crash).
 * Plain connect-node, without Hearth's platform, so it also shows what connect-es does by itself:
 * undecodable protobuf answered as internal (what packages/platform's connect-mount.ts fixes).
 */
export async function startPlantedServer(): Promise<PlantedServer> {
  let crashed: string | undefined;
  const routes = (router: ConnectRouter) => {
    router.service(UserService, {
      getProfile(req) {
        if (req.lookup.case === 'userId' && req.lookup.value !== PLANTED_USER_ID) throw new ConnectError('profile not found', Code.NotFound);
        return {};
      },
      updateProfile(req) {
        if (hasNul(req)) throw new Error('invalid byte sequence for encoding "UTF8": 0x00');
        return {};
      },
      listBlocks(req) {
        if (req.pageToken !== '') JSON.parse(Buffer.from(req.pageToken, 'base64url').toString('utf8'));
        return {};
      },
      async blockUser(req, ctx) {
        if (hasNul(req)) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        return {};
      },
      async unblockUser(req) {
        if (hasNul(req)) {
          // What a process crash looks like from outside: every connection gone, nothing listening.
          crashed = 'crashed on NUL in UnblockUser';
          server.closeAllConnections();
          server.close();
          await new Promise(() => undefined);
        }
        return {};
      },
      listUsers() {
        return {};
      },
    });
  };
  // The body limit Hearth's platform sets; connect-node's default would inflate a gzip bomb.
  const server = createServer(connectNodeAdapter({ routes, readMaxBytes: 1024 * 1024 }));
  return listen(server, () => crashed);
}

/**
 * A server whose every answer is fair: each request is refused as Unimplemented without being
 * read, as a service that is not built yet answers. The walk must report nothing against it.
 */
export async function startFairServer(): Promise<PlantedServer> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(501, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'unimplemented', message: `${req.url ?? ''} is not implemented` }));
    });
  });
  return listen(server, () => undefined);
}

async function listen(server: Server, exited: () => string | undefined): Promise<PlantedServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exited,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        // Already closed after a planted crash: nothing left to wait for.
        if (!server.listening) resolve();
        else server.close(() => resolve());
      }),
  };
}
