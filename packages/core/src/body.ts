import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Body, Chunk, FileBody } from './types.js';

/** True for `{ path, start?, end? }` bodies. Readables with a `path` (fs streams) are not file bodies. */
export function isFileBody(body: unknown): body is FileBody {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as FileBody).path === 'string' &&
    typeof (body as Readable).pipe !== 'function' &&
    !(Symbol.asyncIterator in body) &&
    !(Symbol.iterator in body)
  );
}

/** True for node Readable streams. */
export function isReadable(body: unknown): body is Readable {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Readable).pipe === 'function' &&
    typeof (body as Readable).on === 'function'
  );
}

/** True for WHATWG ReadableStreams. */
export function isWebStream(body: unknown): body is ReadableStream<Uint8Array> {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ReadableStream).getReader === 'function' &&
    !isReadable(body)
  );
}

/**
 * Iterates any body kind as chunks, for code that must see the bytes (body filters,
 * in-process tests). Servers write file bodies and streams more directly.
 */
export async function* bodyChunks(body: Body): AsyncGenerator<Chunk, void, undefined> {
  if (Array.isArray(body)) {
    yield* body;
  } else if (isFileBody(body)) {
    const { path, start, end } = body;
    if (end !== undefined && start !== undefined && end < start) return;
    yield* createReadStream(path, { start, end }) as AsyncIterable<Buffer>;
  } else if (isWebStream(body)) {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  } else {
    // Readables, generators and any (async) iterable.
    yield* body as AsyncIterable<Chunk>;
  }
}

/** Reads a whole body into one Buffer. */
export async function bodyToBuffer(body: Body): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of bodyChunks(body))
    parts.push(
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
  return Buffer.concat(parts);
}

/** Byte length of a chunk as it goes on the wire (strings as UTF-8). */
export function chunkLength(chunk: Chunk): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : chunk.byteLength;
}
