import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isAlive } from './index.js';

describe('isAlive', () => {
  it('is true for a running process, even one of another user, and false once it has exited', () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(1)).toBe(true); // init: EPERM for a non-root user, still alive
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    expect(isAlive(Number(gone.stdout))).toBe(false);
  });
});
