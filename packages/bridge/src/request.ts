import { IncomingMessage } from 'node:http';
import type { Env } from '@plank/core';
import { markComplete } from './node-internals.js';
import type { BridgeSocket } from './socket.js';

/**
 * Builds the `IncomingMessage` a Node handler expects from a Plank env. Headers come from the
 * `HTTP_*` keys (lower-cased, `_` back to `-`: PSGI keeps no other spelling), plus
 * `Content-Type` and `Content-Length`. `req.url` is `REQUEST_URI` at the root; under a mount it
 * is the path below the mount point (`PATH_INFO`, encoded again) and the query, as express's
 * own `app.use('/prefix', …)` would give. The body streams from `psgi.input` with backpressure.
 */
export function nodeRequest(env: Env, socket: BridgeSocket): IncomingMessage {
  const req = new IncomingMessage(socket as never);
  req.method = env.REQUEST_METHOD;
  req.url = env.SCRIPT_NAME === '' ? env.REQUEST_URI : urlBelowMount(env);
  const [major, minor] = env.SERVER_PROTOCOL === 'HTTP/1.0' ? [1, 0] : [1, 1];
  req.httpVersion = `${major}.${minor}`;
  req.httpVersionMajor = major;
  req.httpVersionMinor = minor;
  const raw: string[] = [];
  if (env.CONTENT_TYPE !== undefined) raw.push('Content-Type', env.CONTENT_TYPE);
  if (env.CONTENT_LENGTH !== undefined) raw.push('Content-Length', env.CONTENT_LENGTH);
  for (const key in env) {
    const value = env[key as `HTTP_${string}`];
    if (key.startsWith('HTTP_') && typeof value === 'string') raw.push(headerName(key), value);
  }
  req.rawHeaders = raw;
  for (let i = 0; i < raw.length; i += 2) req.headers[(raw[i] as string).toLowerCase()] = raw[i + 1] as string;

  const input = env['psgi.input'];
  const chunked = env.HTTP_TRANSFER_ENCODING !== undefined;
  if (!chunked && (env.CONTENT_LENGTH === undefined || env.CONTENT_LENGTH === '0')) {
    req.push(null);
    markComplete(req);
    return req;
  }
  input.on('data', (chunk: Buffer) => {
    if (!req.push(chunk)) input.pause();
  });
  input.once('end', () => {
    markComplete(req);
    req.push(null);
  });
  input.once('error', (e) => req.destroy(e));
  input.pause();
  req._read = () => {
    input.resume();
  };
  return req;
}

function headerName(key: string): string {
  return key
    .slice(5)
    .toLowerCase()
    .replace(/_/g, '-')
    .replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

// PATH_INFO holds decoded bytes; a URL needs them encoded again (as UTF-8 bytes were sent).
function urlBelowMount(env: Env): string {
  const path = env.PATH_INFO === '' ? '/' : env.PATH_INFO;
  const encoded = path.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/g, (ch) => {
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : encodeURIComponent(ch);
  });
  return env.QUERY_STRING === '' ? encoded : `${encoded}?${env.QUERY_STRING}`;
}
