// The adaptive pool's options: their checks for prefork() and the command line, and the one
// place that turns them into a PoolPolicy (or none: without them the pool is today's fixed one).
import { type Check, check, optionError } from '@plank/core';
import { msCheck } from '@plank/server-node';
import type { PoolPolicy } from './pool.js';

/** The pool options of `prefork()` (see {@link PreforkOptions}). */
export type PoolOptions = {
  /**
   * The most workers that accept connections; above `workers` the pool is adaptive, between
   * `workers` and this (Apache's MaxRequestWorkers/ServerLimit, Passenger's PassengerMaxPoolSize).
   * @default workers (a fixed pool)
   */
  maxPoolSize?: number;
  /** Spawn while spare capacity, in workers, is below this (Apache's MinSpareServers). @default 1 */
  minSpare?: number;
  /** Retire while spare capacity stays above this (Apache's MaxSpareServers); at least `minSpare + 1`. @default minSpare + 1 */
  maxSpare?: number;
  /** Spare capacity must stay above `maxSpare` this long, ms, before a worker retires (PassengerPoolIdleTime). @default 300000 */
  poolIdleTime?: number;
  /** The spawn ramp's cap, workers per second (Apache's MAX_SPAWN_RATE). @default 32 */
  maxSpawnRate?: number;
  /** The listen queue's length, where connections wait when every worker is busy (Apache's ListenBacklog). @default 511 */
  backlog?: number;
};

const spare: Check<number> = check.number({ min: 0 });

export const poolSchema: Record<keyof PoolOptions, Check<number>> = {
  maxPoolSize: check.integer({ min: 1 }),
  minSpare: spare,
  maxSpare: spare,
  poolIdleTime: msCheck,
  maxSpawnRate: check.integer({ min: 1 }),
  backlog: check.integer({ min: 1, max: 65535 }),
};

// Command-line names follow the Passenger and Apache names they map (README: "The adaptive pool").
type PoolCliName = 'max-pool-size' | 'min-spare' | 'max-spare' | 'pool-idle-time' | 'max-spawn-rate' | 'backlog';
export const poolCliSchema: Record<PoolCliName, Check<number>> = {
  'max-pool-size': check.integer({ min: 1 }),
  'min-spare': spare,
  'max-spare': spare,
  'pool-idle-time': check.custom('must be a number of seconds from 0 to 2147483', (v) => {
    const n = check.seconds.parse(v);
    return n !== undefined && n <= 2_147_483 ? Math.round(n * 1000) : undefined;
  }),
  'max-spawn-rate': check.integer({ min: 1 }),
  backlog: check.integer({ min: 1, max: 65535 }),
};

export const poolCliTarget: Record<PoolCliName, keyof PoolOptions> = {
  'max-pool-size': 'maxPoolSize',
  'min-spare': 'minSpare',
  'max-spare': 'maxSpare',
  'pool-idle-time': 'poolIdleTime',
  'max-spawn-rate': 'maxSpawnRate',
  backlog: 'backlog',
};

/**
 * The policy for these options, or undefined for a fixed pool. Options that only an adaptive
 * pool reads are errors without `maxPoolSize` above `workers`: they would silently do nothing.
 */
export function poolPolicy(code: string, where: string, o: PoolOptions, workers: number): PoolPolicy | undefined {
  const max = o.maxPoolSize ?? workers;
  if (max < workers) throw optionError(code, where, 'maxPoolSize', max, `must be at least workers (${workers})`);
  if (max === workers) {
    for (const name of ['minSpare', 'maxSpare', 'poolIdleTime', 'maxSpawnRate'] as const)
      if (o[name] !== undefined)
        throw optionError(
          code,
          where,
          name,
          o[name],
          `needs maxPoolSize above workers (${workers}): the pool is fixed`,
        );
    return undefined;
  }
  const minSpare = o.minSpare ?? 1;
  const maxSpare = o.maxSpare ?? minSpare + 1;
  // Retiring one worker lowers spare capacity by at most one: with less room between the two
  // bounds, the pool would retire a worker and spawn it again the next second.
  if (maxSpare < minSpare + 1)
    throw optionError(code, where, 'maxSpare', maxSpare, `must be at least minSpare + 1 (${minSpare + 1})`);
  return {
    floor: workers,
    max,
    minSpare,
    maxSpare,
    idleTime: o.poolIdleTime ?? 300_000,
    maxSpawnRate: o.maxSpawnRate ?? 32,
  };
}
