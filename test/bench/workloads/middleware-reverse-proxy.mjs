// ReverseProxy's overhead on the hello workload (goal: at most 3%, i.e. a ratio >= 0.97),
// measured without proxy headers and with a trusted peer sending X-Forwarded-For (two hops,
// one trusted) and X-Forwarded-Proto, against the same app without the middleware getting
// the same headers. This file is also its own server: `node workloads/middleware-reverse-proxy.mjs serve bare|rp`.
import { pathToFileURL } from 'node:url';

const node = process.execPath;
const self = 'workloads/middleware-reverse-proxy.mjs';
const proxied = ['-H', 'X-Forwarded-For: 203.0.113.9, 10.0.0.2', '-H', 'X-Forwarded-Proto: https'];

export default {
  servers: [
    { name: 'hello', command: [node, self, 'serve', 'bare'] },
    { name: 'hello + ReverseProxy', command: [node, self, 'serve', 'rp'] },
    { name: 'hello, proxy headers', command: [node, self, 'serve', 'bare'], wrkArgs: proxied },
    { name: 'hello + ReverseProxy, proxy headers', command: [node, self, 'serve', 'rp'], wrkArgs: proxied },
  ],
  ratios: [
    ['hello + ReverseProxy', 'hello', 0.97],
    ['hello + ReverseProxy, proxy headers', 'hello, proxy headers', 0.97],
  ],
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'serve') {
  const { builder } = await import('@plank/core');
  const { serve } = await import('@plank/server-node');
  // Not a dependency of the bench package: load the built package by path.
  const { reverseProxy } = await import('@plank/middleware-reverse-proxy');
  const hello = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '13'], ['Hello, World!']];
  const app =
    process.argv[3] === 'rp'
      ? builder(({ enable }) => {
          enable(reverseProxy({ trusted: ['loopback', '10.0.0.0/8'] }));
          return hello;
        })
      : builder(() => hello);
  await serve(app, { host: '127.0.0.1', port: Number(process.env.PORT) });
}
