import { describe, expect, it } from 'vitest';
import { loadApp, type LoadArgs } from './load.js';

const rejected = (args: unknown) => loadApp(args as LoadArgs);

describe('loadApp', () => {
  it('checks its arguments with core option checks, under PLANK_ERR_CLI_OPTION, before loading anything', async () => {
    await expect(rejected({ app: 42 })).rejects.toMatchObject({
      code: 'PLANK_ERR_CLI_OPTION',
      message: 'loadApp: option "app" must be a non-empty path without NUL characters, got 42',
    });
    await expect(rejected({ evl: 'x' })).rejects.toMatchObject({
      code: 'PLANK_ERR_CLI_OPTION',
      message: expect.stringMatching(
        /^loadApp: unknown option "evl" \(did you mean "eval"\?; known options: app, eval, /,
      ),
    });
    await expect(rejected({ path: 'app' })).rejects.toThrow(
      'loadApp: option "path" must be a mount path like /app, got "app"',
    );
    await expect(rejected({ modules: ['a', 1] })).rejects.toThrow(
      /option "modules" must be an array; each item must be a string/,
    );
    await expect(rejected('app.ts')).rejects.toThrow('loadApp: options must be an object, got "app.ts"');
  });

  it('builds an app from -e code alone, with the defaults for everything it was not given', async () => {
    const app = await loadApp({ eval: `() => [200, [], [process.env.PLANK_ENV]]`, defaultMiddleware: false });
    expect(await app({} as never)).toEqual([200, [], ['development']]);
  });
});
