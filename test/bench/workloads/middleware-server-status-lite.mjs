// ServerStatus::Lite's overhead on the hello workload under prefork with 2 workers (goal: at
// most 5%, i.e. a ratio >= 0.95): every request is noted in memory and the worker's scoreboard
// slot is rewritten at most every 20 ms, against the same app and server without the middleware.
import { fileURLToPath } from 'node:url';

const node = process.execPath;
const plankup = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));
const app = fileURLToPath(new URL('../servers/status-hello.mjs', import.meta.url));
// plankup finds `-s prefork` from its working directory.
const cwd = fileURLToPath(new URL('../../../packages/server-prefork/', import.meta.url));
const command = [node, plankup, '-s', 'prefork', '--max-workers=2', '-o', '127.0.0.1', '-p', '{port}', '-E', 'deployment', app];

export default {
  servers: [
    { name: 'prefork x2 hello', command, cwd, env: { STATUS_MODE: 'bare' } },
    { name: 'prefork x2 hello + ServerStatus::Lite', command, cwd, env: { STATUS_MODE: 'status' } },
  ],
  ratios: [['prefork x2 hello + ServerStatus::Lite', 'prefork x2 hello', 0.95]],
};
