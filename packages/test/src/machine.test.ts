import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, until, which } from './index.js';

describe('which', () => {
  it('gives the path of an installed program and undefined for one that is not', () => {
    expect(which('sh')).toMatch(/^\/.*\/sh$/);
    expect(which('no-such-program-plank')).toBeUndefined();
  });

  it('never runs the name as shell code', () => {
    expect(which('sh; echo injected')).toBeUndefined();
    expect(which('$(echo sh)')).toBeUndefined();
  });
});

describe('freePort', () => {
  it('gives a port on 127.0.0.1 that a server can then listen on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    expect((server.address() as { port: number }).port).toBe(port);
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('until', () => {
  it('resolves with the first value that is neither undefined nor false, awaiting async checks', async () => {
    let calls = 0;
    expect(
      await until(() => (++calls === 3 ? 'third' : calls === 1 ? undefined : false), 'the third call', { interval: 1 }),
    ).toBe('third');
    expect(calls).toBe(3);
    expect(await until(async () => 0, 'a zero')).toBe(0);
  });

  it('rejects naming what it waited for once the timeout has passed', async () => {
    await expect(until(() => false, 'the impossible', { timeout: 30, interval: 5 })).rejects.toThrow(
      'timed out waiting for the impossible',
    );
  });
});
