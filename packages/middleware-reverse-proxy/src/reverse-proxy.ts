import { check, checkOptions, optionError, type App, type Env, type Middleware } from '@plank/core';
import { plackRewrite } from './plack.js';
import { PEER_ADDR, PEER_PORT, rewriteForwarded, rewriteXForwarded } from './rewrite.js';
import { compileTrusted, OPTION_ERROR, type TrustFunction, type TrustPreset } from './trust.js';

/** One entry of `trusted`: an address (`10.0.0.1`, `::1`), a CIDR range (`10.0.0.0/8`, `fd00::/8`) or a preset. */
export type TrustedEntry = TrustPreset | (string & {});

export type ReverseProxyOptions = {
  /**
   * The proxies whose headers are believed. The socket peer must match, or the request is
   * left exactly as it came; forwarded entries that match are skipped, right to left, to
   * find the client. IP addresses, CIDR ranges (IPv4 and IPv6), the presets `loopback`
   * (127.0.0.0/8, ::1), `linklocal` (169.254.0.0/16, fe80::/10) and `uniquelocal`
   * (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7), in a list or one comma-separated
   * string; or a function `(addr, hopIndex) => boolean` where hop 0 is the socket peer and
   * hop 1 the rightmost forwarded entry.
   * @default ['loopback']
   */
  trusted?: TrustedEntry | readonly TrustedEntry[] | TrustFunction;
  /**
   * Which headers to read: `x-forwarded` (X-Forwarded-For, -Proto, -Host, -Port, -HTTPS,
   * -Ssl), `forwarded` (RFC 7239), or `both` (Forwarded when the request has one, else the
   * X-Forwarded set). Whatever you choose, every trusted proxy must set or remove those headers.
   * @default 'x-forwarded'
   */
  headers?: 'x-forwarded' | 'forwarded' | 'both';
  /**
   * `'plack'` rewrites env exactly as Plack::Middleware::ReverseProxy does (last
   * X-Forwarded-For token unchecked, X-Forwarded-Server, SERVER_PORT forced from the Host
   * header), for apps ported from Perl. The trust check on the socket peer still applies.
   * @default undefined (Plank's rules)
   */
  compat?: 'plack';
};

const WHERE = 'reverseProxy()';
const SCHEMA = {
  // The entries are checked one by one when they are compiled, so each error names its entry.
  trusted: check.custom(
    'must be a list of addresses, ranges and presets, one comma-separated string of them, or a function (addr, hopIndex) => boolean',
    (v) => (typeof v === 'function' || typeof v === 'string' || Array.isArray(v) ? v : undefined),
  ),
  headers: check.oneOf('x-forwarded', 'forwarded', 'both'),
  compat: check.oneOf('plack'),
};

/**
 * Lets an app that runs *behind* a reverse proxy see the client's address, host, port
 * and scheme, taken from the proxy's headers, but only when the request really came from a
 * proxy you trust. It does not forward requests. The socket peer's own address stays in
 * `env['plank.reverse_proxy.peer_addr']` (and its port in `...peer_port`) once REMOTE_ADDR
 * is rewritten.
 *
 * @example
 * ```ts
 * import { reverseProxy } from '@plank/middleware-reverse-proxy';
 * import { builder } from '@plank/core';
 * export default builder(({ enable }) => {
 *   enable(reverseProxy({ trusted: ['loopback', '10.0.0.0/8'] }));
 *   return (env) => [200, ['Content-Type', 'text/plain'], [`Hello, ${env.REMOTE_ADDR}`]];
 * });
 * ```
 */
export function reverseProxy(options: ReverseProxyOptions = {}): Middleware {
  const o = checkOptions(WHERE, OPTION_ERROR, options, SCHEMA);
  const headers = o.headers ?? 'x-forwarded';
  const compat = o.compat;
  if (compat === 'plack' && headers !== 'x-forwarded') {
    throw optionError(
      OPTION_ERROR,
      WHERE,
      'headers',
      headers,
      'must be "x-forwarded" (or left out) with compat: "plack", which reads only X-Forwarded-*',
    );
  }
  const trust = compileTrusted(o.trusted ?? ['loopback']);
  const hop = trust.hop;

  const rewrite =
    compat === 'plack'
      ? (env: Env): void => {
          const client = plackRewrite(env);
          if (client !== undefined) {
            if (env[PEER_ADDR] === undefined) {
              env[PEER_ADDR] = env.REMOTE_ADDR;
              env[PEER_PORT] = env.REMOTE_PORT;
            }
            env.REMOTE_ADDR = client;
          }
        }
      : headers === 'x-forwarded'
        ? (env: Env): void => rewriteXForwarded(env, hop)
        : headers === 'forwarded'
          ? (env: Env): void => void rewriteForwarded(env, hop)
          : (env: Env): void => {
              if (!rewriteForwarded(env, hop)) rewriteXForwarded(env, hop);
            };

  return function reverseProxyMiddleware(app: App): App {
    return function reverseProxy(env) {
      if (trust.peer(env.REMOTE_ADDR)) rewrite(env);
      return app(env);
    };
  };
}

/** Lets `enable('ReverseProxy', options)` find the factory by name. */
export const plankMiddleware: { ReverseProxy: typeof reverseProxy } = { ReverseProxy: reverseProxy };
