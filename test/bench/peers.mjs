// What workloads ask about the machine: which peers are installed, and whether a workload
// file was started as a server rather than imported by run.mjs.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** True when an npm peer resolves from test/bench (a dependency, or on NODE_PATH). */
export function hasPackage(pkg) {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** Loads an npm peer the same way hasPackage found it. */
export function requirePackage(pkg) {
  return require(pkg);
}

/** The path of a program on PATH (sbin included, where Debian puts nginx), or ''. */
export function which(bin) {
  return spawnSync('sh', ['-c', `PATH="$PATH:/usr/sbin:/sbin" command -v ${bin}`], { encoding: 'utf8' }).stdout.trim();
}

/** Debian's plackup and Starlet, for the Perl peers. */
export function hasStarlet() {
  return !!which('plackup') && spawnSync('perl', ['-MStarlet', '-e1'], { stdio: 'ignore' }).status === 0;
}

/** True in the module node was started with: `isMain(import.meta.url)`. */
export function isMain(url) {
  return !!process.argv[1] && url === pathToFileURL(process.argv[1]).href;
}
