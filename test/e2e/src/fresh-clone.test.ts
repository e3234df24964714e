import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, until } from '@plank/test';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'plank-fresh-clone-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * The environment of a newcomer's shell: none of the npm/pnpm/vitest variables of the run that
 * started this test (pnpm's NODE_PATH reaches every package of this workspace), and no node_modules/.bin on PATH (so neither this workspace's tools nor an
 * npx-cached pnpm help the clone: `npm start` has to get everything itself, as the README says).
 */
function newcomerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|VITEST|PLANK_|NODE_ENV$|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$|TEST$)/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes('node_modules'))
    .join(delimiter);
  return { ...env, ...extra };
}

describe("the README's quick start on a fresh clone", () => {
  it('npm start installs, builds and serves the demo page the first time, and stops with its process group', async () => {
    // The committed HEAD, as a newcomer gets it: no node_modules, no dist.
    const clone = join(scratch, 'plank');
    execFileSync('git', ['clone', '--quiet', root, clone], { stdio: 'pipe' });
    const port = await freePort();
    let output = '';
    // Its own process group: npm starts pnpm, which starts a shell, which starts plankup.
    const child = spawn('npm', ['start'], {
      cwd: clone,
      env: newcomerEnv({ PORT: String(port), HOST: '127.0.0.1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const pid = child.pid as number;
    try {
      await until(
        () => output.includes(`listening on http://127.0.0.1:${port}/`) || child.exitCode !== null,
        'npm start to serve the demo',
        { timeout: 280_000, interval: 250 },
      );
      expect(output).not.toContain('Failed to create bin');
      expect(output).toContain(`listening on http://127.0.0.1:${port}/`);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<h1>Plank is running</h1>');
      process.kill(-pid, 'SIGTERM');
      await exited;
      // Every process of the group is gone: plankup stopped with its parents.
      await until(() => !groupAlive(pid), 'the process group to exit');
    } finally {
      if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
    }
  }, 300_000);
});

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
