// Test helpers: a minimal env, an in-process call, and a scratch document root.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bodyToBuffer, header, lint, type App, type Env, type Headers, type Response } from '@plank/core';
import { testEnv } from '@plank/test';

/** The env a server would build for `path` (decoded once, headers as HTTP_*), from @plank/test. */
export function fakeEnv(path: string, headers: Record<string, string> = {}, method = 'GET'): Env {
  return testEnv(path, { headers, method });
}

export type Result = {
  status: number;
  headers: Headers;
  body: Buffer;
  raw: Response;
  get(name: string): string | undefined;
};

/** Calls `app`, wrapped in lint() so every env and response is checked against the spec, and reads the whole body. */
export async function call(
  app: App,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Result> {
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
