import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from '@plank/test';
import { describe, expect, test } from 'vitest';

const examples = fileURLToPath(new URL('../../docs/examples/', import.meta.url));

describe.skipIf(!which('systemd-analyze'))('the example systemd units in docs/examples', () => {
  test('plank.socket and plank.service pass systemd-analyze verify with no complaint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plank-units-'));
    try {
      // verify reads the units' neighbours (plank.socket for Requires=) from the same directory.
      for (const unit of ['plank.socket', 'plank.service']) cpSync(join(examples, unit), join(dir, unit));
      const r = spawnSync('systemd-analyze', ['verify', join(dir, 'plank.socket'), join(dir, 'plank.service')], {
        encoding: 'utf8',
      });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
