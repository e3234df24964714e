import { serve } from '@plank/server-node';
import app from './app.js';

// Until plankup lands this starts the app on server-node; PORT and HOST as plackup's -p/-o.
const port = Number(process.env.PORT ?? 5000);
const handle = await serve(app, { host: process.env.HOST ?? '127.0.0.1', port });
console.log(`Plank: listening on ${handle.url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void handle.close());
