import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { until, which } from '@plank/test';
import { fixtureApp, reap, startMaster, type Proc } from './helpers.fixture.js';
import { fromCommandLine, settings } from './options.js';

const app = { module: './app.js' };
const bad = (options: object, text: RegExp): void =>
  expect(() => settings({ app, ...options })).toThrow(
    expect.objectContaining({ code: 'PLANK_ERR_SERVER_PREFORK_OPTION', message: expect.stringMatching(text) }),
  );

describe('the pool options', () => {
  it('leave the pool fixed when none is given, as it always was', () => {
    expect(settings({ app, workers: 3 })).toMatchObject({ workers: 3, pool: undefined, backlog: undefined });
    expect(settings({ app, workers: 3, maxPoolSize: 3 }).pool).toBeUndefined();
  });

  it('make the pool adaptive between workers and maxPoolSize, with Apache and Passenger defaults', () => {
    expect(settings({ app, workers: 2, maxPoolSize: 8 }).pool).toEqual({
      floor: 2,
      max: 8,
      minSpare: 1,
      maxSpare: 2,
      idleTime: 300_000,
      maxSpawnRate: 32,
    });
    expect(settings({ app, workers: 1, maxPoolSize: 4, minSpare: 2, poolIdleTime: 5000 }).pool).toMatchObject({
      minSpare: 2,
      maxSpare: 3,
      idleTime: 5000,
    });
  });

  it('are read from the command line by their Apache- and Passenger-like names, idle time in seconds', () => {
    expect(
      fromCommandLine({
        'max-pool-size': '16',
        'min-spare': '1.5',
        'max-spare': '4',
        'pool-idle-time': '60',
        'max-spawn-rate': '8',
        backlog: '1024',
      }),
    ).toEqual({ maxPoolSize: 16, minSpare: 1.5, maxSpare: 4, poolIdleTime: 60_000, maxSpawnRate: 8, backlog: 1024 });
  });

  it('reject values that cannot work, naming the option and value', () => {
    bad({ workers: 4, maxPoolSize: 2 }, /option "maxPoolSize" must be at least workers \(4\), got 2/);
    bad(
      { workers: 2, minSpare: 1 },
      /option "minSpare" needs maxPoolSize above workers \(2\): the pool is fixed, got 1/,
    );
    bad(
      { workers: 2, maxPoolSize: 4, minSpare: 2, maxSpare: 2.5 },
      /"maxSpare" must be at least minSpare \+ 1 \(3\), got 2.5/,
    );
    bad({ maxSpawnRate: 0 }, /"maxSpawnRate" must be an integer >= 1, got 0/);
    bad({ backlog: 0 }, /"backlog" must be an integer >= 1 and <= 65535, got 0|"backlog" .* got 0/);
    expect(() => fromCommandLine({ 'max-pool-size': 'lots' })).toThrow(
      /option "max-pool-size" must be an integer >= 1, got "lots"/,
    );
    expect(() => fromCommandLine({ 'min-spares': '1' })).toThrow(/did you mean "min-spare"/);
  });
});

let proc: Proc | undefined;
afterEach(async () => {
  await reap(proc);
  proc = undefined;
});

describe('--backlog', () => {
  it.runIf(which('ss'))(
    'sets the listen queue the kernel keeps for the shared socket',
    async () => {
      const master = await startMaster(['--max-workers=1', '--backlog=37', fixtureApp]);
      proc = master;
      // ss shows a listening socket's backlog in its Send-Q column.
      const queue = await until(() => {
        const line = execFileSync('ss', ['-Hltn', `sport = :${master.port}`], { encoding: 'utf8' }).trim();
        return line === '' ? undefined : Number(line.split(/\s+/)[2]);
      }, 'the listening socket');
      expect(queue).toBe(37);
    },
    20_000,
  );
});
