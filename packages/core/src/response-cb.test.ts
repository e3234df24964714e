import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bodyToBuffer, discardBody, header, responseCb } from './index.js';
import type { AppResult, Chunk, Headers, Response, StreamingResponse, Writer } from './types.js';

const upper = (chunk: Chunk | null): Chunk | null => (chunk === null ? '!' : String(chunk).toUpperCase());

// Runs a streaming response against a recording responder.
async function runStreaming(result: AppResult): Promise<{ status: number; headers: Headers; body: string }> {
  const out = { status: 0, headers: [] as Headers, body: '' };
  const writer: Writer = {
    aborted: false,
    write: async (c) => {
      out.body += String(c);
    },
    close: async () => {},
  };
  await (result as StreamingResponse)((res) => {
    out.status = res[0];
    out.headers = res[1];
    if (res.length === 3) out.body = (res[2] as string[]).join('');
    return writer;
  });
  return out;
}

describe('responseCb', () => {
  it('gives a plain response to the callback and returns it synchronously', () => {
    const result = responseCb([200, ['A', '1'], ['x']], (res) => {
      header.set(res[1], 'B', '2');
      res[0] = 201;
    });
    expect(result).toEqual([201, ['A', '1', 'B', '2'], ['x']]);
  });

  it('waits for a promised response and keeps it a promise', async () => {
    const result = responseCb(Promise.resolve<Response>([200, [], ['x']]), (res) => {
      res[0] = 202;
    });
    expect(result).toBeInstanceOf(Promise);
    expect(((await result) as Response)[0]).toBe(202);
  });

  it('runs a body filter over a plain body, flushes at the end and drops Content-Length', async () => {
    const result = responseCb([200, ['Content-Length', '6'], ['abc', 'def']], () => upper) as Response;
    expect(header.has(result[1], 'content-length')).toBe(false);
    expect((await bodyToBuffer(result[2])).toString()).toBe('ABCDEF!');
  });

  it('keeps Content-Length for a filter that only watches, on a plain body, and stays synchronous', async () => {
    const seen: Array<Chunk | null> = [];
    const result = responseCb(
      [200, ['Content-Length', '6'], ['abc', 'def']],
      () => (chunk) => (seen.push(chunk), chunk),
      { keepContentLength: true },
    );
    expect(Array.isArray(result)).toBe(true);
    const res = result as Response;
    expect(res[1]).toEqual(['Content-Length', '6']);
    expect((await bodyToBuffer(res[2])).toString()).toBe('abcdef');
    expect(seen).toEqual(['abc', 'def', null]);
  });

  it("releases the app's body and tells the filter of the end when the filtered body is dropped unread", async () => {
    const stream = Readable.from(['never', 'read']);
    const seen: Array<Chunk | null> = [];
    const res = responseCb([200, [], stream], () => (chunk) => (seen.push(chunk), chunk)) as Response;
    discardBody(res[2]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.destroyed).toBe(true);
    expect(seen).toEqual([null]);
  });

  it('keeps Content-Length for a filter that only watches what a streaming app writes', async () => {
    const seen: Array<Chunk | null> = [];
    const app: StreamingResponse = async (respond) => {
      const w = respond([200, ['Content-Length', '2', 'X', 'y']]);
      await w.write('h');
      await w.write('i');
      await w.close();
    };
    const out = await runStreaming(
      responseCb(app, () => (chunk) => (seen.push(chunk), chunk), { keepContentLength: true }) as AppResult,
    );
    expect(out.headers).toEqual(['Content-Length', '2', 'X', 'y']);
    expect(out.body).toBe('hi');
    expect(seen).toEqual(['h', 'i', null]);
  });

  it('sees a streaming response head without a body and filters what the app writes', async () => {
    const seen: Array<number | undefined> = [];
    const app: StreamingResponse = async (respond) => {
      const w = respond([200, ['Content-Length', '2', 'X', 'y']]);
      await w.write('h');
      await w.write('i');
      await w.close();
    };
    const wrapped = responseCb(app, (res) => {
      seen.push(res.length);
      return upper;
    });
    const out = await runStreaming(wrapped as AppResult);
    expect(seen).toEqual([2]);
    expect(out.headers).toEqual(['X', 'y']);
    expect(out.body).toBe('HI!');
  });

  it('treats a streaming app that responds with a whole response like a plain one', async () => {
    const app: StreamingResponse = (respond) => {
      respond([404, ['A', '1'], ['nope']]);
    };
    const out = await runStreaming(
      responseCb(app, (res) => {
        res[0] = 410;
      }) as AppResult,
    );
    expect(out.status).toBe(410);
    expect(out.body).toBe('nope');
  });

  it('works on the response of a promised streaming app', async () => {
    const app = Promise.resolve<StreamingResponse>((respond) => {
      const w = respond([200, []]);
      void w.write('ok').then(() => w.close());
    });
    const out = await runStreaming(await responseCb(app, () => upper));
    expect(out.body).toBe('OK!');
  });
});
