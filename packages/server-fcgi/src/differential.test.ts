import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '@plank/core';
import { freePort, until, which } from '@plank/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxPath, type Peer, plackParams, startNginx } from './peers.fixture.js';
import { type FcgiServer, serveFcgi } from './serve.js';

// The same requests through the same nginx configurations to Plack's own FCGI handler
// (Plack::Handler::FCGI with FCGI::ProcManager) and to Plank: the env keys an app reads.
const KEYS = [
  'REQUEST_METHOD',
  'SCRIPT_NAME',
  'PATH_INFO',
  'QUERY_STRING',
  'REQUEST_URI',
  'SERVER_NAME',
  'SERVER_PORT',
  'SERVER_PROTOCOL',
  'REMOTE_ADDR',
  'CONTENT_TYPE',
  'CONTENT_LENGTH',
  'HTTP_X_TEST',
  'HTTP_HOST',
  'psgi.url_scheme',
];

const PSGI = `
use strict; use JSON::PP;
my @keys = qw(${KEYS.join(' ')});
sub {
  my $env = shift;
  my $body = ''; $env->{'psgi.input'}->read($body, 1 << 20);
  my %out = map { ($_ => $env->{$_}) } grep { defined $env->{$_} } @keys;
  $out{body} = $body;
  [200, ['Content-Type' => 'application/json'], [JSON::PP->new->latin1->canonical->encode(\\%out)]];
};
`;

const plankApp: App = async (env) => {
  let body = '';
  for await (const chunk of env['psgi.input']) body += Buffer.from(chunk).toString('latin1');
  const out: Record<string, unknown> = {};
  for (const key of KEYS) if (env[key as keyof typeof env] !== undefined) out[key] = env[key as keyof typeof env];
  out.body = body;
  // Bytes as they are (one per character), as JSON::PP->latin1 writes Plack's.
  return [200, ['Content-Type', 'application/json'], [Buffer.from(JSON.stringify(out), 'latin1')]];
};

const plackup = which('plackup');

describe.skipIf((!nginxPath || !plackup) && !process.env.CI)(
  'Plank against Plack::Handler::FCGI behind the same nginx',
  () => {
    let dir = '';
    let plack: ChildProcess | undefined;
    let plank: FcgiServer;
    let nginx: Peer;
    const locations = (port: number, prefix: string) => `
    location ${prefix}/mounted/ {
      fastcgi_pass 127.0.0.1:${port};
      ${plackParams(`${prefix}/mounted`)}
      fastcgi_param HTTP_HOST $http_host;
    }
    location ${prefix}/stock/ {
      fastcgi_pass 127.0.0.1:${port};
      include /etc/nginx/fastcgi_params;
    }`;

    beforeAll(async () => {
      if (!plackup)
        throw new Error(
          'plackup is not installed (CI installs it: apt-get install libplack-perl libfcgi-perl libfcgi-procmanager-perl)',
        );
      dir = await mkdtemp(join(tmpdir(), 'plank-fcgi-diff-'));
      await writeFile(join(dir, 'app.psgi'), PSGI);
      const plackPort = await freePort();
      plack = spawn(
        plackup,
        ['-E', 'deployment', '-s', 'FCGI', '--listen', `127.0.0.1:${plackPort}`, '--nproc', '1', join(dir, 'app.psgi')],
        {
          stdio: ['ignore', 'ignore', 'ignore'],
          detached: true,
        },
      );
      plank = await serveFcgi(plankApp, { host: '127.0.0.1', port: 0 });
      nginx = await startNginx(`${locations(plackPort, '/plack')}\n${locations(plank.port as number, '/plank')}`);
      await until(
        async () =>
          (await fetch(`http://127.0.0.1:${nginx.port}/plack/mounted/`).catch(() => undefined))?.ok || undefined,
        'Plack to answer',
      );
    });

    afterAll(async () => {
      await nginx?.stop();
      if (plack?.pid) {
        try {
          process.kill(-plack.pid, 'SIGTERM'); // the ProcManager and its worker
        } catch {}
      }
      await plank?.close({ timeout: 100 });
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    async function both(path: string, init: RequestInit = {}) {
      const get = async (who: string) => {
        const res = await fetch(`http://127.0.0.1:${nginx.port}/${who}${path}`, init);
        const env = JSON.parse(Buffer.from(await res.arrayBuffer()).toString('latin1')) as Record<string, string>;
        // The location prefix differs by design; compare what is below it.
        for (const key of ['SCRIPT_NAME', 'REQUEST_URI', 'PATH_INFO']) {
          if (typeof env[key] === 'string') env[key] = env[key].replace(`/${who}`, '/X');
        }
        return env;
      };
      return { plack: await get('plack'), plank: await get('plank') };
    }

    it('builds the same env as Plack for a mounted app, bytes, query, repeated slashes and a body included', async () => {
      for (const [path, init] of [
        ['/mounted/a%20b?x=1', {}],
        ['/mounted/caf%C3%A9/%FF', {}],
        ['/mounted/a//b', {}],
        ['/mounted/', {}],
        [
          '/mounted/form',
          {
            method: 'POST',
            body: 'a=1&b=2',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Test': 'one' },
          },
        ],
      ] as Array<[string, RequestInit]>) {
        const { plack, plank } = await both(path, init);
        expect(plank, path).toEqual(plack);
      }
    });

    it("differs from Plack under nginx's stock fastcgi_params only where Plank corrects SCRIPT_NAME", async () => {
      const { plack, plank } = await both('/stock/users/42?page=2');
      // Plack takes the whole path as SCRIPT_NAME and leaves nothing in PATH_INFO to route on.
      expect([plack.SCRIPT_NAME, plack.PATH_INFO]).toEqual(['/X/stock/users/42', '']);
      expect([plank.SCRIPT_NAME, plank.PATH_INFO]).toEqual(['', '/X/stock/users/42']);
      const rest = (env: Record<string, string>) => {
        const { SCRIPT_NAME: _s, PATH_INFO: _p, ...others } = env;
        return others;
      };
      expect(rest(plank)).toEqual(rest(plack));
    });
  },
);
