import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { which } from '@plank/test';
import { describe, expect, test } from 'vitest';

const lab = fileURLToPath(new URL('./lab.mjs', import.meta.url));
const needs = ['ip', 'nginx', 'haproxy', 'prometheus', 'promtool', 'curl'];
const root = process.getuid?.() === 0;

// One run of the whole lab (about a minute on an idle machine; bounded by --seconds).
// Needs root for network namespaces and the programs above; CI runs it once, not per Node version.
describe.skipIf(!root || needs.some((p) => !which(p)))('the many-hosts lab', () => {
  test('rolling restarts lose no request, kill -9 loses at most those in flight, and Prometheus counts what was sent', () => {
    const out = execFileSync(process.execPath, [lab, '--seconds=170', '--json'], {
      timeout: 180_000,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const r = JSON.parse(out.toString().trim().split('\n').pop() as string);
    expect(r.phases['rolling-term']).toMatchObject({ failed: 0, errors: {} });
    expect(r.phases['rolling-hup']).toMatchObject({ failed: 0, errors: {} });
    // After the HUP round every host serves the code written before its HUP.
    expect(r.hupVersions).toEqual(['2']);
    expect(r.phases['rolling-term'].sent).toBeGreaterThan(0);
    // At most the generator's concurrency (8) requests were in flight on the killed host.
    expect(r.phases['kill-9'].failed).toBeLessThanOrEqual(8);
    for (const h of Object.values(r.perHost) as Array<{ requests: number; fromClient: number }>) {
      expect(h.requests).toBeGreaterThan(0);
      expect(h.fromClient).toBe(h.requests);
    }
    expect(r.statusShowsClient).toBe(true);
    expect(Math.abs(r.prometheus.total - r.prometheus.generator)).toBeLessThanOrEqual(8 + 3);
  }, 200_000);
});
