import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { backoffDelay, BACKOFF_CAP_MS } from './backoff.js';
import { starterListeners } from './listen.js';
import { fromCommandLine, settings } from './options.js';

const app = { module: './app.js' };

describe('fromCommandLine', () => {
  it('reads Starlet names and Starman aliases, seconds turned into milliseconds', () => {
    expect(
      fromCommandLine({
        'max-workers': '4',
        'max-reqs-per-child': '100',
        'min-reqs-per-child': '50',
        'spawn-interval': '1.5',
        'keepalive-timeout': '2',
        'max-keepalive-reqs': '10',
        timeout: '30',
        'graceful-timeout': '5',
        'pid-file': '/tmp/x.pid',
        'workers-file': '/tmp/workers.json',
      }),
    ).toEqual({
      workers: 4,
      maxReqsPerChild: 100,
      minReqsPerChild: 50,
      spawnInterval: 1500,
      keepAliveTimeout: 2000,
      maxKeepAliveReqs: 10,
      timeout: 30_000,
      gracefulTimeout: 5000,
      pidFile: '/tmp/x.pid',
      workersFile: '/tmp/workers.json',
    });
    expect(fromCommandLine({ workers: '2', 'max-requests': '7' })).toEqual({ workers: 2, maxReqsPerChild: 7 });
  });

  it('turns --disable-keepalive into one request per connection', () => {
    expect(fromCommandLine({ keepalive: false })).toEqual({ maxKeepAliveReqs: 1 });
  });

  it('rejects an unknown option or a bad value with PLANK_ERR_SERVER_PREFORK_OPTION naming both', () => {
    const bad = (options: Record<string, string | boolean>, text: RegExp): void =>
      expect(() => fromCommandLine(options)).toThrow(
        expect.objectContaining({ code: 'PLANK_ERR_SERVER_PREFORK_OPTION', message: expect.stringMatching(text) }),
      );
    bad({ 'max-wrokers': '4' }, /unknown option "max-wrokers" \(did you mean "max-workers"\?/);
    bad({ 'max-workers': 'many' }, /option "max-workers" must be an integer >= 1, got "many"/);
    bad({ 'max-workers': '0' }, /option "max-workers" must be an integer >= 1, got "0"/);
    bad({ 'spawn-interval': '-1' }, /option "spawn-interval" must be a number of seconds .*, got "-1"/);
    bad({ 'graceful-timeout': '1e3' }, /option "graceful-timeout" must be a number of seconds .*, got "1e3"/);
    bad({ 'max-workers': true }, /option "max-workers" must be an integer >= 1, got true/);
    bad({ keepalive: 'maybe' }, /option "keepalive" must be a boolean/);
    bad(
      { 'min-reqs-per-child': '9', 'max-reqs-per-child': '3' },
      /"min-reqs-per-child" must be at most "max-reqs-per-child"/,
    );
  });
});

describe('settings', () => {
  it('fills in the defaults: one worker per CPU, port 5000, Starlet timeouts', () => {
    const s = settings({ app });
    expect(s.workers).toBe(availableParallelism());
    expect(s.listen).toEqual([{ port: 5000 }]);
    expect(s).toMatchObject({
      maxReqsPerChild: 0,
      spawnInterval: 0,
      keepAliveTimeout: 5000,
      timeout: 300_000,
      gracefulTimeout: 30_000,
      signals: true,
    });
  });

  it('rejects bad options with PLANK_ERR_SERVER_PREFORK_OPTION naming the option and value', () => {
    const bad = (options: object, text: RegExp): void =>
      expect(() => settings({ app, ...options })).toThrow(
        expect.objectContaining({ code: 'PLANK_ERR_SERVER_PREFORK_OPTION', message: expect.stringMatching(text) }),
      );
    bad({ workers: 0 }, /"workers" must be an integer >= 1, got 0/);
    bad({ spawnInterval: -5 }, /"spawnInterval" .* got -5/);
    bad({ minReqsPerChild: 5 }, /"minReqsPerChild" must be at most maxReqsPerChild \(0\)/);
    bad({ listen: [{ port: 70000 }] }, /"listen" .* got \[\{"port":70000\}\]/);
    bad({ signals: 'yes' }, /"signals" .* got "yes"/);
    bad({ wrokers: 2 }, /unknown option "wrokers" \(did you mean "workers"\?/);
    bad({ app: { module: './app.js', execArgv: '--import tsx' } }, /"app" must be an AppSource/);
    expect(() => settings({ app: { module: '' } })).toThrow(/"app" must be an AppSource/);
  });
});

describe('starterListeners', () => {
  it('reads every form of SERVER_STARTER_PORT', () => {
    expect(starterListeners('127.0.0.1:5000=3;8080=4;/tmp/app.sock=5')).toEqual([
      { fd: 3, url: 'http://127.0.0.1:5000/' },
      { fd: 4, url: 'http://*:8080/' },
      { fd: 5, url: 'unix:/tmp/app.sock' },
    ]);
  });

  it('rejects a value it cannot read with PLANK_ERR_SERVER_STARTER', () => {
    expect(() => starterListeners('127.0.0.1:5000')).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_SERVER_STARTER' }),
    );
    expect(() => starterListeners('5000=x')).toThrow(/cannot read "5000=x"/);
  });
});

describe('backoffDelay', () => {
  it('doubles with each failure in a row and stops at the cap', () => {
    expect([1, 2, 3, 4].map(backoffDelay)).toEqual([200, 400, 800, 1600]);
    expect(backoffDelay(50)).toBe(BACKOFF_CAP_MS);
  });
});
