import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const dirsOf = (group: string): string[] =>
  existsSync(`${root}${group}`)
    ? readdirSync(`${root}${group}`, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => `${group}/${d.name}`)
    : [];

// Tests run against the TypeScript sources, so `vitest` needs no build; child processes
// (servers, plankup) that tests spawn run the built `dist/` instead.
const alias = dirsOf('packages')
  .filter((dir) => existsSync(`${root}${dir}/src/index.ts`))
  .map((dir) => ({
    find: new RegExp(`^@plank/${dir.slice('packages/'.length)}$`),
    replacement: `${root}${dir}/src/index.ts`,
  }));

const ONCE = ['test/lab'];

export default defineConfig({
  resolve: { alias },
  test: {
    // CI asks for a JSON report too, to print the totals of both Node runs in one line.
    reporters: process.env.PLANK_TEST_REPORT
      ? ['default', ['json', { outputFile: process.env.PLANK_TEST_REPORT }]]
      : ['default'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The slow real-peer suites (the many-host lab) run once per CI, not once per Node version:
    // .ci/run sets PLANK_ONCE_DONE=1 for its second run, which leaves them out.
    projects: [...dirsOf('packages'), ...dirsOf('apps'), ...dirsOf('test')]
      .filter((dir) => !(process.env.PLANK_ONCE_DONE === '1' && ONCE.includes(dir)))
      .map((dir) => ({
        extends: true,
        test: {
          name: dir,
          root: `${root}${dir}`,
          include: ['**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', '**/fixtures/**'],
        },
      })),
  },
});
