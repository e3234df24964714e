// The slot record: a fixed-size frame rewritten in place with one positioned write. A reader
// may catch the write half done (nothing orders a read against a concurrent pwrite on the
// same file), so the frame carries its payload length and a CRC-32 over everything after
// the checksum; a frame that does not check out is read again, never trusted.
import { crc32 } from 'node:zlib';

export const MAGIC = 0x31425350; // 'PSB1' little-endian
export const HEADER = 48;

/** What one slot file says about its worker. */
export type SlotRecord = {
  pid: number;
  /** The master's stable slot id (`PLANK_WORKER_SLOT`), or 0 outside a prefork master. */
  slot: number;
  /** When the process started (ms since the epoch); with `pid` it names the worker uniquely. */
  startedAt: number;
  /** Requests this worker has finished, since it started. */
  requests: number;
  /** Response body bytes this worker has sent, since it started. */
  bytes: number;
  /** The opaque status text the worker wrote last (latin1, one character per byte). */
  payload: string;
};

// Layout (little-endian): magic u32 | payload length u32 | crc32 u32 | pid u32 | slot u32 |
// reserved u32 | startedAt f64 | requests f64 | bytes f64 | reserved 8 | payload.
export function encodeHeader(buf: Buffer, pid: number, slot: number, startedAt: number): void {
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(pid, 12);
  buf.writeUInt32LE(slot, 16);
  buf.writeDoubleLE(startedAt, 24);
}

/** Fills in counters and payload, seals the frame, and returns how many bytes to write. */
export function seal(buf: Buffer, requests: number, bytes: number, payload: string): number {
  buf.writeDoubleLE(requests, 32);
  buf.writeDoubleLE(bytes, 40);
  const len = buf.write(payload, HEADER, buf.length - HEADER, 'latin1');
  buf.writeUInt32LE(len, 4);
  buf.writeUInt32LE(crc32(buf.subarray(12, HEADER + len)), 8);
  return HEADER + len;
}

/** The record in `buf`, or undefined when the frame is incomplete or torn. */
export function decode(buf: Buffer): SlotRecord | undefined {
  if (buf.length < HEADER || buf.readUInt32LE(0) !== MAGIC) return undefined;
  const len = buf.readUInt32LE(4);
  if (HEADER + len > buf.length) return undefined;
  if (crc32(buf.subarray(12, HEADER + len)) !== buf.readUInt32LE(8)) return undefined;
  return {
    pid: buf.readUInt32LE(12),
    slot: buf.readUInt32LE(16),
    startedAt: buf.readDoubleLE(24),
    requests: buf.readDoubleLE(32),
    bytes: buf.readDoubleLE(40),
    payload: buf.toString('latin1', HEADER, HEADER + len),
  };
}

/** Names a worker across pid reuse: the pid alone may come back for another process. */
export function workerId(r: { pid: number; startedAt: number }): string {
  return `${r.pid}@${r.startedAt}`;
}
