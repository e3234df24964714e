import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { adler32, crc32, streamEncoder } from './encoder.js';
import { chooseCoding } from './negotiate.js';

describe('the chunk encoder', () => {
  it('computes the CRC-32 and Adler-32 that gzip and zlib write in their trailers', () => {
    for (const data of [Buffer.alloc(0), Buffer.from('Hello World'), randomBytes(100_000)]) {
      expect(crc32(data)).toBe(zlib.gzipSync(data).readUInt32LE(zlib.gzipSync(data).length - 8));
      expect(adler32(data)).toBe(zlib.deflateSync(data).readUInt32BE(zlib.deflateSync(data).length - 4));
      const half = data.length >> 1;
      expect(crc32(data.subarray(half), crc32(data.subarray(0, half)))).toBe(crc32(data));
      expect(adler32(data.subarray(half), adler32(data.subarray(0, half)))).toBe(adler32(data));
    }
  });

  it('produces one valid stream from chunks of every size, with back-references across chunks', () => {
    const text = Buffer.from(JSON.stringify(Array.from({ length: 3000 }, (_, i) => ({ id: i % 50, v: 'same' }))));
    const inputs = [
      [text],
      Array.from({ length: 400 }, (_, i) => text.subarray(i * 7, i * 7 + 7)),
      [text.subarray(0, 40_000), Buffer.alloc(0), text.subarray(40_000)],
      [randomBytes(70_000), text],
    ];
    for (const coding of ['gzip', 'deflate'] as const) {
      for (const chunks of inputs) {
        const encode = streamEncoder(coding, 6);
        const out = Buffer.concat([...chunks.map((c) => encode(c)), encode(null)]);
        const plain = Buffer.concat(chunks);
        expect((coding === 'gzip' ? zlib.gunzipSync(out) : zlib.inflateSync(out)).equals(plain)).toBe(true);
      }
    }
    // The dictionary carries the window: a repeat of the first chunk costs almost nothing.
    const noise = randomBytes(20_000);
    const encode = streamEncoder('gzip', 6);
    expect(encode(noise).length).toBeGreaterThan(20_000);
    expect(encode(noise).length).toBeLessThan(1000);
  });
});

describe('Accept-Encoding negotiation', () => {
  const offered = ['br', 'gzip', 'deflate'] as const;
  it('takes the highest q-value, then the server order, honouring *, q=0 and x-gzip', () => {
    expect(chooseCoding('gzip, deflate, br', offered)).toBe('br');
    expect(chooseCoding('deflate, gzip', offered)).toBe('gzip');
    expect(chooseCoding('gzip;q=0.5, deflate;q=0.6', offered)).toBe('deflate');
    expect(chooseCoding('*', offered)).toBe('br');
    expect(chooseCoding('*;q=0.1, br;q=0', offered)).toBe('gzip');
    expect(chooseCoding('X-GZIP', offered)).toBe('gzip');
    expect(chooseCoding('GZip ; Q=0.5', offered)).toBe('gzip');
    expect(chooseCoding('gzip;q=0', offered)).toBeUndefined();
    expect(chooseCoding('', offered)).toBeUndefined();
    expect(chooseCoding(undefined, offered)).toBeUndefined();
    expect(chooseCoding('identity, zstd', offered)).toBeUndefined();
  });

  it('ignores an entry whose q-value is not a qvalue rather than guessing', () => {
    expect(chooseCoding('br;q=high, gzip', offered)).toBe('gzip');
    expect(chooseCoding('br;q=1.5, gzip;q=0.1', offered)).toBe('gzip');
    expect(chooseCoding('br;q=0.0001', offered)).toBeUndefined();
  });
});
