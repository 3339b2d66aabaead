// Checks deploy/Caddyfile routes every path to the right service, without Docker: starts one
// stand-in HTTP server per service (each answers with its own name), runs Caddy in front of them
// with the UPSTREAM_<NAME> overrides, and asks the proxy for each route, including a WebSocket
// upgrade on /v1/realtime. Needs caddy on PATH (`apt-get install caddy`); from the repo root:
//   node_modules/.bin/node deploy/check-proxy-routing.mjs
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';

const caddyfile = fileURLToPath(new URL('./Caddyfile', import.meta.url));
const names = ['auth', 'user', 'circle', 'post', 'moderation', 'support', 'realtime'];

const cases = [
  ['/hearth.auth.v1.AuthService/Login', 'auth'],
  ['/.well-known/jwks.json', 'auth'],
  ['/hearth.user.v1.UserService/GetProfile', 'user'],
  ['/hearth.circle.v1.CircleService/ListCircles', 'circle'],
  ['/hearth.post.v1.PostService/CreatePost', 'post'],
  ['/hearth.moderation.v1.ModerationService/ListReports', 'moderation'],
  ['/hearth.support.v1.SupportService/RaiseSos?encoding=json', 'support'],
  ['/hearth.auth.v1x.AuthService/Login', 404],
  ['/hearth.authz.v1.X/Y', 404],
  ['/metrics', 404],
  ['/health/ready', 404],
  ['/v1/realtime', 'realtime'],
];

async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
}

// The upstream's first message names it; a failed upgrade reports the HTTP status instead.
function websocketGreeting(url) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once('message', (msg) => {
      resolve(String(msg).replace('hello from ', ''));
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode));
    ws.once('error', (err) => resolve(`error: ${err.message}`));
  });
}

async function freePort() {
  const s = createServer();
  const port = await listen(s);
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const upstreams = [];
const env = { ...process.env };
for (const name of names) {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ service: name, path: req.url }));
  });
  if (name === 'realtime') {
    const wss = new WebSocketServer({ server, path: '/v1/realtime' });
    wss.on('connection', (socket) => socket.send(`hello from ${name}`));
  }
  env[`UPSTREAM_${name.toUpperCase()}`] = `127.0.0.1:${await listen(server)}`;
  upstreams.push(server);
}
const proxyPort = await freePort();
env.PROXY_PORT = String(proxyPort);
env.XDG_DATA_HOME = env.XDG_CONFIG_HOME = `/tmp/hearth-caddy-check-${process.pid}`;

const caddy = spawn('caddy', ['run', '--config', caddyfile, '--adapter', 'caddyfile'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
let caddyLog = '';
caddy.stderr.on('data', (d) => (caddyLog += d));
const base = `http://127.0.0.1:${proxyPort}`;

const failures = [];
try {
  for (let i = 0; ; i++) {
    try {
      await fetch(`${base}/`);
      break;
    } catch (err) {
      if (i > 50) throw new Error(`caddy did not start: ${caddyLog}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  for (const [path, want] of cases) {
    let got;
    if (path === '/v1/realtime') {
      got = await websocketGreeting(`ws://127.0.0.1:${proxyPort}${path}`);
    } else {
      const res = await fetch(`${base}${path}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      got = res.status === 200 ? (await res.json()).service : res.status;
    }
    const ok = got === want;
    if (!ok) failures.push(path);
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${path} -> ${got} (want ${want})\n`);
  }
} finally {
  caddy.kill('SIGTERM');
  for (const s of upstreams) s.close();
}
if (failures.length > 0) {
  process.stderr.write(`${failures.length} route(s) wrong\n`);
  process.exitCode = 1;
}
