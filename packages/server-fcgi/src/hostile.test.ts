import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@plank/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FcgiClient } from './client.fixture.js';
import { encodeRecords, Type } from './protocol.js';
import { type FcgiServer, serveFcgi } from './serve.js';

const openFds = () => readdirSync('/proc/self/fd').length;

// A web server that misbehaves or goes away: nothing may crash, hang or stay open.
describe('a FastCGI peer that breaks off', () => {
  let dir = '';
  let server: FcgiServer;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plank-fcgi-hostile-'));
    await writeFile(join(dir, 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 7));
    server = await serveFcgi(
      (env) =>
        env.PATH_INFO === '/stream'
          ? async (respond) => {
              const w = respond([200, ['Content-Type', 'text/plain']]);
              while (!w.aborted) await w.write('x'.repeat(64 * 1024));
              await w.close();
            }
          : [200, ['Content-Type', 'application/octet-stream'], { path: join(dir, 'big.bin') }],
      { host: '127.0.0.1', port: 0, errors: { write: (s: string) => lines.push(s) } },
    );
  });
  afterAll(async () => {
    await server.close({ timeout: 100 });
    await rm(dir, { recursive: true, force: true });
  });

  const GET = (path: string) => ({ REQUEST_METHOD: 'GET', REQUEST_URI: path, SCRIPT_NAME: '', PATH_INFO: path });

  it('releases file bodies and streams of 50 responses the web server hung up on midway', async () => {
    const before = openFds();
    for (let i = 0; i < 50; i++) {
      const client = await FcgiClient.open({ port: server.port as number });
      client.begin(1);
      client.params(1, GET(i % 2 === 0 ? '/file' : '/stream'));
      client.stdin(1, undefined);
      await client.until(() => client.records.some((r) => r.type === Type.Stdout && r.content.length > 0));
      client.close();
    }
    await until(() => openFds() <= before + 2 || undefined, 'descriptors back to where they were', { timeout: 5000 });
    expect(openFds()).toBeLessThanOrEqual(before + 2);
  });

  it('survives truncated records and records out of order, one log line each time it closes a connection', async () => {
    const from = lines.length;
    const truncated = await FcgiClient.open({ port: server.port as number });
    truncated.send(encodeRecords(Type.BeginRequest, 1, Buffer.alloc(8)).subarray(0, 11));
    truncated.close();
    const early = await FcgiClient.open({ port: server.port as number });
    early.begin(1);
    early.send(encodeRecords(Type.Stdin, 1, Buffer.from('body before params')));
    await early.closed;
    expect(lines.slice(from)).toEqual([
      expect.stringMatching(/^FastCGI: STDIN before the end of PARAMS; closing the connection/),
    ]);
    // And it still serves.
    const client = await FcgiClient.open({ port: server.port as number });
    const reply = await client.request(GET('/file'));
    expect(reply.body.length).toBe(8 * 1024 * 1024);
  });
});
