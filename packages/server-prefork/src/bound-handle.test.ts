import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { type BoundHandle, createServerHandle } from '@plank/server-node';

// server-node keeps the Node-private access (net._createServerHandle); these are the two forms
// the prefork master relies on, checked against the running Node.
describe('createServerHandle as the prefork master uses it', () => {
  it('binds a TCP socket without listening: a descriptor, the bound address, and nothing accepts', async () => {
    const create = createServerHandle;
    expect(create).toBeTypeOf('function');
    const handle = create?.('127.0.0.1', 0, 4) as BoundHandle;
    expect(handle).toBeTypeOf('object');
    try {
      expect(handle.fd).toBeGreaterThan(2);
      const out: { address?: string; port?: number } = {};
      expect(handle.getsockname(out)).toBe(0);
      expect(out.address).toBe('127.0.0.1');
      expect(out.port).toBeGreaterThan(0);
      // Bound but not listening: a connect is refused.
      const refused = await new Promise<string | undefined>((resolve) => {
        const c = connect(out.port as number, '127.0.0.1');
        c.on('connect', () => resolve((c.destroy(), 'connected')));
        c.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
      });
      expect(refused).toBe('ECONNREFUSED');
    } finally {
      handle.close();
    }
  });

  it('wraps an inherited descriptor (null, 0, 4, fd) and reads the address it is bound to', () => {
    const create = createServerHandle;
    const handle = create?.('127.0.0.1', 0, 4) as BoundHandle;
    const bound: { port?: number } = {};
    handle.getsockname(bound);
    try {
      // As a master under Server::Starter does, in a process that inherited it as descriptor 3.
      const script = `
        const create = require('node:net')._createServerHandle;
        const h = create(null, 0, 4, 3);
        const out = {};
        process.stdout.write(JSON.stringify(typeof h === 'number' ? { errno: h } : (h.getsockname(out), out)));
        h.close();`;
      const r = spawnSync(process.execPath, ['-e', script], {
        stdio: ['ignore', 'pipe', 'pipe', handle.fd],
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toMatchObject({ address: '127.0.0.1', port: bound.port });
    } finally {
      handle.close();
    }
  });
});
