// Plank's prefork server with 2 workers on the hello app: `node prefork-hello.mjs`.
// Imported by path: @plank/server-prefork is not (yet) a dependency of the bench package.
import { prefork } from '@plank/server-prefork';

await prefork({
  app: { module: new URL('./prefork-app.mjs', import.meta.url).pathname },
  listen: [{ host: '127.0.0.1', port: Number(process.env.PORT) }],
  workers: Number(process.env.WORKERS ?? 2),
  log: () => {},
});
