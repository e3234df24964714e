import type { Env } from '@plank/core';

// `compat: 'plack'`: the env rewrite of Plack::Middleware::ReverseProxy 0.16, rule for rule,
// including its quirks (any last X-Forwarded-For token becomes REMOTE_ADDR unchecked,
// SERVER_PORT is forced from the Host header even when no proxy header is present). Perl's
// truthiness and numeric comparison are spelled out below so the port stays faithful.

const LAST_TOKEN = /([^,\s]+)$/;
const HOST_PORT = /^(.+):(\d+)$/;

function truthy(v: unknown): v is string {
  return typeof v === 'string' && v !== '' && v !== '0';
}

/** Perl's `==` on a string: the leading decimal number, else 0. */
function num(v: string): number {
  const n = parseFloat(v);
  return Number.isNaN(n) ? 0 : n;
}

/** Returns the client address taken from X-Forwarded-For, or undefined when it was not used. */
export function plackRewrite(env: Env): string | undefined {
  const e = env as Env & { HTTPS?: string };
  if (truthy(e.HTTP_X_FORWARDED_HTTPS)) e.HTTPS = e.HTTP_X_FORWARDED_HTTPS;
  if (truthy(e.HTTP_X_FORWARDED_PROTO) && e.HTTP_X_FORWARDED_PROTO === 'https') e.HTTPS = 'ON';
  if (truthy(e.HTTPS) && e.HTTPS.toUpperCase() === 'ON') e['psgi.url_scheme'] = 'https';
  const defaultPort = e['psgi.url_scheme'] === 'https' ? '443' : '80';

  let client: string | undefined;
  if (truthy(e.HTTP_X_FORWARDED_FOR)) {
    // Where Perl would store undef (no token at the end, e.g. "1.2.3.4, "), Plank stores ''.
    client = LAST_TOKEN.exec(e.HTTP_X_FORWARDED_FOR)?.[1] ?? '';
  }

  if (truthy(e.HTTP_X_FORWARDED_HOST)) {
    if (truthy(e.HTTP_X_FORWARDED_SERVER)) {
      const server = LAST_TOKEN.exec(e.HTTP_X_FORWARDED_SERVER)?.[1] ?? '';
      const m = HOST_PORT.exec(server);
      if (m) {
        e.SERVER_PORT = m[2] as string;
        if (num(e.SERVER_PORT) === 443) e['psgi.url_scheme'] = 'https';
      }
      e.HTTP_HOST = server;
    }
    let host = LAST_TOKEN.exec(e.HTTP_X_FORWARDED_HOST)?.[1] ?? '';
    const m = HOST_PORT.exec(host);
    if (m) {
      e.SERVER_PORT = m[2] as string;
    } else if (truthy(e.HTTP_X_FORWARDED_PORT)) {
      e.SERVER_PORT = e.HTTP_X_FORWARDED_PORT;
      host += `:${e.SERVER_PORT}`;
      if (num(e.SERVER_PORT) === 443) e['psgi.url_scheme'] = 'https';
    } else {
      e.SERVER_PORT = defaultPort;
    }
    e.HTTP_HOST = host;
  } else if (truthy(e.HTTP_HOST)) {
    const m = HOST_PORT.exec(e.HTTP_HOST);
    if (m) e.SERVER_PORT = m[2] as string;
    else e.SERVER_PORT = defaultPort;
  }
  return client;
}
