import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ByteRange } from './conditional.js';

export type Multipart = { boundary: string; length: number; body: AsyncIterable<Buffer> };

/**
 * A `multipart/byteranges` body (RFC 9110 §14.6) for several ranges of one file. Its
 * length is known up front, so the response keeps an exact Content-Length; parts are
 * read one after another with backpressure, and an abandoned body destroys its stream.
 */
export function multipartByteranges(path: string, size: number, type: string, ranges: ByteRange[]): Multipart {
  // Random per response: file content cannot be crafted to contain it.
  const boundary = randomBytes(12).toString('hex');
  const heads = ranges.map((r, i) =>
    Buffer.from(
      `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`,
      'latin1',
    ),
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  let length = tail.length;
  ranges.forEach((r, i) => {
    length += (heads[i] as Buffer).length + r.end - r.start + 1;
  });
  async function* parts(): AsyncGenerator<Buffer, void, undefined> {
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i] as ByteRange;
      yield heads[i] as Buffer;
      yield* createReadStream(path, { start: r.start, end: r.end }) as AsyncIterable<Buffer>;
    }
    yield tail;
  }
  return { boundary, length, body: { [Symbol.asyncIterator]: parts } };
}
