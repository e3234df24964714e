// The lab's load generator, run inside the client namespace: `concurrency` loops of GET on
// the URL through keep-alive connections. stdin lines name the current phase ("phase NAME"),
// "pause" stops sending until the next phase, "end" (or stdin closing) prints {phase: {sent, failed, errors}} as JSON and exits.
import { createInterface } from 'node:readline';
import { Agent, request } from 'node:http';

const [url, concurrencyText = '8'] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: Number(concurrencyText) });
const phases = {};
let phase = 'warm-up';
let running = true;
let paused = false;
const stat = (name) => (phases[name] ??= { sent: 0, ok: 0, failed: 0, errors: {} });

function once() {
  return new Promise((resolve) => {
    const s = stat(phase);
    s.sent++;
    const fail = (why) => {
      s.failed++;
      s.errors[why] = (s.errors[why] ?? 0) + 1;
      resolve();
    };
    const req = request(url, { agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? (s.ok++, resolve()) : fail(`HTTP ${res.statusCode}`)));
      res.on('error', (e) => fail(e.code ?? e.message));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => fail(e.code ?? e.message));
    req.end();
  });
}

const loops = Array.from({ length: Number(concurrencyText) }, async () => {
  while (running) {
    if (paused) await new Promise((r) => setTimeout(r, 20));
    else await once();
  }
});
const done = async () => {
  running = false;
  await Promise.all(loops);
  process.stdout.write(`${JSON.stringify(phases)}\n`);
  agent.destroy();
};
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.startsWith('phase ')) {
    phase = line.slice(6);
    paused = false;
  } else if (line === 'pause') paused = true;
  else if (line === 'end') void done().then(() => process.exit(0));
});
rl.on('close', () => void done().then(() => process.exit(0)));
