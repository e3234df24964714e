// ServerStatus::Lite's overhead on the hello workload under prefork with 2 workers (goal: at
// most 5%, i.e. a ratio >= 0.95): every request is noted in memory and the worker's scoreboard
// slot is rewritten at most every 100 ms, against the same app and server without the middleware.
// Paired: both servers run at once on the server core, each under its own wrk, so a few
// percent can be told from the drift between runs (sequential runs here differed by up to 10%).
// The no-op finish handler shows the server's part: the notification at the last byte.
import { fileURLToPath } from 'node:url';

const node = process.execPath;
const plankup = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));
const app = fileURLToPath(new URL('../servers/status-hello.mjs', import.meta.url));
// plankup finds `-s prefork` from its working directory.
const cwd = fileURLToPath(new URL('../../../packages/server-prefork/', import.meta.url));
const command = [
  node,
  plankup,
  '-s',
  'prefork',
  '--max-workers=2',
  '-o',
  '127.0.0.1',
  '-p',
  '{port}',
  '-E',
  'deployment',
  app,
];

export default {
  paired: true,
  // Single rounds here spread from 0.90x to 1.08x (2026-11-21): nine make the median stable.
  rounds: 9,
  servers: [
    { name: 'prefork x2 hello', command, cwd, env: { STATUS_MODE: 'bare' } },
    { name: 'prefork x2 hello + ServerStatus::Lite', command, cwd, env: { STATUS_MODE: 'status' } },
    { name: 'prefork x2 hello + a no-op finish handler', command, cwd, env: { STATUS_MODE: 'finish' } },
  ],
  ratios: [
    ['prefork x2 hello + ServerStatus::Lite', 'prefork x2 hello', 0.95],
    ['prefork x2 hello + a no-op finish handler', 'prefork x2 hello'],
  ],
};
