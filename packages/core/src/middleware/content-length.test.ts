import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { testApp } from '@plank/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentLength, lint } from '../index.js';
import type { App, Response } from '../index.js';
import { fakeEnv } from '../fake-env.fixture.js';

const wrap = (app: App): App => lint(contentLength()(lint(app)));

describe('ContentLength', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plank-cl-'));
    file = join(dir, 'ten.txt');
    await writeFile(file, '0123456789');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('adds the byte length of an array body, counting strings as UTF-8', async () => {
    await testApp(
      wrap(() => [200, ['Content-Type', 'text/plain'], ['é', Buffer.from('ab')]]),
      async (request) => {
        const res = await request('/');
        expect(res.headers['content-length']).toBe('4');
        expect(res.text).toBe('éab');
      },
    );
  });

  it('adds the size of a file body, and of its inclusive range', async () => {
    const whole = (await wrap(() => [200, [], { path: file }])(fakeEnv())) as Response;
    expect(whole[1]).toEqual(['Content-Length', '10']);
    const range = (await wrap(() => [200, [], { path: file, start: 2, end: 4 }])(fakeEnv())) as Response;
    expect(range[1]).toEqual(['Content-Length', '3']);
    const past = (await wrap(() => [200, [], { path: file, start: 8, end: 100 }])(fakeEnv())) as Response;
    expect(past[1]).toEqual(['Content-Length', '2']);
  });

  it('leaves alone streams, missing files, set lengths, Transfer-Encoding, 204 and 304', async () => {
    const cases: Response[] = [
      [200, [], Readable.from(['x'])],
      [200, [], { path: join(dir, 'missing') }],
      [200, ['Content-Length', '1'], ['x']],
      [200, ['Transfer-Encoding', 'chunked'], ['x']],
      [204, [], []],
      [304, [], []],
    ];
    for (const res of cases) {
      const before = [...res[1]];
      const out = (await contentLength()(() => res)(fakeEnv())) as Response;
      expect(out[1]).toEqual(before);
    }
  });

  it('does not guess the length of a HEAD response', async () => {
    const out = (await wrap(() => [200, [], []])(fakeEnv({ REQUEST_METHOD: 'HEAD' }))) as Response;
    expect(out[1]).toEqual([]);
  });

  it('adds the length to a whole response given to a streaming responder', async () => {
    await testApp(
      wrap(() => (respond) => void respond([200, [], ['hello']])),
      async (request) => {
        expect((await request('/')).headers['content-length']).toBe('5');
      },
    );
  });

  it('rejects options it does not know, by name', () => {
    expect(() => contentLength({ max: 1 } as never)).toThrow(
      expect.objectContaining({
        code: 'PLANK_ERR_CORE_OPTION',
        message: 'ContentLength: unknown option "max" (it takes no options)',
      }),
    );
  });
});
