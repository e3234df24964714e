#!/usr/bin/env node
// Fails when the workspace packages depend on each other in a cycle through what they ship:
// their `dependencies`, `optionalDependencies` and `peerDependencies`, and the `@plank/*`
// (or other workspace) packages their non-test sources import. Such a cycle makes the
// packages impossible to build, publish or load one at a time.
//
// Dev-dependency cycles are allowed, and are why pnpm-workspace.yaml silences pnpm's own
// cycle warning: core's and server-node's tests use @plank/test, which runs apps on
// server-node, which depends on core. Tests run against the sources (vitest aliases, the
// root tsconfig's paths), and builds skip tests, so nothing is built or loaded in a circle;
// pnpm's warning could not tell that apart from a real cycle, and hid the real ones.
//
// Usage: node scripts/check-cycles.mjs [workspace-root]   (npm test runs it)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.argv[2] ?? new URL('..', import.meta.url).pathname;

/** The package folders pnpm-workspace.yaml lists (`- dir/*` or `- dir` entries). */
function workspaceDirs(rootDir) {
  const yaml = readFileSync(join(rootDir, 'pnpm-workspace.yaml'), 'utf8');
  const section = /^packages:\n((?:[ \t]+-.*\n?)+)/m.exec(yaml)?.[1] ?? '';
  return [...section.matchAll(/-\s*['"]?([^'"\n]+?)['"]?\s*$/gm)].flatMap(([, pattern]) => {
    if (!pattern.endsWith('/*')) return [join(rootDir, pattern)];
    const parent = join(rootDir, pattern.slice(0, -2));
    if (!existsSync(parent)) return [];
    return readdirSync(parent, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(parent, d.name));
  });
}

/** Every non-test source file under `dir/src`. */
function sources(dir) {
  const out = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'fixtures') walk(path);
      } else if (/\.[cm]?[jt]s$/.test(entry.name) && !/\.(test|fixture)\.[cm]?[jt]s$/.test(entry.name)) {
        out.push(path);
      }
    }
  };
  walk(join(dir, 'src'));
  return out;
}

/** Package name → the workspace packages it needs at run time, and why. */
export function productionGraph(rootDir) {
  const packages = new Map();
  for (const dir of workspaceDirs(rootDir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) packages.set(JSON.parse(readFileSync(file, 'utf8')).name, dir);
  }
  const graph = new Map();
  for (const [name, dir] of packages) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const edges = new Map();
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
      for (const dep of Object.keys(manifest[field] ?? {})) {
        if (packages.has(dep) && dep !== name) edges.set(dep, `${field} of ${name}`);
      }
    }
    for (const file of sources(dir)) {
      // Comments hold examples (`import { x } from '@plank/y'` in TSDoc) that are not imports.
      const text = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      for (const m of text.matchAll(
        /(?:from\s+|import\s*\(\s*|import\s+|require\s*\(\s*)['"]((?:@[^/'"]+\/)?[^/'"]+)/g,
      )) {
        const dep = m[1];
        if (packages.has(dep) && dep !== name && !edges.has(dep))
          edges.set(dep, `imported by ${relative(rootDir, file)}`);
      }
    }
    graph.set(name, edges);
  }
  return graph;
}

/** Every elementary cycle found by a depth-first walk, each as [a, b, ..., a]. */
export function findCycles(graph) {
  const cycles = [];
  const state = new Map(); // 1: on the current path, 2: done
  const path = [];
  const visit = (node) => {
    state.set(node, 1);
    path.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (state.get(next) === 1) cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 2);
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const graph = productionGraph(root);
  const cycles = findCycles(graph);
  if (cycles.length === 0) {
    console.log(`check-cycles: no cycle among the production dependencies of ${graph.size} workspace packages`);
  } else {
    for (const cycle of cycles) {
      const why = cycle
        .slice(0, -1)
        .map((from, i) => `  ${from} → ${cycle[i + 1]} (${graph.get(from).get(cycle[i + 1])})`);
      console.error(`check-cycles: a cycle among production dependencies: ${cycle.join(' → ')}\n${why.join('\n')}`);
    }
    process.exitCode = 1;
  }
}
