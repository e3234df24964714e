// Routing cost with 100 routes: @plank/router on server-node against fastify (find-my-way,
// the router Plank's is built on) and express 5 (its own router), each with the same 100
// parameterised routes, wrk requesting the last one added (/api/r99/:id). A Plank hello
// without a router gives the router's own overhead. This file is also its own server:
// `node workloads/router.mjs serve plank|bare|fastify|express`.
import { pathToFileURL } from 'node:url';

const node = process.execPath;
const self = 'workloads/router.mjs';
const path = '/api/r99/42';
const ROUTES = 100;

export default {
  servers: [
    { name: 'plank, no router', command: [node, self, 'serve', 'bare'], path },
    { name: 'plank router', command: [node, self, 'serve', 'plank'], path },
    { name: 'fastify', command: [node, self, 'serve', 'fastify'], path },
    { name: 'express', command: [node, self, 'serve', 'express'], path },
  ],
  ratios: [
    ['plank router', 'plank, no router'],
    ['plank router', 'fastify'],
    ['plank router', 'express'],
  ],
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'serve') {
  const port = Number(process.env.PORT);
  const which = process.argv[3];
  const reply = (id) => `item ${id}`;
  if (which === 'fastify') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    for (let i = 0; i < ROUTES; i++) app.get(`/api/r${i}/:id`, async (req) => reply(req.params.id));
    await app.listen({ host: '127.0.0.1', port });
  } else if (which === 'express') {
    const { default: express } = await import('express');
    const app = express();
    app.set('etag', false);
    app.set('x-powered-by', false);
    for (let i = 0; i < ROUTES; i++)
      app.get(`/api/r${i}/:id`, (req, res) => res.type('text/plain').send(reply(req.params.id)));
    app.listen(port, '127.0.0.1');
  } else {
    const { serve } = await import('@plank/server-node');
    // Not a dependency of the bench package: the built router, by path.
    const { router } = await import('../../../packages/router/dist/index.js');
    const text = (body) => [200, ['Content-Type', 'text/plain', 'Content-Length', String(body.length)], [body]];
    const app =
      which === 'plank'
        ? router((r) => {
            for (let i = 0; i < ROUTES; i++) r.get(`/api/r${i}/:id`, (_env, { id }) => text(reply(id)));
          })
        : (env) => text(reply(env.PATH_INFO.slice(9)));
    await serve(app, { host: '127.0.0.1', port });
  }
}
