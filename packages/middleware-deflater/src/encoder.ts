import zlib from 'node:zlib';

/** The codings Deflater can produce. */
export type Coding = 'br' | 'gzip' | 'deflate';

/** Compresses one chunk, or ends the stream when given `null`; returns the bytes to send now. */
export type ChunkEncoder = (chunk: Buffer | null) => Buffer;

const WINDOW = 32 * 1024;
const { Z_SYNC_FLUSH } = zlib.constants;
// gzip member header (RFC 1952 §2.3): magic, CM=8 (deflate), no flags, no mtime, XFL 0, OS 255 (unknown).
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
// zlib header (RFC 1950 §2.2): CM=8 with a 32 KiB window, FLEVEL "default"; 0x789c is a multiple of 31.
const ZLIB_HEADER = Buffer.from([0x78, 0x9c]);
// The empty final block that closes a raw deflate stream (BFINAL=1, fixed Huffman, end of block).
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/**
 * Compresses a whole body held in memory, in one call: the best ratio, and the only way
 * brotli is used (see {@link streamEncoder} for why).
 */
export function compressWhole(coding: Coding, data: Buffer, level: number, brotliQuality: number): Buffer {
  if (coding === 'br') {
    return zlib.brotliCompressSync(data, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: brotliQuality,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
  }
  return coding === 'gzip' ? zlib.gzipSync(data, { level }) : zlib.deflateSync(data, { level });
}

/**
 * A gzip or deflate encoder for bodies that arrive chunk by chunk, usable from a
 * synchronous body filter (which is what `responseCb` gives a middleware). Node's zlib
 * streams are asynchronous and its sync functions are one-shot, so each chunk is compressed
 * on its own as raw deflate with the previous 32 KiB of input as its dictionary and ended
 * with a sync flush: the pieces concatenate into one valid deflate stream (the technique
 * pigz uses for parallel gzip), every chunk leaves as soon as it is written (a streaming
 * response is flushed as it goes), and the ratio stays close to a single pass. The
 * container's header and checksum trailer are added here. Brotli streams cannot be joined
 * this way, so brotli is offered only for bodies compressed whole.
 */
export function streamEncoder(coding: 'gzip' | 'deflate', level: number): ChunkEncoder {
  let window: Buffer = Buffer.alloc(0);
  let started = false;
  let crc = 0;
  let adler = 1;
  let size = 0;
  return function encodeChunk(chunk) {
    const parts: Buffer[] = [];
    if (!started) {
      started = true;
      parts.push(coding === 'gzip' ? GZIP_HEADER : ZLIB_HEADER);
    }
    if (chunk === null) {
      parts.push(FINAL_BLOCK);
      const trailer = Buffer.alloc(coding === 'gzip' ? 8 : 4);
      if (coding === 'gzip') {
        trailer.writeUInt32LE(crc >>> 0, 0);
        trailer.writeUInt32LE(size >>> 0, 4);
      } else {
        trailer.writeUInt32BE(adler >>> 0, 0);
      }
      parts.push(trailer);
      return Buffer.concat(parts);
    }
    if (chunk.length === 0) return parts.length > 0 ? Buffer.concat(parts) : chunk;
    const options: zlib.ZlibOptions = { level, finishFlush: Z_SYNC_FLUSH };
    if (window.length > 0) options.dictionary = window;
    parts.push(zlib.deflateRawSync(chunk, options));
    if (coding === 'gzip') crc = crc32(chunk, crc);
    else adler = adler32(chunk, adler);
    size = (size + chunk.length) % 0x1_0000_0000;
    // Copied: the app may reuse the buffer it handed over.
    window =
      chunk.length >= WINDOW
        ? Buffer.from(chunk.subarray(chunk.length - WINDOW))
        : Buffer.concat([window.subarray(Math.max(0, window.length + chunk.length - WINDOW)), chunk]);
    return Buffer.concat(parts);
  };
}

// Node 22.2 has zlib.crc32; on Node 20 (the minimum) the table below does the same.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let table: Uint32Array | undefined;

/** CRC-32 (ISO 3309, as gzip uses it), continued from `value`. */
export function crc32(data: Uint8Array, value = 0): number {
  if (nativeCrc32) return nativeCrc32(data, value);
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = (table[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

/** Adler-32 (RFC 1950 §8), continued from `value`. */
export function adler32(data: Uint8Array, value = 1): number {
  let a = value & 0xffff;
  let b = value >>> 16;
  // 5552 is the most bytes that can be summed before b could overflow 2^32 (zlib's NMAX).
  for (let i = 0; i < data.length; ) {
    const end = Math.min(i + 5552, data.length);
    for (; i < end; i++) {
      a += data[i] as number;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
