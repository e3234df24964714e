import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, which } from './index.js';

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
