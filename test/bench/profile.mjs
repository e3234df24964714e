// CPU profiles of bench servers. With `--profile=DIR`, run.mjs starts every node server with
// `--cpu-prof` (workers forked by node inherit it), stops it with SIGTERM instead of SIGKILL so
// V8 writes the profile, and prints where each server's busy time went: the functions with
// the most self time and the share of each package, over every process and round.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Loaded before the server's own code: a server killed by a signal writes no profile, and
// some servers (prefork's master) handle SIGTERM themselves by stopping gracefully.
const EXIT_ON_SIGNAL =
  'data:text/javascript,for (const s of ["SIGTERM", "SIGINT"]) process.on(s, () => process.exit(0));';

/** The server's command with profiling on (node servers only), and where its profiles go. */
export function profiled(server, root) {
  const [bin, ...args] = server.command;
  if (bin !== process.execPath) return { command: server.command, dir: undefined };
  const dir = join(root, server.name.replace(/[^A-Za-z0-9]+/g, '-'));
  mkdirSync(dir, { recursive: true });
  return { command: [bin, '--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', EXIT_ON_SIGNAL, ...args], dir };
}

/** Where a profile sample's function belongs: a Plank package, an npm package, node's JS, or native. */
function groupOf(frame) {
  const url = frame.url;
  const plank = /\/packages\/([^/]+)\/dist\//.exec(url);
  if (plank) return `@plank/${plank[1]}`;
  const npm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(url);
  if (npm) return npm[1];
  if (url.startsWith('node:')) return "node's JS";
  return url === '' ? frame.functionName || '(native)' : 'other JS';
}

/** Lines summing up every profile in `dir`: top self-time functions and packages, as shares of busy samples. */
export function summarize(dir, top = 12) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const self = new Map();
  const groups = new Map();
  let busy = 0;
  const add = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    for (const id of profile.samples) {
      const f = frames.get(id);
      // Idle is time the process waited (for the network, or for the core it shares).
      if (f.functionName === '(idle)') continue;
      busy++;
      const where =
        f.url === '' ? '' : ` ${f.url.replace(/^.*\/(packages|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
      add(self, `${f.functionName || '(anonymous)'}${where}`);
      add(groups, groupOf(f));
    }
  }
  const pct = (n) => `${((100 * n) / busy).toFixed(1)}%`;
  const best = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `${files.length} profile(s), ${busy} busy samples; by package: ${best(groups)
      .map(([k, n]) => `${k} ${pct(n)}`)
      .join(', ')}`,
    ...best(self).map(([k, n]) => `  ${pct(n).padStart(6)}  ${k}`),
  ];
}
