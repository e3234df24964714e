import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { lint } from '@plank/core';
import type { App, Env } from '@plank/core';
import { requestInProcess } from './in-process.js';
import { rawRequest, socketRequester } from './socket.js';
import { serverSuiteCases } from './suite-cases.js';
import type { SuiteCase, SuiteClient, SuiteFixtures } from './suite-cases.js';
import type { Requester } from './types.js';

/** A server started for the suite. `request` is only for servers without a socket (in-process). */
export type SuiteServer = { port: number; close(): Promise<void>; request?: Requester };

/** Starts a server for `app` on 127.0.0.1 and an ephemeral port. */
/**
 * Starts a server for the suite. `socketless`: the cases that need a raw socket are left out.
 * `exclude`: case names → why they cannot hold for this server (a proxy in front that answers
 * or rewrites those requests itself); each name must be a case, so a renamed case is noticed.
 */
export type SuiteFactory = ((app: App) => Promise<SuiteServer>) & {
  socketless?: boolean;
  exclude?: Readonly<Record<string, string>>;
};

const ROUTE = 'X-Plank-Test';

/** The one place every case's app is wrapped: the contract is checked on every request. */
function wrap(c: SuiteCase): App {
  return c.noLint ? c.app : lint(c.app);
}

/** One app serving every case, routed by the `X-Plank-Test` header (as Plack::Test::Suite does). */
export function suiteApp(cases: SuiteCase[]): App {
  const apps = cases.map(wrap);
  return function serverSuiteApp(env: Env) {
    const app = apps[Number(env.HTTP_X_PLANK_TEST)];
    if (!app) return [400, ['Content-Type', 'text/plain'], [`no case ${String(env.HTTP_X_PLANK_TEST)}`]];
    return app(env);
  };
}

/** The suite's in-process "server": requests go through `requestInProcess`, no socket. */
export const inProcessServer: SuiteFactory = Object.assign(
  (app: App): Promise<SuiteServer> =>
    Promise.resolve({
      port: 0,
      close: () => Promise.resolve(),
      request: (path: string, init?: Parameters<Requester>[1]) => requestInProcess(app, path, init),
    }),
  { socketless: true },
);

function withRoute(init: Parameters<Requester>[1], index: number): NonNullable<Parameters<Requester>[1]> {
  const headers = init?.headers;
  const flat =
    headers === undefined
      ? []
      : Array.isArray(headers)
        ? [...headers]
        : Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v.flatMap((x) => [k, x]) : [k, v]));
  return { ...init, headers: [...flat, ROUTE, String(index)] };
}

/**
 * Registers the server conformance suite with vitest: Plack::Test::Suite's cases and
 * Plank's own, each app wrapped in `lint()`. Every Plank server runs it with a one-line test.
 *
 * @example
 * ```ts
 * import { runServerSuite } from '@plank/test';
 * import { serve } from '@plank/server-node';
 * runServerSuite('server-node', (app) => serve(app, { host: '127.0.0.1', port: 0 }).then((h) => ({ port: h.port!, close: () => h.close() })));
 * ```
 */
export function runServerSuite(name: string, factory: SuiteFactory): void {
  const fixtures: SuiteFixtures = { small: '', big: '', bigSha1: '' };
  const all = serverSuiteCases(fixtures);
  const excluded = factory.exclude ?? {};
  for (const caseName of Object.keys(excluded)) {
    if (!all.some((c) => c.name === caseName)) {
      throw new Error(`runServerSuite(${name}): no case is named ${JSON.stringify(caseName)}`);
    }
  }
  const cases = all.filter((c) => !(factory.socketless && c.socketOnly) && !(c.name in excluded));
  describe(`server suite: ${name}`, () => {
    let dir = '';
    let server: SuiteServer | undefined;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'plank-suite-'));
      fixtures.small = join(dir, 'small.txt');
      fixtures.big = join(dir, 'big.bin');
      const big = randomBytes(3 * 1024 * 1024);
      fixtures.bigSha1 = createHash('sha1').update(big).digest('hex');
      await writeFile(fixtures.small, '0123456789'.repeat(10));
      await writeFile(fixtures.big, big);
      server = await factory(suiteApp(cases));
    });
    afterAll(async () => {
      await server?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });
    cases.forEach((c, index) => {
      it(c.name, async () => {
        const s = server as SuiteServer;
        const request = s.request ?? socketRequester(s.port);
        const client: SuiteClient = {
          request: (path, init) => request(path, withRoute(init, index)),
          raw: (head, body = '') =>
            rawRequest(s.port, `${head}\r\n${ROUTE}: ${index}\r\nConnection: close\r\n\r\n${body}`),
        };
        await c.check(client);
      });
    });
  });
}
