import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { builder, lint, type PlankError, runtime } from '../index.js';

describe('Runtime', () => {
  it('sets X-Runtime to seconds with six decimals', async () => {
    await testApp(lint(runtime()(lint(() => [200, [], ['ok']]))), async (request) => {
      expect((await request('/')).headers['x-runtime']).toMatch(/^\d+\.\d{6}$/);
    });
  });

  it('uses the header name given, also on streaming responses', async () => {
    const app = lint(runtime({ headerName: 'X-Took' })(lint(() => (respond) => void respond([200, [], ['ok']]))));
    await testApp(app, async (request) => {
      const res = await request('/');
      expect(res.headers['x-took']).toMatch(/^\d+\.\d{6}$/);
      expect(res.headers['x-runtime']).toBeUndefined();
    });
  });

  it('rejects a header name that is not a token when created, by name', () => {
    expect(() => runtime({ headerName: 'X Took' })).toThrow(
      /Runtime: option "headerName" must be a header name .*, got "X Took"/,
    );
    try {
      builder(({ enable }) => {
        enable('Runtime', { headerName: 42 });
        return () => [200, [], []];
      });
      expect.unreachable();
    } catch (err) {
      expect((err as PlankError).code).toBe('PLANK_ERR_CORE_OPTION');
    }
  });
});
