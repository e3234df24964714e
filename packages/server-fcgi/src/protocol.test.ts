import { describe, expect, it } from 'vitest';
import { decodeParams, encodeParams, encodeRecords, RecordReader, Type } from './protocol.js';

describe('FastCGI records', () => {
  it('encodes name-value pairs with 1-byte lengths below 128 and 4-byte lengths above', () => {
    const long = 'x'.repeat(200);
    const bytes = encodeParams([
      ['A', 'b'],
      ['LONG', long],
    ]);
    expect([...bytes.subarray(0, 4)]).toEqual([1, 1, 65, 98]);
    expect(bytes[4]).toBe(4);
    expect(bytes.readUInt32BE(5)).toBe(0x80000000 + 200);
    expect(decodeParams(bytes)).toEqual([
      ['A', 'b'],
      ['LONG', long],
    ]);
  });

  it('keeps param values as bytes, one character per byte', () => {
    const bytes = Buffer.concat([Buffer.from([4, 2]), Buffer.from('PATH'), Buffer.from([0xc3, 0xa9])]);
    expect(decodeParams(bytes)).toEqual([['PATH', '\xc3\xa9']]);
  });

  it('refuses name-value pairs that run past the bytes given', () => {
    expect(decodeParams(Buffer.from([5, 1, 65]))).toBeUndefined();
    expect(decodeParams(Buffer.from([0x80, 0, 0]))).toBeUndefined();
  });

  it('splits content over 65535 bytes into several padded records', () => {
    const bytes = encodeRecords(Type.Stdout, 7, Buffer.alloc(70_000, 1));
    const records = new RecordReader().push(bytes);
    expect(records.map((r) => r.content.length)).toEqual([65535, 70_000 - 65535]);
    expect(records.every((r) => r.type === Type.Stdout && r.requestId === 7)).toBe(true);
    expect(bytes.length % 8).toBe(0);
  });

  it('reads records split across reads, one byte at a time', () => {
    const bytes = Buffer.concat([
      encodeRecords(Type.Params, 1, Buffer.from('abc')),
      encodeRecords(Type.Stdin, 1, Buffer.alloc(0)),
    ]);
    const reader = new RecordReader();
    const seen = [];
    for (const byte of bytes) seen.push(...reader.push(Buffer.from([byte])));
    expect(seen.map((r) => [r.type, r.content.toString()])).toEqual([
      [Type.Params, 'abc'],
      [Type.Stdin, ''],
    ]);
    expect(reader.buffered).toBe(0);
  });

  it('refuses a record of another version', () => {
    const bytes = encodeRecords(Type.Stdin, 1, Buffer.from('x'));
    bytes[0] = 2;
    expect(() => new RecordReader().push(bytes)).toThrow(/version 2/);
  });
});
