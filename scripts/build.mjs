#!/usr/bin/env node
// Builds every package (tsc project references, incremental) to packages/*/dist.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const projects = readdirSync(`${root}packages`)
  .map((d) => `packages/${d}`)
  .filter((d) => existsSync(`${root}${d}/tsconfig.json`));
const tsc = `${root}node_modules/typescript/bin/tsc`;
const run = spawnSync(process.execPath, [tsc, '-b', ...projects, ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(run.status ?? 1);
