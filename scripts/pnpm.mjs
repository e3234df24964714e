#!/usr/bin/env node
// Runs the pinned pnpm on a machine that only has Node.js and npm: the README's quick start
// is `npm start` / `npm test`, so nothing may be installed by hand first. A pnpm already on
// PATH with the same major is used as is; otherwise npx fetches the pinned version once.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const pinned = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).packageManager.split('@')[1];
const args = process.argv.slice(2);

const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
const local = probe.status === 0 && probe.stdout.trim().split('.')[0] === pinned.split('.')[0];
const [cmd, argv] = local ? ['pnpm', args] : ['npx', ['--yes', `pnpm@${pinned}`, ...args]];
const run = spawnSync(cmd, argv, { stdio: 'inherit', cwd: new URL('.', root).pathname });
process.exit(run.status ?? 1);
