import { serve } from '@plank/server-node';
import { runServerSuite } from '@plank/test';

runServerSuite('server-node', async (app) => {
  const handle = await serve(app, { host: '127.0.0.1', port: 0, errors: { write: () => true } });
  return { port: handle.port as number, close: () => handle.close() };
});
