import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  bodyChunks,
  check,
  checkOptions,
  PlankError,
  Request,
  responseCb,
  serializeCookie,
  type AppResult,
  type Body,
  type Middleware,
} from '@plank/core';
import { memoryStore, type SessionData, type SessionStore } from './stores.js';

/** Plack's `psgix.session.options`: what the app may ask of the session for this response. */
export type SessionOptionsEnv = {
  /** The session's id (read it; to change it, set `change_id`). */
  id: string;
  /** Give the session a new id, keeping its data (do it at login: session fixation). */
  change_id?: boolean;
  /** End the session: its data is removed and the cookie cleared (logout). */
  expire?: boolean;
  /** Do not save this response's changes. */
  no_store?: boolean;
  /** Save when the body has been sent, not when the head is: for streaming apps that change the session while writing. */
  late_store?: boolean;
};

export type SessionOptions = {
  /**
   * Keys for signing the cookie, each at least 32 characters. The first signs; all verify,
   * so a new key goes first and an old one stays until the cookies it signed have expired.
   */
  secrets: readonly string[];
  /** Where sessions are kept. @default memoryStore() */
  store?: SessionStore;
  /** The cookie's name. @default 'plank_session' */
  cookieName?: string;
  /** Seconds a session lives without a request; also the cookie's Max-Age when `persistent`. @default 86400 */
  ttl?: number;
  /** Send Max-Age, so the cookie outlives the browser session. @default false */
  persistent?: boolean;
  /** @default '/' */
  path?: string;
  /** @default none (this host only) */
  domain?: string;
  /** `true`, `false`, or `'auto'`: Secure on https requests (as ReverseProxy reports the scheme). @default 'auto' */
  secure?: boolean | 'auto';
  /** @default 'Lax' */
  sameSite?: 'Strict' | 'Lax' | 'None';
};

const CODE = 'PLANK_ERR_SESSION_OPTION';
// The only body filter here (late_store) passes every byte through unchanged.
const KEEP_LENGTH = { keepContentLength: true };
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Sessions, as Plack::Middleware::Session: `env['psgix.session']` is this visitor's data (an
 * object to read and change), `env['psgix.session.options']` lets the app change the id
 * (`change_id`, at login), end the session (`expire`) or skip saving (`no_store`). The
 * cookie holds only the id and its HMAC signature; the data stays in the store. A cookie
 * whose signature fails, or whose id the store does not know, starts a new session with a
 * new id: an id is never taken from a client (session fixation). A session that is new and
 * still empty when the response comes is not saved and sets no cookie. By name:
 * `enable('Session', { secrets: [...] })`.
 *
 * @example
 * ```ts
 * import { session } from '@plank/middleware-session';
 * export default session({ secrets: [process.env.SESSION_SECRET ?? 'change-me-to-32-chars-or-more!!!!'] })((env) => {
 *   const s = env['psgix.session'] as { visits?: number };
 *   s.visits = (s.visits ?? 0) + 1;
 *   return [200, ['Content-Type', 'text/plain'], [`visit ${s.visits}`]];
 * });
 * ```
 */
export function session(options: SessionOptions): Middleware {
  const o = checkOptions('Session', CODE, options, {
    secrets: check.custom('must be a non-empty list of strings of at least 32 characters', (v) =>
      Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s.length >= 32)
        ? (v as string[])
        : undefined,
    ),
    store: check.custom('must be a store with get, set and destroy methods', (v) =>
      ['get', 'set', 'destroy'].every((m) => typeof (v as Record<string, unknown> | null)?.[m] === 'function')
        ? (v as SessionStore)
        : undefined,
    ),
    cookieName: check.custom('must be a cookie name (a token)', (v) =>
      typeof v === 'string' && TOKEN.test(v) ? v : undefined,
    ),
    ttl: check.integer({ min: 1 }),
    persistent: check.boolean,
    path: check.custom('must start with "/" and hold no ";" or control characters', (v) =>
      typeof v === 'string' && v.startsWith('/') && /^[\x20-\x3a\x3c-\x7e]*$/.test(v) ? v : undefined,
    ),
    domain: check.custom('must be a host name', (v) =>
      typeof v === 'string' && /^\.?[A-Za-z0-9.-]+$/.test(v) ? v : undefined,
    ),
    secure: check.either(check.boolean, check.oneOf('auto')),
    sameSite: check.oneOf('Strict', 'Lax', 'None'),
  });
  if (o.secrets === undefined)
    throw new PlankError(CODE, 'Session: option "secrets" is required (a list of keys of at least 32 characters)');
  if (o.sameSite === 'None' && o.secure === false)
    throw new PlankError(
      CODE,
      'Session: option "sameSite" "None" needs a Secure cookie; browsers drop it otherwise (leave "secure" as "auto" or true)',
    );
  const secrets = o.secrets;
  const store = o.store ?? memoryStore();
  const name = o.cookieName ?? 'plank_session';
  const ttl = o.ttl ?? 86_400;
  const cookie = { path: o.path ?? '/', domain: o.domain, httpOnly: true, sameSite: o.sameSite ?? 'Lax' } as const;
  const secure = o.secure ?? 'auto';

  const sign = (id: string, secret: string): string => createHmac('sha256', secret).update(id).digest('base64url');
  // The id, and whether it was signed with an old key (then it is signed again with the current one).
  const verify = (value: string | undefined): { id: string; stale: boolean } | undefined => {
    const dot = value?.indexOf('.') ?? -1;
    if (value === undefined || dot < 0) return undefined;
    const id = value.slice(0, dot);
    const mac = Buffer.from(value.slice(dot + 1));
    for (const [i, secret] of secrets.entries()) {
      const want = Buffer.from(sign(id, secret));
      if (want.length === mac.length && timingSafeEqual(want, mac)) return { id, stale: i > 0 };
    }
    return undefined;
  };

  return (app) =>
    function sessionApp(env) {
      const sent = verify(new Request(env).cookies[name]);
      const loaded = sent === undefined ? undefined : store.get(sent.id);
      return settle(loaded, (data) => {
        const known = sent !== undefined && data !== undefined;
        const original = known ? sent.id : undefined;
        const state: SessionData = known ? data : {};
        const opts: SessionOptionsEnv = { id: original ?? newId() };
        env['psgix.session'] = state;
        env['psgix.session.options'] = opts;
        return responseCb(
          app(env),
          (res) => {
            const secureFlag = secure === 'auto' ? env['psgi.url_scheme'] === 'https' : secure;
            const setCookie = (value: string, maxAge?: number): void => {
              res[1].push('Set-Cookie', serializeCookie(name, value, { ...cookie, secure: secureFlag, maxAge }));
            };
            let commit: (() => void | Promise<void>) | undefined;
            if (opts.expire) {
              if (original !== undefined) commit = () => store.destroy(original);
              if (sent !== undefined) setCookie('', 0);
            } else if (!opts.no_store && (original !== undefined || Object.keys(state).length > 0 || opts.late_store)) {
              let id = opts.id;
              // Fixation: the id is ours, never one the app or a client picked.
              if (opts.change_id || id !== (original ?? id)) id = newId();
              const stored = id;
              commit = () =>
                chain(original !== undefined && stored !== original ? store.destroy(original) : undefined, () =>
                  store.set(stored, state, ttl),
                );
              if (id !== original || sent?.stale || o.persistent)
                setCookie(`${id}.${sign(id, secrets[0] as string)}`, o.persistent ? ttl : undefined);
            }
            if (commit === undefined) return;
            const report = (err: unknown): void => {
              env['psgi.errors'].write(`Session: saving failed: ${(err as Error).stack ?? String(err)}\n`);
            };
            // Plack's late_store: save what the app changed while streaming, once the body is done.
            if (opts.late_store) {
              const save = commit;
              return function saveAtEnd(chunk) {
                if (chunk === null) {
                  try {
                    const done = save();
                    if (done instanceof Promise) done.catch(report);
                  } catch (err) {
                    report(err);
                  }
                }
                return chunk;
              };
            }
            const work = commit();
            if (!(work instanceof Promise)) return;
            work.catch(report);
            // An async store's write finishes before the body is sent, so the client's next
            // request finds it; a streaming response's head is already out, so there it is only logged.
            if (res[2] !== undefined) res[2] = afterWrite(work, res[2]);
          },
          KEEP_LENGTH,
        );
      });
    };
}

function newId(): string {
  return randomBytes(32).toString('base64url');
}

function settle<T>(value: T | Promise<T>, f: (v: T) => AppResult | Promise<AppResult>): AppResult | Promise<AppResult> {
  return value instanceof Promise ? value.then(f) : f(value);
}

function chain(first: void | Promise<void>, next: () => void | Promise<void>): void | Promise<void> {
  return first instanceof Promise ? first.then(next) : next();
}

async function* afterWrite(write: Promise<void>, body: Body): AsyncGenerator<string | Uint8Array> {
  await write;
  yield* bodyChunks(body);
}

/** The name `enable('Session')` resolves to. */
export const plankMiddleware: { Session: typeof session } = { Session: session };
