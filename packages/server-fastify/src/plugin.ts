import type { IncomingMessage, ServerResponse } from 'node:http';
import { check, checkOptions, optionError, PlankError, urlMap } from '@plank/core';
import type { App, ErrorStream } from '@plank/core';
import { createHandler, httpServerChecks } from '@plank/server-node';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';

/** Options of {@link plankPlugin}. */
export type PlankPluginOptions = {
  /**
   * Where the app is mounted: `'/legacy'` serves `/legacy` and everything below it, with
   * `SCRIPT_NAME = '/legacy'` and `PATH_INFO` the rest. Appended to the prefix fastify's
   * `register(plugin, { prefix })` gives, if any. `''` mounts at the root. A trailing slash
   * (`'/site/'`) mounts a directory, as core's `urlMap` does: `/site` redirects to `/site/`.
   * @default ''
   */
  prefix?: string;
  /** `psgi.errors`: where app errors and their stacks go. @default process.stderr */
  errors?: ErrorStream;
  /** `psgi.multiprocess`: set when several processes serve the same app. @default false */
  multiprocess?: boolean;
  /** HTTP methods routed to the app. @default every method the fastify instance supports */
  methods?: string[];
};

type Forward = (request: FastifyRequest, reply: FastifyReply) => void;

const where = 'plankPlugin()';
const code = 'PLANK_ERR_SERVER_FASTIFY_OPTION';
// fastify reads these as route syntax (`:param`, `*`, regex groups), so a prefix holding
// them would route something else than it says; `?`/`#` can never be part of a path.
const routeSyntax = /[:*()?#\s]/;

// One trailing slash is allowed where `directory` says the plugin's own prefix ends with one.
function validPrefix(prefix: string, directory = true): boolean {
  const bare = directory && prefix.length > 1 ? prefix.replace(/\/$/, '') : prefix;
  return bare === '' || (bare.startsWith('/') && !bare.endsWith('/') && !routeSyntax.test(bare));
}

const PREFIX_RULE =
  'must be "" or a path starting with "/" (one trailing "/" mounts a directory), without any of : * ( ) ? #';

/** Checks a mount prefix; used for the plugin option and for fastify's register prefix. */
export function checkPrefix(prefix: unknown, option: string, directory = true): string {
  if (typeof prefix !== 'string' || !validPrefix(prefix, directory)) {
    throw optionError(code, where, option, prefix, PREFIX_RULE);
  }
  return prefix;
}

const schema = {
  prefix: check.custom(PREFIX_RULE, (v) => (typeof v === 'string' && validPrefix(v) ? v : undefined)),
  errors: httpServerChecks.errors,
  multiprocess: check.boolean,
  methods: check.custom('must be a non-empty array of upper-case method names', (v) =>
    Array.isArray(v) && v.length > 0 && v.every((m) => typeof m === 'string' && /^[A-Z-]+$/.test(m))
      ? (v as string[])
      : undefined,
  ),
};

function validate(app: unknown, options: PlankPluginOptions): PlankPluginOptions {
  if (typeof app !== 'function')
    throw new PlankError(
      'PLANK_ERR_FASTIFY_APP',
      `${where}: the app must be a function (env) => response, got ${typeof app}`,
    );
  return checkOptions(where, code, options, schema);
}

/**
 * A fastify plugin that serves a Plank app under a prefix, next to the server's native
 * routes: the app sees `SCRIPT_NAME` = the prefix and `PATH_INFO` = the rest, and reads the
 * request body itself from `psgi.input` (the plugin's context parses no body). Headers that
 * fastify hooks set with `reply.header()` (CORS, helmet, ...) go out with the app's response
 * unless the app sets the same header.
 *
 * @example
 * ```ts
 * import { plankPlugin } from '@plank/server-fastify';
 * import Fastify from 'fastify';
 * const fastify = Fastify();
 * fastify.get('/health', async () => ({ ok: true }));
 * fastify.register(plankPlugin((env) => [200, ['Content-Type', 'text/plain'], [`${env.SCRIPT_NAME} ${env.PATH_INFO}`]], { prefix: '/legacy' }));
 * await fastify.listen({ port: 3000 });
 * ```
 */
export function plankPlugin(app: App, pluginOptions: PlankPluginOptions = {}): FastifyPluginCallback {
  // A checked copy: the caller changing its object after this call changes nothing.
  const options = validate(app, pluginOptions);
  const local = options.prefix ?? '';
  return function plank(instance: FastifyInstance, _opts: unknown, done: (err?: Error) => void): void {
    let forward: Forward;
    try {
      const mountPoint = checkPrefix(instance.prefix + local, 'prefix (with the register prefix)', local.endsWith('/'));
      // urlMap gives the mount the Plack layout, and redirects a directory's root to its slash.
      forward = forwarder(mountPoint === '' ? app : urlMap({ [mountPoint]: app }), options, true);
    } catch (err) {
      done(err as Error);
      return;
    }
    // This plugin is encapsulated, so the parsers of the rest of the server stay as they are.
    leaveBodiesUnread(instance);
    const method = options.methods ?? instance.supportedMethods;
    const handler = function plankRoute(request: FastifyRequest, reply: FastifyReply): void {
      forward(request, reply);
    };
    // 'no-slash': under a register prefix, '/' alone would also claim '/prefix/' twice.
    const path = local.replace(/\/$/, '');
    instance.route({ method, url: path || '/', handler, exposeHeadRoute: false, prefixTrailingSlash: 'no-slash' });
    instance.route({ method, url: `${path}/*`, handler, exposeHeadRoute: false });
    done();
  };
}

/**
 * Replaces every body parser of `instance` with one that reads nothing, so the body stream
 * reaches the app unread as `psgi.input` (and fastify's bodyLimit does not apply: the app
 * reads what it wants).
 */
export function leaveBodiesUnread(instance: FastifyInstance): void {
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser(
    '*',
    function leaveBodyUnread(
      _request: FastifyRequest,
      _payload: IncomingMessage,
      done: (err: Error | null, body?: unknown) => void,
    ) {
      done(null, undefined);
    },
  );
}

/**
 * Hands a fastify request over to the Plank handler of server-node, which writes the whole
 * response. `hookHeaders`: send what fastify hooks set with `reply.header()` too (serve()
 * has no hooks, so it skips the copy).
 */
export function forwarder(app: App, options: PlankPluginOptions, hookHeaders: boolean): Forward {
  const handle: (req: IncomingMessage, res: ServerResponse) => void = createHandler(app, {
    ...(options.errors ? { errors: options.errors } : {}),
    ...(options.multiprocess ? { multiprocess: true } : {}),
  });
  return function forwardToPlank(request, reply) {
    const res = reply.raw;
    if (hookHeaders) {
      const headers = reply.getHeaders();
      // node's writeHead lets the app's own headers replace these when names collide.
      for (const name in headers) {
        const value = headers[name];
        if (value !== undefined) res.setHeader(name, value as string | string[]);
      }
    }
    reply.hijack();
    handle(request.raw, res);
  };
}
