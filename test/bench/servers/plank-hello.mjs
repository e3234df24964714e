// Plank on server-node: `node plank-hello.mjs empty` (a builder with no middleware) or
// `node plank-hello.mjs mw` (ContentLength + Runtime), answering like raw-node.mjs.
import { builder } from '@plank/core';
import { serve } from '@plank/server-node';

const hello = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '13'], ['Hello, World!']];
const bare = () => [200, ['Content-Type', 'text/plain'], ['Hello, World!']];
const mode = process.argv[2] ?? 'empty';
const app =
  mode === 'mw'
    ? builder(({ enable }) => {
        enable('ContentLength');
        enable('Runtime');
        return bare;
      })
    : builder(() => hello);
await serve(app, { host: '127.0.0.1', port: Number(process.env.PORT) });
