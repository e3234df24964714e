import type { Env } from '@plank/core';

/** One allowed origin: exact (`https://app.example.com`), with `*` inside a host (`https://*.example.com`), or a RegExp. */
export type OriginPattern = string | RegExp;

/** Decides per request; may be async (a database of tenants). */
export type OriginFunction = (origin: string, env: Env) => boolean | Promise<boolean>;

/** `true`: any origin; otherwise a test of one origin. */
export type OriginTest = true | ((origin: string, env: Env) => boolean | Promise<boolean>);

/**
 * Compiles `origins` once. A `*` inside a pattern matches host characters only
 * (`[a-z0-9.-]*`, as Plack's CrossOrigin), so `https://*.example.com` can never match
 * `https://example.com.evil.test/` nor cross into a port or path.
 */
export function compileOrigins(origins: '*' | OriginPattern | readonly OriginPattern[] | OriginFunction): OriginTest {
  if (origins === '*') return true;
  if (typeof origins === 'function') return origins;
  const list = Array.isArray(origins) ? origins : [origins as OriginPattern];
  if (list.includes('*')) return true;
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const entry of list) {
    if (entry instanceof RegExp) patterns.push(entry);
    else if (entry.includes('*'))
      patterns.push(new RegExp(`^${entry.split('*').map(escapeRegExp).join('[a-z0-9.-]*')}$`));
    else exact.add(entry);
  }
  return (origin) => exact.has(origin) || patterns.some((re) => re.test(origin));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
