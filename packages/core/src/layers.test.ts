import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// Core's modules, as the build sees them (tests and fixtures excluded), with their relative imports.
const src = import.meta.dirname;
const modules = new Map<string, string[]>();
for (const entry of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
  if (!entry.endsWith('.ts') || /\.(test|fixture)\.ts$/.test(entry)) continue;
  const text = readFileSync(join(src, entry), 'utf8');
  const imports = [...text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)].map((m) =>
    relative(src, normalize(join(dirname(join(src, entry)), `${m[1]}.ts`))),
  );
  modules.set(entry, imports);
}

describe("core's layers", () => {
  it('have no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      state.set(file, 'open');
      for (const next of modules.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].join(' → '));
        else if (!state.has(next)) visit(next, [...path, next]);
      }
      state.set(file, 'done');
    };
    for (const file of modules.keys()) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
  });

  it('keep the middleware on top: only the index and the name registry import from middleware/', () => {
    const importers = [...modules]
      .filter(([file, imports]) => !file.startsWith('middleware/') && imports.some((i) => i.startsWith('middleware/')))
      .map(([file]) => file)
      .sort();
    expect(importers).toEqual(['index.ts', 'resolve-middleware.ts']);
  });
});
