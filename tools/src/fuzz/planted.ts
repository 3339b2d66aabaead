import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { UserService } from '@hearth/contracts';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A small Connect server with known bugs, to show the fuzzer finds each kind it looks for. */
export interface PlantedServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * UserService with one bug per finding class the fuzzer reports, each the way issue 9 saw it:
 * - UpdateProfile passes NUL to a "store" that throws like Postgres (internal);
 * - ListBlocks parses its page token without checking it (internal);
 * - BlockUser never answers an id with NUL in it (hang);
 * - GetProfile compares ids as strings, so an upper-case id is not found (case mismatch);
 * - ListUsers answers every request OK, an unknown enum name included (accepted silently).
 * Plain connect-node, without Hearth's platform, so it also shows what connect-es does by itself:
 * undecodable protobuf answered as internal (what packages/platform's connect-mount.ts fixes).
 */
export async function startPlantedServer(): Promise<PlantedServer> {
  const routes = (router: ConnectRouter) => {
    router.service(UserService, {
      getProfile(req) {
        if (req.lookup.case === 'userId' && req.lookup.value !== PLANTED_USER_ID) throw new ConnectError('profile not found', Code.NotFound);
        return {};
      },
      updateProfile(req) {
        if (Object.values(req).some((v) => typeof v === 'string' && v.includes('\u0000'))) {
          throw new Error('invalid byte sequence for encoding "UTF8": 0x00');
        }
        return {};
      },
      listBlocks(req) {
        if (req.pageToken !== '') JSON.parse(Buffer.from(req.pageToken, 'base64url').toString('utf8'));
        return {};
      },
      async blockUser(req, ctx) {
        if (req.userId.includes('\u0000')) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        return {};
      },
      listUsers() {
        return {};
      },
    });
  };
  // The body limit Hearth's platform sets; connect-node's default would inflate a gzip bomb.
  return listen(createServer(connectNodeAdapter({ routes, readMaxBytes: 1024 * 1024 })));
}

/** The person the planted server "knows": GetProfile finds only this id, in lower case. */
export const PLANTED_USER_ID = '01a22dbe-e71f-7ef9-b403-9d84d185f15f';

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
  return listen(server);
}

async function listen(server: Server): Promise<PlantedServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
