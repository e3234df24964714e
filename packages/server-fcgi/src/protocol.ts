// FastCGI 1.0 records (the FastCGI Specification, Open Market, 1996): an 8-byte header
// (version, type, request id, content length, padding length, reserved), the content, then
// padding. Everything here is pure: bytes in, records out, and the other way round.

export const VERSION = 1;
export const HEADER_LENGTH = 8;
export const MAX_CONTENT = 0xffff;

export const Type = {
  BeginRequest: 1,
  AbortRequest: 2,
  EndRequest: 3,
  Params: 4,
  Stdin: 5,
  Stdout: 6,
  Stderr: 7,
  Data: 8,
  GetValues: 9,
  GetValuesResult: 10,
  UnknownType: 11,
} as const;

export const Role = { Responder: 1, Authorizer: 2, Filter: 3 } as const;
/** FCGI_KEEP_CONN: the web server keeps the connection open after the request. */
export const KEEP_CONN = 1;
export const ProtocolStatus = { RequestComplete: 0, CantMpxConn: 1, Overloaded: 2, UnknownRole: 3 } as const;

export type FcgiRecord = { type: number; requestId: number; content: Buffer };

/** The records for `content` (split at 65535 bytes, padded to a multiple of 8), as one buffer. */
export function encodeRecords(type: number, requestId: number, content: Uint8Array): Buffer {
  return Buffer.concat(recordParts(type, requestId, content));
}

const PADDING = Buffer.alloc(8);

/**
 * The same records as headers, content slices and padding, without copying the content: a
 * body goes to the socket as it is (the socket is corked, so the parts leave together).
 */
export function recordParts(type: number, requestId: number, content: Uint8Array): Uint8Array[] {
  if (content.length === 0) return [header(type, requestId, 0, 0)];
  const parts: Uint8Array[] = [];
  for (let at = 0; at < content.length; at += MAX_CONTENT) {
    const piece = content.subarray(at, Math.min(at + MAX_CONTENT, content.length));
    const padding = (8 - (piece.length % 8)) % 8;
    parts.push(header(type, requestId, piece.length, padding), piece);
    if (padding > 0) parts.push(PADDING.subarray(0, padding));
  }
  return parts;
}

function header(type: number, requestId: number, length: number, padding: number): Buffer {
  const h = Buffer.alloc(HEADER_LENGTH);
  h[0] = VERSION;
  h[1] = type;
  h.writeUInt16BE(requestId, 2);
  h.writeUInt16BE(length, 4);
  h[6] = padding;
  return h;
}

/** FCGI_END_REQUEST's body: the app's status and the protocol status. */
export function endRequest(requestId: number, protocolStatus: number, appStatus = 0): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(appStatus >>> 0, 0);
  body[4] = protocolStatus;
  return encodeRecords(Type.EndRequest, requestId, body);
}

/** FCGI_UNKNOWN_TYPE for a management record this application does not know. */
export function unknownType(type: number): Buffer {
  const body = Buffer.alloc(8);
  body[0] = type;
  return encodeRecords(Type.UnknownType, 0, body);
}

/** Name-value pairs: each length in 1 byte below 128, else 4 bytes with the top bit set. */
export function encodeParams(pairs: Iterable<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of pairs) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    parts.push(lengthBytes(n.length), lengthBytes(v.length), n, v);
  }
  return Buffer.concat(parts);
}

function lengthBytes(n: number): Buffer {
  if (n < 128) return Buffer.from([n]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((n | 0x80000000) >>> 0);
  return b;
}

/**
 * Decodes name-value pairs; values are byte strings (latin1), as every env string is.
 * Returns undefined when the bytes are not a whole number of well-formed pairs.
 */
export function decodeParams(bytes: Buffer): Array<[string, string]> | undefined {
  const out: Array<[string, string]> = [];
  let at = 0;
  const length = (): number | undefined => {
    if (at >= bytes.length) return undefined;
    const first = bytes[at] as number;
    if (first < 128) {
      at += 1;
      return first;
    }
    if (at + 4 > bytes.length) return undefined;
    const n = bytes.readUInt32BE(at) & 0x7fffffff;
    at += 4;
    return n;
  };
  while (at < bytes.length) {
    const nameLength = length();
    const valueLength = length();
    if (nameLength === undefined || valueLength === undefined) return undefined;
    if (at + nameLength + valueLength > bytes.length) return undefined;
    const name = bytes.toString('latin1', at, at + nameLength);
    at += nameLength;
    out.push([name, bytes.toString('latin1', at, at + valueLength)]);
    at += valueLength;
  }
  return out;
}

/**
 * Cuts a byte stream into records. `push` returns the complete records so far; a record split
 * across reads waits for its rest. A header with another version is a protocol error.
 */
export class RecordReader {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): FcgiRecord[] {
    const data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const records: FcgiRecord[] = [];
    let at = 0;
    while (data.length - at >= HEADER_LENGTH) {
      if (data[at] !== VERSION) throw new Error(`FastCGI record of version ${data[at]} (only 1 exists)`);
      const length = data.readUInt16BE(at + 4);
      const total = HEADER_LENGTH + length + (data[at + 6] as number);
      if (data.length - at < total) break;
      records.push({
        type: data[at + 1] as number,
        requestId: data.readUInt16BE(at + 2),
        content: data.subarray(at + HEADER_LENGTH, at + HEADER_LENGTH + length),
      });
      at += total;
    }
    this.#pending = at === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(at));
    return records;
  }

  /** Bytes of a record not yet complete (for a connection that ends in the middle of one). */
  get buffered(): number {
    return this.#pending.length;
  }
}
