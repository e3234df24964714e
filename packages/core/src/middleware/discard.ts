import { isFileBody, isReadable, isWebStream } from '../body.js';
import type { Body, Chunk } from '../types.js';

/**
 * Releases a body that will not be sent (HEAD, 304): a stream holds a descriptor or a
 * producer until someone destroys it, so dropping the reference is not enough.
 */
export function discardBody(body: Body): void {
  if (Array.isArray(body) || isFileBody(body)) return;
  if (isReadable(body)) {
    body.destroy();
  } else if (isWebStream(body)) {
    body.cancel().catch(() => {});
  } else if (typeof body === 'object' && body !== null) {
    const iterable = body as Partial<AsyncIterable<Chunk> & Iterable<Chunk>>;
    const it = iterable[Symbol.asyncIterator]?.() ?? iterable[Symbol.iterator]?.();
    Promise.resolve(it?.return?.()).catch(() => {});
  }
}

/** 1xx, 204 and 304 responses have no body (RFC 9110 §6.4.1). */
export function statusWithoutBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}
