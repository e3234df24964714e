import { runServerSuite } from '@plank/test';
import { serve } from './index.js';

runServerSuite('server-fastify', (app) =>
  serve(app, { host: '127.0.0.1', port: 0, errors: { write: () => true } }).then((h) => ({
    port: h.port as number,
    close: () => h.close(),
  })),
);
