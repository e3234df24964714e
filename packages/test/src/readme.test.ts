import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';

// The README's test files run as written: each is written out and imported while this file's
// tests are collected, so its `it(...)` calls become tests here, once per mode. They go under
// node_modules, where `vitest` resolves as it does for a user and no run collects them twice.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const dir = join(import.meta.dirname, '..', 'node_modules', '.readme');
mkdirSync(dir, { recursive: true });

function snippet(heading: string): string {
  const code = new RegExp(`${heading}\\n[\\s\\S]*?\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(readme)?.[1];
  if (code === undefined) throw new Error(`the README has no ts block under ${heading}`);
  return code;
}

for (const impl of ['MockHTTP', 'Server']) {
  describe(`the README with PLANK_TEST_IMPL=${impl}`, async () => {
    const before = process.env.PLANK_TEST_IMPL;
    beforeAll(() => {
      process.env.PLANK_TEST_IMPL = impl;
    });
    afterAll(() => {
      if (before === undefined) delete process.env.PLANK_TEST_IMPL;
      else process.env.PLANK_TEST_IMPL = before;
    });
    for (const [name, heading] of [
      ['synopsis', '## Synopsis'],
      ['files', '### Apps whose middleware writes files'],
    ]) {
      const file = join(dir, `${name}-${impl}.ts`);
      writeFileSync(file, snippet(heading as string));
      await import(/* @vite-ignore */ file);
    }
  });
}
