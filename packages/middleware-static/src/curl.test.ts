// Conditional and range behaviour as a real client sees it: curl over a real socket.
import { execFile } from 'node:child_process';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lint } from '@plank/core';
import { listen, which } from '@plank/test';
import type { ServerHandle } from '@plank/server-node';
import { makeTree } from './helpers.fixture.js';
import { fileApp } from './index.js';

const curl = which('curl');

type CurlResult = { status: number; headers: Record<string, string>; body: Buffer };

let tree: ReturnType<typeof makeTree>;
let handle: ServerHandle;
const content = Buffer.from(Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join(''));

// Async on purpose: the server runs in this process, a synchronous spawn would starve it.
function run(args: string[]): Promise<CurlResult> {
  const out = join(tree.root, `out-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    execFile(
      curl as string,
      ['-sS', '--max-time', '10', '-D', '-', '-o', out, ...args],
      { encoding: 'latin1' },
      (err, stdout) => {
        if (err) return reject(err);
        // With -C - or redirects curl may print several header blocks: the last one counts.
        const blocks = stdout.split(/\r\n\r\n/).filter((b) => b.startsWith('HTTP/'));
        const last = blocks[blocks.length - 1] ?? '';
        const [statusLine, ...lines] = last.split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines) {
          const i = l.indexOf(':');
          headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
        }
        let body = Buffer.alloc(0);
        try {
          body = readFileSync(out);
        } catch {
          // no body written (304, HEAD)
        }
        resolve({ status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(statusLine ?? '')?.[1]), headers, body });
      },
    );
  });
}

describe.skipIf(!curl && !process.env.CI)('curl over a real socket', () => {
  let url: string;
  beforeAll(async () => {
    tree = makeTree({ 'lines.txt': content, 'lines.txt.gz': gzipSync(content) });
    const when = new Date('2024-05-06T07:08:09Z');
    utimesSync(join(tree.root, 'lines.txt'), when, when);
    handle = await listen(lint(fileApp({ root: tree.root, precompressed: ['gzip'] })));
    url = `http://127.0.0.1:${handle.port}/lines.txt`;
  });
  afterAll(async () => {
    await handle?.close({ timeout: 1000 });
    tree?.cleanup();
  });

  it('gets the whole file with its validators', async () => {
    const res = await run([url]);
    expect(res.status).toBe(200);
    expect(res.body.equals(content)).toBe(true);
    expect(res.headers['last-modified']).toBe('Mon, 06 May 2024 07:08:09 GMT');
    expect(res.headers.etag).toMatch(/^"/);
  });

  it('gets 304 for its own ETag and for -z with the Last-Modified date', async () => {
    const { headers } = await run([url]);
    const byTag = await run(['-H', `If-None-Match: ${headers.etag}`, url]);
    expect(byTag.status).toBe(304);
    expect(byTag.body.length).toBe(0);
    expect((await run(['-z', 'Mon, 06 May 2024 07:08:09 GMT', url])).status).toBe(304);
    expect((await run(['-z', 'Mon, 06 May 2024 07:08:08 GMT', url])).status).toBe(200);
  });

  it('gets 412 for a failed If-Match and for -z with a date before the change', async () => {
    expect((await run(['-H', 'If-Match: "other"', url])).status).toBe(412);
    expect((await run(['-z', '-Mon, 06 May 2024 07:08:08 GMT', url])).status).toBe(412);
  });

  it('gets byte ranges with -r: one, a suffix, several, and an unsatisfiable one', async () => {
    const one = await run(['-r', '0-9', url]);
    expect(one.status).toBe(206);
    expect(one.headers['content-range']).toBe(`bytes 0-9/${content.length}`);
    expect(one.body.equals(content.subarray(0, 10))).toBe(true);
    const suffix = await run(['-r', '-7', url]);
    expect(suffix.body.equals(content.subarray(content.length - 7))).toBe(true);
    const many = await run(['-r', '0-4,100-104', url]);
    expect(many.status).toBe(206);
    expect(many.headers['content-type']).toMatch(/^multipart\/byteranges; boundary=/);
    expect(many.body.includes(content.subarray(100, 105))).toBe(true);
    expect(Number(many.headers['content-length'])).toBe(many.body.length);
    const past = await run(['-r', `${content.length}-`, url]);
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${content.length}`);
  });

  it('resumes a partial download with -C - to the exact file', async () => {
    const partial = join(tree.root, 'partial.txt');
    writeFileSync(partial, content.subarray(0, 1234));
    await new Promise<void>((resolve, reject) =>
      execFile(curl as string, ['-sS', '--max-time', '10', '-C', '-', '-o', partial, url], (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    expect(readFileSync(partial).equals(content)).toBe(true);
  });

  it('honours If-Range: a current ETag gives the range, a stale one the whole file', async () => {
    const { headers } = await run([url]);
    expect((await run(['-r', '0-9', '-H', `If-Range: ${headers.etag}`, url])).status).toBe(206);
    const stale = await run(['-r', '0-9', '-H', 'If-Range: "stale"', url]);
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(content.length);
  });

  it('gets the gzip variant with --compressed and decodes it to the same bytes', async () => {
    const res = await run(['--compressed', url]);
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.body.equals(content)).toBe(true);
  });

  it('gets the headers alone with -I', async () => {
    const res = await run(['-I', url]);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(content.length));
    // curl -I writes the headers to -o too; the body must not be there.
    expect(res.body.toString('latin1')).not.toContain('line 0');
  });
});
