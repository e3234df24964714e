// Test helpers: a minimal env, an in-process call, and a scratch document root.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { bodyToBuffer, header, lint, type App, type Env, type Headers, type Response } from '@plank/core';

export function fakeEnv(path: string, headers: Record<string, string> = {}, method = 'GET'): Env {
  const input = new PassThrough();
  input.end();
  const q = path.indexOf('?');
  const rawPath = q === -1 ? path : path.slice(0, q);
  const env: Record<string, unknown> = {
    REQUEST_METHOD: method,
    SCRIPT_NAME: '',
    // Decoded once, bytes as latin1, like the servers do.
    PATH_INFO: Buffer.from(decodeBytes(rawPath)).toString('latin1'),
    REQUEST_URI: path,
    QUERY_STRING: q === -1 ? '' : path.slice(q + 1),
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    'psgi.version': [1, 1],
    'psgi.url_scheme': 'http',
    'psgi.input': input,
    'psgi.errors': { write: () => true },
    'psgi.multithread': false,
    'psgi.multiprocess': false,
    'psgi.run_once': false,
    'psgi.nonblocking': true,
    'psgi.streaming': true,
  };
  for (const [k, v] of Object.entries(headers)) env[`HTTP_${k.toUpperCase().replace(/-/g, '_')}`] = v;
  return env as Env;
}

function decodeBytes(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const m = s[i] === '%' ? /^[0-9a-fA-F]{2}$/.exec(s.slice(i + 1, i + 3)) : null;
    if (m) {
      out.push(parseInt(m[0], 16));
      i += 2;
    } else out.push(...Buffer.from(s[i] as string, 'utf8'));
  }
  return out;
}

export type Result = { status: number; headers: Headers; body: Buffer; raw: Response; get(name: string): string | undefined };

/** Calls `app`, wrapped in lint() so every env and response is checked against the spec, and reads the whole body. */
export async function call(app: App, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Result> {
  const res = (await lint(app)(fakeEnv(path, headers, method))) as Response;
  if (typeof res === 'function') throw new Error('streaming response not expected');
  const body = await bodyToBuffer(res[2]);
  return { status: res[0], headers: res[1], body, raw: res, get: (name) => header.get(res[1], name) };
}

/** A scratch directory filled with `files` (path → content); removed by the returned cleanup. */
export function makeTree(files: Record<string, string | Buffer>): { root: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'plank-static-'));
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    if (path.endsWith('/')) mkdirSync(full, { recursive: true });
    else writeFileSync(full, content);
  }
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
