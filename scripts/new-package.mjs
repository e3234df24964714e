#!/usr/bin/env node
// Creates a package from the one template every package follows:
//   node scripts/new-package.mjs <dir-name> "<one-line description>" [dep ...]
// Workspace deps are written as `workspace:^`, others as given (`name@range`).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';

const [dir, description, ...deps] = process.argv.slice(2);
if (!dir || !description) {
  console.error('usage: node scripts/new-package.mjs <dir-name> "<description>" [dep ...]');
  process.exit(2);
}
const root = new URL(`../packages/${dir}/`, import.meta.url);
if (existsSync(root)) {
  console.error(`packages/${dir} exists`);
  process.exit(1);
}
const name = `@plank/${dir}`;
const dependencies = {};
const references = [];
for (const dep of deps) {
  if (dep.startsWith('@plank/')) {
    dependencies[dep] = 'workspace:^';
    references.push({ path: `../${dep.slice('@plank/'.length)}` });
  } else {
    const at = dep.lastIndexOf('@');
    dependencies[dep.slice(0, at)] = dep.slice(at + 1);
  }
}
const pkg = {
  name,
  version: '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './package.json': './package.json' },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  files: ['dist', '!dist/**/*.test.*', '!dist/**/*.fixture.*', 'README.md'],
  engines: { node: '>=20.19' },
  sideEffects: false,
  repository: { type: 'git', url: 'git+https://github.com/plank-js/plank.git', directory: `packages/${dir}` },
  publishConfig: { access: 'public' },
  dependencies,
};
mkdirSync(new URL('src/', root), { recursive: true });
writeFileSync(new URL('package.json', root), `${JSON.stringify(pkg, null, 2)}\n`);
writeFileSync(
  new URL('tsconfig.json', root),
  `${JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { rootDir: 'src', outDir: 'dist' }, include: ['src'], exclude: ['src/**/*.test.ts', 'src/**/*.fixture.ts'], references }, null, 2)}\n`,
);
writeFileSync(new URL('src/index.ts', root), 'export {};\n');
writeFileSync(
  new URL('README.md', root),
  `# ${name}\n\n${description}\n\n## Synopsis\n\n## Description\n\n## Options\n\n## Errors\n\n## See also\n`,
);
console.log(`created packages/${dir}`);
