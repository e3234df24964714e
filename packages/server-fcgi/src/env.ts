import type { Readable } from 'node:stream';
import type { Env, ErrorStream, FinishHandler } from '@plank/core';
import { percentDecode } from '@plank/server-node';

export type FcgiEnvOptions = {
  input: Readable;
  errors: ErrorStream;
  /** True under the prefork master (several processes serve the same socket). */
  multiprocess?: boolean;
  harakiri?: boolean;
};

/**
 * The env for one FastCGI request, from the web server's params, built as
 * Plack::Handler::FCGI builds it and then corrected where nginx's and Apache's stock
 * configurations would otherwise mislead an app:
 *
 * - `PATH_INFO` comes from `REQUEST_URI` (its path, percent-decoded once, bytes), minus
 *   `SCRIPT_NAME`: web servers collapse `//` and decode differently in the PATH_INFO they send.
 * - When `SCRIPT_NAME` is the whole path and no `PATH_INFO` was sent (nginx's stock
 *   `fastcgi_params` sends `$fastcgi_script_name`), nothing would be left for the app to route
 *   on: the app is taken to be mounted at the root (`SCRIPT_NAME` `''`). To mount under a
 *   prefix, send `SCRIPT_NAME` with the prefix and a `PATH_INFO` (see the README).
 * - Behind Apache's `ProxyPass /prefix/ fcgi://…/`, the prefix becomes `SCRIPT_NAME` (Apache
 *   sends the whole path as SCRIPT_NAME and the rest in `SCRIPT_FILENAME`).
 * - `SCRIPT_NAME` `/` becomes `''` (PSGI: the root is the empty string).
 * - `psgi.url_scheme` is `https` when `HTTPS` is `on` or `1`; `HTTP_CONTENT_TYPE` and
 *   `HTTP_CONTENT_LENGTH` are dropped; Apache's bare `Authorization` param becomes
 *   `HTTP_AUTHORIZATION`; params whose names cannot be env keys (lower case, `_`: a web server's
 *   own environment) are left out. Missing `SERVER_NAME`, `SERVER_PORT`, `SERVER_PROTOCOL` or
 *   `REMOTE_ADDR` (a raw client such as `cgi-fcgi`) get `localhost`, `80`, `HTTP/1.0` and `''`.
 */
const CGI_NAME = /^[A-Z][A-Z0-9_]*$/;

export function buildFcgiEnv(params: ReadonlyArray<readonly [string, string]>, options: FcgiEnvOptions): Env {
  const env: Record<string, unknown> = {};
  for (const [name, value] of params) {
    // Only names an env key can have: web servers also pass their own environment (Apache its
    // PATH, cgi-fcgi everything down to `_`), which SPEC.md's env has no room for.
    if (!CGI_NAME.test(name)) {
      if (name === 'Authorization') env.HTTP_AUTHORIZATION ??= value;
      continue;
    }
    // nginx sends a repeated request header as a repeated param; PSGI joins them with ", ".
    const seen = env[name];
    env[name] = typeof seen === 'string' && name.startsWith('HTTP_') ? `${seen}, ${value}` : value;
  }
  delete env.HTTP_CONTENT_TYPE;
  delete env.HTTP_CONTENT_LENGTH;
  if (env.CONTENT_LENGTH === '') delete env.CONTENT_LENGTH;
  if (env.CONTENT_TYPE === '') delete env.CONTENT_TYPE;

  const uri = typeof env.REQUEST_URI === 'string' && env.REQUEST_URI !== '' ? env.REQUEST_URI : undefined;
  const rawPath = uri === undefined ? undefined : uri.split('?', 1)[0];
  const path = rawPath === undefined ? undefined : percentDecode(rawPath);
  let script = typeof env.SCRIPT_NAME === 'string' ? env.SCRIPT_NAME : '';
  // A web server that sends PATH_INFO (Plack's recommended configurations do) means its
  // SCRIPT_NAME as the mount point; one that sends none (nginx's stock fastcgi_params) puts the
  // whole path in SCRIPT_NAME.
  let sentPathInfo = typeof env.PATH_INFO === 'string';
  // Apache's mod_proxy_fcgi sends SCRIPT_NAME as the whole path too, but names the path below
  // its ProxyPass prefix in SCRIPT_FILENAME (`proxy:fcgi://host:port/rest`): the prefix is the
  // mount point.
  const below =
    typeof env.SCRIPT_FILENAME === 'string' ? /^proxy:fcgi:\/\/[^/]*(\/[^?]*)?/.exec(env.SCRIPT_FILENAME) : null;
  if (below !== null && path !== undefined) {
    const rest = percentDecode(below[1] ?? '/');
    if (path.endsWith(rest)) {
      script = path.slice(0, path.length - rest.length);
      sentPathInfo = true;
    }
  }
  let pathInfo: string;
  const rest = path !== undefined && script !== '' && path.startsWith(script) ? path.slice(script.length) : undefined;
  if (path === undefined) {
    pathInfo = sentPathInfo ? (env.PATH_INFO as string) : '';
  } else if (rest !== undefined && (rest.startsWith('/') || (rest === '' && sentPathInfo))) {
    pathInfo = rest;
  } else {
    // SCRIPT_NAME is the whole path, or not a prefix of it on a `/` boundary: the root.
    script = '';
    pathInfo = path;
  }
  if (script === '/') script = '';
  if (pathInfo !== '' && !pathInfo.startsWith('/')) pathInfo = `/${pathInfo}`;
  const query = typeof env.QUERY_STRING === 'string' ? env.QUERY_STRING : '';
  env.SCRIPT_NAME = script;
  env.PATH_INFO = pathInfo;
  env.QUERY_STRING = query;
  env.REQUEST_URI = uri ?? `${script}${pathInfo}${query === '' ? '' : `?${query}`}`;
  env.SERVER_NAME = nonEmpty(env.SERVER_NAME, 'localhost');
  env.SERVER_PORT = typeof env.SERVER_PORT === 'string' && /^\d+$/.test(env.SERVER_PORT) ? env.SERVER_PORT : '80';
  env.SERVER_PROTOCOL = nonEmpty(env.SERVER_PROTOCOL, 'HTTP/1.0');
  env.REMOTE_ADDR = typeof env.REMOTE_ADDR === 'string' ? env.REMOTE_ADDR : '';
  if (env.REMOTE_PORT === '') delete env.REMOTE_PORT;

  const https = typeof env.HTTPS === 'string' && /^(?:on|1)$/i.test(env.HTTPS);
  env['psgi.version'] = [1, 1];
  env['psgi.url_scheme'] = https ? 'https' : 'http';
  env['psgi.input'] = options.input;
  env['psgi.errors'] = options.errors;
  env['psgi.multithread'] = false;
  env['psgi.multiprocess'] = options.multiprocess ?? false;
  env['psgi.run_once'] = false;
  env['psgi.nonblocking'] = true;
  env['psgi.streaming'] = true;
  env['psgix.harakiri'] = options.harakiri ?? false;
  env['psgix.cleanup'] = true;
  env['psgix.cleanup.handlers'] = [];
  env['plank.finish'] = [] as FinishHandler[];
  return env as unknown as Env;
}

function nonEmpty(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}
