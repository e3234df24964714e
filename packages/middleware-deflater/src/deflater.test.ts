import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { builder, lint, type App, type PlankError } from '@plank/core';
import { listen, testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { deflater } from './index.js';

const json = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}` })));
const jsonApp: App = () => [200, ['Content-Type', 'application/json', 'Content-Length', String(json.length)], [json]];
const wrap = (app: App, options?: Parameters<typeof deflater>[0]): App => lint(deflater(options)(lint(app)));

function decode(encoding: string | undefined, body: Buffer): string {
  if (encoding === 'gzip') return zlib.gunzipSync(body).toString();
  if (encoding === 'deflate') return zlib.inflateSync(body).toString();
  if (encoding === 'br') return zlib.brotliDecompressSync(body).toString();
  return body.toString();
}

describe('Deflater', () => {
  it('compresses a JSON body with the coding the client prefers', async () => {
    await testApp(wrap(jsonApp), async (request) => {
      for (const [accept, want] of [
        ['gzip', 'gzip'],
        ['deflate', 'deflate'],
        ['br', 'br'],
        ['gzip, deflate, br', 'br'],
        ['gzip;q=1, br;q=0.5', 'gzip'],
        ['br;q=0, *', 'gzip'],
        ['x-gzip', 'gzip'],
        ['deflate;q=0.9, gzip;q=0.8', 'deflate'],
      ] as const) {
        const res = await request('/', { headers: { 'Accept-Encoding': accept } });
        expect(res.headers['content-encoding'], accept).toBe(want);
        // The server adds the length of the compressed body it was handed whole.
        expect(res.headers['content-length'] ?? String(res.body.length), accept).toBe(String(res.body.length));
        expect(res.headers.vary).toBe('Accept-Encoding');
        expect(decode(want, res.body)).toBe(json);
        expect(res.body.length).toBeLessThan(json.length / 3);
      }
    });
  });

  it('sends identity when the client accepts no coding it offers, or sends no Accept-Encoding', async () => {
    await testApp(wrap(jsonApp), async (request) => {
      const variants: Array<Record<string, string>> = [
        {},
        { 'Accept-Encoding': 'identity' },
        { 'Accept-Encoding': 'gzip;q=0, br;q=0.000, deflate;q=0' },
        { 'Accept-Encoding': 'zstd' },
        { 'Accept-Encoding': 'gzip;q=2' },
      ];
      for (const headers of variants) {
        const res = await request('/', { headers });
        expect(res.headers['content-encoding']).toBeUndefined();
        expect(res.headers['content-length']).toBe(String(json.length));
        expect(res.headers.vary).toBe('Accept-Encoding');
        expect(res.text).toBe(json);
      }
    });
  });

  it('leaves small bodies, incompressible types, encoded bodies, ranges and no-transform alone', async () => {
    const cases: Array<[string, App, string | undefined]> = [
      ['small', () => [200, ['Content-Type', 'text/plain'], ['tiny']], 'Accept-Encoding'],
      [
        'small by Content-Length',
        () => [200, ['Content-Type', 'text/plain', 'Content-Length', '4'], Readable.from(['tiny'])],
        'Accept-Encoding',
      ],
      ['png', () => [200, ['Content-Type', 'image/png'], [json]], undefined],
      ['no type', () => [200, [], [json]], undefined],
      [
        'precompressed',
        () => [200, ['Content-Type', 'text/css', 'Content-Encoding', 'br', 'Vary', 'Accept-Encoding'], [json]],
        'Accept-Encoding',
      ],
      [
        'range',
        () => [206, ['Content-Type', 'text/plain', 'Content-Range', `bytes 0-9/${json.length}`], [json.slice(0, 10)]],
        undefined,
      ],
      [
        'no-transform',
        () => [200, ['Content-Type', 'text/plain', 'Cache-Control', 'public, no-transform'], [json]],
        undefined,
      ],
    ];
    for (const [name, app, vary] of cases) {
      await testApp(wrap(app), async (request) => {
        const res = await request('/', { headers: { 'Accept-Encoding': 'gzip, br' } });
        expect(res.headers['content-encoding'] ?? 'none', name).toBe(name === 'precompressed' ? 'br' : 'none');
        expect(res.headers.vary, name).toBe(vary);
      });
    }
  });

  it('adds Accept-Encoding to an existing Vary once', async () => {
    const app: App = () => [200, ['Content-Type', 'text/html', 'Vary', 'Cookie'], [json]];
    await testApp(wrap(app), async (request) => {
      const res = await request('/', { headers: { 'Accept-Encoding': 'gzip' } });
      expect(res.headers.vary).toBe('Cookie, Accept-Encoding');
    });
    const twice: App = () => [200, ['Content-Type', 'text/html', 'Vary', 'accept-encoding'], [json]];
    await testApp(wrap(twice), async (request) => {
      expect((await request('/', { headers: { 'Accept-Encoding': 'gzip' } })).headers.vary).toBe('accept-encoding');
    });
  });

  it('weakens a strong ETag and drops Accept-Ranges on a compressed response', async () => {
    const app: App = () => [200, ['Content-Type', 'text/plain', 'ETag', '"abc"', 'Accept-Ranges', 'bytes'], [json]];
    await testApp(wrap(app), async (request) => {
      const res = await request('/', { headers: { 'Accept-Encoding': 'gzip' } });
      expect(res.headers.etag).toBe('W/"abc"');
      expect(res.headers['accept-ranges']).toBeUndefined();
      const plain = await request('/');
      expect(plain.headers.etag).toBe('"abc"');
      expect(plain.headers['accept-ranges']).toBe('bytes');
    });
  });

  it('compresses a streamed body chunk by chunk with gzip or deflate, not brotli', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => `${i}:${json.slice(0, 500)}\n`);
    const app: App = () => [200, ['Content-Type', 'text/plain'], Readable.from(chunks)];
    await testApp(wrap(app), async (request) => {
      const br = await request('/', { headers: { 'Accept-Encoding': 'br, gzip;q=0.5' } });
      expect(br.headers['content-encoding']).toBe('gzip');
      expect(decode('gzip', br.body)).toBe(chunks.join(''));
      const deflate = await request('/', { headers: { 'Accept-Encoding': 'deflate' } });
      expect(decode('deflate', deflate.body)).toBe(chunks.join(''));
      expect(deflate.body.length).toBeLessThan(chunks.join('').length / 5);
      const onlyBr = await request('/', { headers: { 'Accept-Encoding': 'br' } });
      expect(onlyBr.headers['content-encoding']).toBeUndefined();
      expect(onlyBr.text).toBe(chunks.join(''));
    });
  });

  it('flushes each write of a streaming response to the client as it goes', async () => {
    let sawFirst: () => void = () => {};
    const firstSeen = new Promise<void>((resolve) => {
      sawFirst = resolve;
    });
    const app: App = () => async (respond) => {
      const writer = respond([200, ['Content-Type', 'text/event-stream']]);
      await writer.write('data: first\n\n');
      // The second event is only written once the client has decoded the first: without
      // a flush per write the first would sit in the compressor and this test would hang.
      await firstSeen;
      await writer.write('data: second\n\n');
      await writer.close();
    };
    const server = await listen(wrap(app));
    try {
      const text = await new Promise<string>((resolve, reject) => {
        const req = httpRequest(server.url, { agent: false, headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
          expect(res.headers['content-encoding']).toBe('gzip');
          let out = '';
          const gunzip = zlib.createGunzip();
          res.pipe(gunzip);
          gunzip.setEncoding('utf8');
          gunzip.on('data', (s: string) => {
            out += s;
            if (out.includes('first')) sawFirst();
          });
          gunzip.on('end', () => resolve(out));
          gunzip.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      expect(text).toBe('data: first\n\ndata: second\n\n');
    } finally {
      await server.close();
    }
  });

  it('answers HEAD with the headers a GET would get and no body', async () => {
    await testApp(wrap(jsonApp), async (request) => {
      const res = await request('/', { method: 'HEAD', headers: { 'Accept-Encoding': 'br' } });
      expect(res.headers['content-encoding']).toBe('br');
      expect(res.headers['content-length']).toBeUndefined();
      expect(res.body.length).toBe(0);
    });
  });

  it('honours psgix.no-compress set by an earlier middleware', async () => {
    const app = builder(({ enable }) => {
      enable((inner: App) => (env) => inner({ ...env, 'psgix.no-compress': true }));
      enable(deflater());
      return jsonApp;
    });
    await testApp(lint(app), async (request) => {
      const res = await request('/', { headers: { 'Accept-Encoding': 'gzip' } });
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.headers.vary).toBe('Accept-Encoding');
    });
  });

  it('compresses only the types given in contentType, with wildcards and regular expressions', async () => {
    const typed =
      (type: string): App =>
      () => [200, ['Content-Type', type], [json]];
    const options = { contentType: ['text/*', /^application\/vnd\.api\+json$/] };
    for (const [type, want] of [
      ['text/plain', 'gzip'],
      ['TEXT/HTML; charset=utf-8', 'gzip'],
      ['application/vnd.api+json', 'gzip'],
      ['application/json', undefined],
    ] as const) {
      await testApp(wrap(typed(type), options), async (request) => {
        expect((await request('/', { headers: { 'Accept-Encoding': 'gzip' } })).headers['content-encoding'], type).toBe(
          want,
        );
      });
    }
  });

  it('uses the encodings, threshold and level given', async () => {
    await testApp(wrap(jsonApp, { encodings: ['deflate'], threshold: 10 * json.length, level: 1 }), async (request) => {
      expect(
        (await request('/', { headers: { 'Accept-Encoding': 'gzip, deflate' } })).headers['content-encoding'],
      ).toBeUndefined();
    });
    await testApp(wrap(jsonApp, { encodings: ['deflate', 'gzip'], threshold: 0 }), async (request) => {
      expect(
        (await request('/', { headers: { 'Accept-Encoding': 'gzip, deflate' } })).headers['content-encoding'],
      ).toBe('deflate');
    });
  });

  it('rejects bad options when created, naming the option and the value', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ level: 10 }, /Deflater: option "level" must be an integer from 0 to 9, got 10/],
      [{ threshold: -1 }, /option "threshold" .* got -1/],
      [{ brotliQuality: 1.5 }, /option "brotliQuality"/],
      [{ encodings: ['zstd'] }, /option "encodings" .* got \["zstd"\]/],
      [{ encodings: [] }, /option "encodings"/],
      [{ contentType: 'html' }, /option "contentType" .* got "html"/],
      [{ treshold: 1 }, /Deflater: unknown option "treshold" \(did you mean "threshold"\?/],
      ['gzip', /options must be an object/],
    ];
    for (const [options, message] of bad) {
      try {
        deflater(options as never);
        expect.unreachable();
      } catch (err) {
        expect((err as PlankError).code).toBe('PLANK_ERR_DEFLATER_OPTION');
        expect((err as Error).message).toMatch(message);
      }
    }
  });

  it('resolves by its Plack name in enable(), with options checked at build time', async () => {
    const resolveFrom = join(import.meta.dirname, '..');
    const app = builder(
      ({ enable }) => {
        enable('Deflater', { threshold: 0 });
        return jsonApp;
      },
      { resolveFrom },
    );
    await testApp(lint(app), async (request) => {
      expect((await request('/', { headers: { 'Accept-Encoding': 'gzip' } })).headers['content-encoding']).toBe('gzip');
    });
    expect(() =>
      builder(
        ({ enable }) => {
          enable('Deflater', { level: 'max' });
          return jsonApp;
        },
        { resolveFrom },
      ),
    ).toThrow(expect.objectContaining({ code: 'PLANK_ERR_DEFLATER_OPTION' }));
  });
});
