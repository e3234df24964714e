import { createHash, timingSafeEqual } from 'node:crypto';
import { check, checkOptions, PlankError, type AppResult, type Env, type Middleware, type Response } from '@plank/core';

/** Decides whether a user name and password are good; may be async (a database, LDAP). */
export type Authenticator = (user: string, password: string, env: Env) => boolean | Promise<boolean>;

export type AuthBasicOptions = {
  /**
   * Checks the credentials: a function `(user, password, env) => boolean | Promise<boolean>`,
   * or an object with such an `authenticate` method (as Plack takes Authen::Simple backends).
   * Give this or `users`.
   */
  authenticator?: Authenticator | { authenticate: Authenticator };
  /** A fixed table of user names and passwords, compared in constant time. Give this or `authenticator`. */
  users?: Readonly<Record<string, string>>;
  /** The realm the browser shows in its login dialog. @default 'restricted area' */
  realm?: string;
};

const CODE = 'PLANK_ERR_AUTH_BASIC_OPTION';
const BODY = 'Authorization required';
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * HTTP Basic authentication (RFC 7617), as Plack::Middleware::Auth::Basic: a request
 * without good credentials gets `401` with `WWW-Authenticate: Basic realm="..."`; a good one
 * goes on with `REMOTE_USER` set to the user name (so AccessLog's `%u` logs it). User name
 * and password are decoded as UTF-8 (`charset="UTF-8"` is announced); credentials that are
 * not valid base64, not valid UTF-8 or lack the `:` are refused like wrong ones.
 * By name: `enable('Auth::Basic', { authenticator })`.
 *
 * @example
 * ```ts
 * import { authBasic } from '@plank/middleware-auth-basic';
 * export default authBasic({ realm: 'admin', users: { admin: 's3cr3t' } })(
 *   () => [200, ['Content-Type', 'text/plain'], ['Hello, admin']],
 * );
 * ```
 */
export function authBasic(options: AuthBasicOptions): Middleware {
  const o = checkOptions('Auth::Basic', CODE, options, {
    authenticator: check.custom('must be a function or an object with an authenticate() method', (v) =>
      typeof v === 'function' || typeof (v as { authenticate?: unknown } | null)?.authenticate === 'function'
        ? (v as Authenticator | { authenticate: Authenticator })
        : undefined,
    ),
    users: check.custom('must be an object of user names to password strings', (v) =>
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      Object.entries(v).every(([u, p]) => !u.includes(':') && typeof p === 'string')
        ? (v as Record<string, string>)
        : undefined,
    ),
    // A quoted-string may not hold control characters; quotes and backslashes are escaped below.
    realm: check.custom('must be a string without control characters', (v) =>
      typeof v === 'string' && !/[\x00-\x1f\x7f]/.test(v) ? v : undefined,
    ),
  });
  if ((o.authenticator === undefined) === (o.users === undefined))
    throw new PlankError(CODE, 'Auth::Basic: give exactly one of the options "authenticator" and "users"');
  const authenticate: Authenticator =
    o.users !== undefined
      ? usersTable(o.users)
      : typeof o.authenticator === 'function'
        ? (o.authenticator as Authenticator)
        : (user, password, env) =>
            (o.authenticator as { authenticate: Authenticator }).authenticate(user, password, env);
  const realm = (o.realm ?? 'restricted area').replace(/["\\]/g, '\\$&');
  const challenge = `Basic realm="${realm}", charset="UTF-8"`;
  const unauthorized = (): Response => [
    401,
    ['Content-Type', 'text/plain', 'Content-Length', String(BODY.length), 'WWW-Authenticate', challenge],
    [BODY],
  ];

  return (app) =>
    function authBasicApp(env) {
      const credentials = parse(env.HTTP_AUTHORIZATION);
      if (credentials === undefined) return unauthorized();
      const [user, password, rawUser] = credentials;
      const pass = (ok: boolean): AppResult | Promise<AppResult> => {
        if (ok !== true) return unauthorized();
        // Env strings are byte strings: the user name as sent, one character per byte.
        // REMOTE_USER is CGI's key, not yet in core's Env type (AccessLog reads it the same way).
        (env as Env & { REMOTE_USER?: string }).REMOTE_USER = rawUser;
        return app(env);
      };
      const verdict = authenticate(user, password, env);
      return verdict instanceof Promise ? verdict.then(pass) : pass(verdict);
    };
}

/** [user, password, user as a byte string], or undefined for anything that is not Basic credentials. */
function parse(header: string | undefined): [string, string, string] | undefined {
  // RFC 7617 §2: the scheme is case-insensitive; token68 is base64 here.
  const match = header === undefined ? null : /^basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (!match) return undefined;
  const bytes = Buffer.from(match[1] as string, 'base64');
  const colon = bytes.indexOf(0x3a);
  if (colon < 0) return undefined;
  try {
    return [
      decoder.decode(bytes.subarray(0, colon)),
      decoder.decode(bytes.subarray(colon + 1)),
      bytes.subarray(0, colon).toString('latin1'),
    ];
  } catch {
    return undefined;
  }
}

/**
 * A constant-time check against a fixed table: both sides are hashed to equal-length
 * digests before `timingSafeEqual`, and an unknown user is compared against a dummy
 * digest, so the time taken tells neither how much of a password matched nor whether the
 * user exists.
 */
function usersTable(users: Readonly<Record<string, string>>): Authenticator {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  const table = new Map(Object.entries(users).map(([user, password]) => [user, digest(password)]));
  const dummy = digest('\0not a password\0');
  return function checkUsersTable(user, password) {
    const want = table.get(user);
    const same = timingSafeEqual(want ?? dummy, digest(password));
    return want !== undefined && same;
  };
}

/** The name `enable('Auth::Basic')` resolves to. */
export const plankMiddleware: { 'Auth::Basic': typeof authBasic } = { 'Auth::Basic': authBasic };
