import { join } from 'node:path';
import { builder, escapeHtml, Request, type App } from '@plank/core';
import { accessLog } from '@plank/middleware-access-log';
import { deflater } from '@plank/middleware-deflater';
import { lameDuck } from '@plank/middleware-lame-duck';
import { requestId } from '@plank/middleware-request-id';
import { reverseProxy } from '@plank/middleware-reverse-proxy';
import { serverStatusLite } from '@plank/middleware-server-status-lite';
import { serveStatic } from '@plank/middleware-static';

// Everything is found relative to this file, so `plankup apps/demo/app.ts` works from anywhere.
const here = import.meta.dirname;
const logs = process.env.DEMO_LOG_DIR ?? join(here, 'logs');
// The scoreboard lives where only this server's user may write (its trust model refuses
// anything else): systemd's RuntimeDirectory= when the demo runs as a service, else var/ beside
// this file (a checkout is its user's own), never straight under a world-writable /tmp.
const state = process.env.DEMO_STATE_DIR ?? process.env.RUNTIME_DIRECTORY ?? join(here, 'var');
// Behind a load balancer (docs/production.md, test/lab): the proxies to believe and the
// addresses allowed to read the status page, comma-separated; loopback alone by default.
const list = (value: string | undefined, fallback: string[]): string[] =>
  value === undefined || value === '' ? fallback : value.split(',').map((v) => v.trim());
const trusted = list(process.env.DEMO_TRUSTED_PROXIES, ['loopback']);
const statusAllow = list(process.env.DEMO_STATUS_ALLOW, ['127.0.0.1', '::1']);

const home: App = (env) => {
  const req = new Request(env);
  if (req.path !== '/') return [404, ['Content-Type', 'text/plain; charset=utf-8'], ['Not Found\n']];
  const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Plank demo</title><link rel="stylesheet" href="/static/site.css"></head>
<body>
<h1>Plank is running</h1>
<p>This page is the Plank demo (<code>apps/demo/app.ts</code>), served by <code>plankup</code>.
Every request passes through this stack, outermost first:</p>
<ol>
  <li><b>AccessLog</b>: Apache <code>combined</code> lines, timed to the last byte, in
      <code>${escapeHtml(logs)}/access.&lt;date&gt;.log</code> (daily files, 14 kept, <code>access.log</code> links to today's).</li>
  <li><b>LameDuck</b>: <a href="/health"><code>/health</code></a> answers 200, and 503 once the server is asked to stop or restart (for <code>DEMO_LAME_DUCK_SECONDS</code>, 0 by default, before it stops accepting).</li>
  <li><b>ReverseProxy</b>: believes <code>X-Forwarded-*</code> only from ${escapeHtml(trusted.join(', '))} proxies.
      Your address as this app sees it: <code>${escapeHtml(req.remoteAddr)}</code>.</li>
  <li><b>RequestId</b>: this request is <code>${escapeHtml(String(env['plank.request_id']))}</code>
      (the <code>X-Request-Id</code> response header; a trusted proxy's own id is kept).</li>
  <li><b>Deflater</b>: gzip, deflate or brotli for clients that ask (this page, the CSS), with
      <code>Vary: Accept-Encoding</code>.</li>
  <li><b>ServerStatus::Lite</b>: <a href="/server-status"><code>/server-status</code></a>, from a scoreboard in
      <code>${escapeHtml(state)}/scoreboard</code>; after ReverseProxy, so it allows the real client.</li>
  <li><b>Static</b>: files under <a href="/static/site.css"><code>/static/</code></a> from <code>apps/demo/public/static</code>,
      with ETags, ranges and conditional requests.</li>
  <li>this page.</li>
</ol>
<p>The status page shows every worker, whichever worker serves it:
<a href="/server-status">text</a>, <a href="/server-status?json">JSON</a>,
<a href="/server-status?format=prometheus">Prometheus</a>,
<a href="/server-status?format=html">HTML</a> (from 127.0.0.1 and ::1 only). Try it with several
workers: <code>pnpm exec plankup -s prefork --max-workers=4 app.ts</code>.</p>
</body>
</html>
`;
  return [200, ['Content-Type', 'text/html; charset=utf-8'], [page]];
};

export default builder(({ enable }) => {
  enable(
    accessLog({
      format: 'combined',
      file: join(logs, 'access.%DATE%.log'),
      rotate: 'daily',
      keep: 14,
      symlink: join(logs, 'access.log'),
    }),
  );
  // Outermost after the log: a balancer's health checks are answered before anything else runs.
  // No lame-duck wait by default, so Ctrl-C (and every test that stops the demo) stays instant;
  // behind a balancer set DEMO_LAME_DUCK_SECONDS (test/lab uses 2).
  enable(lameDuck({ path: '/health', seconds: Number(process.env.DEMO_LAME_DUCK_SECONDS ?? 0) }));
  enable(reverseProxy({ trusted }));
  // After ReverseProxy: the peer it checks is the proxy in front, before any rewriting.
  enable(requestId({ trusted: (env) => env['plank.reverse_proxy.peer_addr'] !== undefined }));
  enable(deflater());
  enable(
    serverStatusLite({
      path: '/server-status',
      allow: statusAllow,
      scoreboard: join(state, 'scoreboard'),
      counterFile: join(state, 'counter'),
    }),
  );
  enable(serveStatic({ path: '/static/', root: join(here, 'public') }));
  return home;
});
