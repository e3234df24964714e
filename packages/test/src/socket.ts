import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { type App, PlankError, show } from '@plank/core';
import { serve } from '@plank/server-node';
import type { ServeOptions, ServerHandle } from '@plank/server-node';
import { flatHeaders, hasHeader, makeResponse } from './types.js';
import { checkInit, TEST_OPTION } from './request-init.js';
import type { Requester, TestResponse } from './types.js';

/**
 * Serves `app` with `@plank/server-node` on 127.0.0.1 and an ephemeral port.
 *
 * @example
 * ```ts
 * import { listen } from '@plank/test';
 * const handle = await listen(() => [200, [], ['ok']]);
 * console.log(await (await fetch(handle.url)).text());
 * await handle.close();
 * ```
 */
export function listen(app: App, options: ServeOptions = {}): Promise<ServerHandle> {
  return serve(app, { host: '127.0.0.1', port: 0, ...options });
}

/**
 * A Requester over a real socket: one connection per request, headers sent exactly as given
 * (repeats kept), from the `remoteAddr` given (a loopback address; any other is an error).
 */
export function socketRequester(port: number): Requester {
  return async function requestOverSocket(path, given) {
    const init = checkInit(path, given, 'server');
    const headers = flatHeaders(init.headers);
    // node does not add Host itself when headers are given as a flat list.
    if (!hasHeader(headers, 'host')) headers.unshift('Host', `127.0.0.1:${port}`);
    const body =
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? Buffer.from(init.body, 'utf8')
          : Buffer.from(init.body);
    if (body !== undefined && !hasHeader(headers, 'content-length') && !hasHeader(headers, 'transfer-encoding'))
      headers.push('Content-Length', String(body.length));
    return new Promise<TestResponse>((resolve, reject) => {
      // agent: false gives each request its own connection, so a test never sees a
      // response on a socket another test left in a strange state.
      const options = { host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers, agent: false };
      const req = httpRequest(
        init.remoteAddr === undefined ? options : { ...options, localAddress: init.remoteAddr },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () =>
            resolve(makeResponse(res.statusCode ?? 0, res.rawHeaders, Buffer.concat(parts), res.statusMessage)),
          );
          res.on('error', reject);
          res.on('aborted', () =>
            reject(new Error('the server closed the connection before the response was complete')),
          );
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EADDRNOTAVAIL' || init.remoteAddr === undefined) return reject(err);
        // Linux routes all of 127.0.0.0/8 to lo; macOS has only 127.0.0.1 until an alias is added.
        reject(
          new PlankError(
            TEST_OPTION,
            `request(${show(path)}, init): option "remoteAddr" ${show(init.remoteAddr)} is not an address of this machine, so the client cannot bind it (add it to the loopback interface, or run the test in-process)`,
            { cause: err },
          ),
        );
      });
      req.end(body);
    });
  };
}

/**
 * Sends `request` byte for byte to 127.0.0.1:`port` (nothing is normalised: any path,
 * any header bytes) and resolves with the parsed response. Reads one response, skipping
 * interim 1xx ones, then closes the connection. A HEAD request line is honoured (no body).
 *
 * @example
 * ```ts
 * import { rawRequest } from '@plank/test';
 * const res = await rawRequest(5000, 'GET /a//b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
 * ```
 */
export function rawRequest(port: number, request: string | Buffer): Promise<TestResponse> {
  const isHead = (typeof request === 'string' ? request : request.toString('latin1', 0, 8)).startsWith('HEAD ');
  return new Promise<TestResponse>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let finished = false;
    const done = (err: Error | undefined, res?: TestResponse): void => {
      if (finished) return;
      finished = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(res as TestResponse);
    };
    const tryParse = (ended: boolean): void => {
      try {
        const res = parseResponse(buf, isHead, ended);
        if (res) done(undefined, res);
        else if (ended)
          done(
            new Error(
              `connection closed before a complete response: ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`,
            ),
          );
      } catch (err) {
        done(err as Error);
      }
    };
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('close', () => tryParse(true));
    socket.on('error', (err) => {
      // A reset after a complete response still counts as that response.
      if (buf.length > 0) tryParse(true);
      else done(err);
    });
    socket.write(request);
  });
}

/** Parses one HTTP/1.x response from `buf`; undefined when more bytes are needed. */
export function parseResponse(buf: Buffer, isHead: boolean, ended: boolean): TestResponse | undefined {
  let start = 0;
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', start, 'latin1');
    if (headEnd === -1) return undefined;
    const lines = buf.toString('latin1', start, headEnd).split('\r\n');
    const statusLine = lines.shift() ?? '';
    const m = /^HTTP\/\d\.\d (\d{3}) ?(.*)$/.exec(statusLine);
    if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine)}`);
    const status = Number(m[1]);
    const statusText = m[2] ?? '';
    const rawHeaders: string[] = [];
    for (const line of lines) {
      const colon = line.indexOf(':');
      rawHeaders.push(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    const bodyStart = headEnd + 4;
    if (status >= 100 && status < 200 && status !== 101) {
      start = bodyStart;
      continue;
    }
    const get = (name: string): string | undefined => {
      for (let i = 0; i < rawHeaders.length; i += 2)
        if ((rawHeaders[i] as string).toLowerCase() === name) return rawHeaders[i + 1];
      return undefined;
    };
    if (isHead || status === 204 || status === 304)
      return makeResponse(status, rawHeaders, Buffer.alloc(0), statusText);
    const te = get('transfer-encoding');
    if (te !== undefined && /chunked/i.test(te)) {
      const parts: Buffer[] = [];
      let pos = bodyStart;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', pos, 'latin1');
        if (lineEnd === -1) return undefined;
        const size = parseInt(buf.toString('latin1', pos, lineEnd), 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size');
        if (size === 0) {
          // Trailers (none expected) end with an empty line.
          if (buf.indexOf('\r\n', lineEnd + 2, 'latin1') === -1) return undefined;
          return makeResponse(status, rawHeaders, Buffer.concat(parts), statusText);
        }
        if (buf.length < lineEnd + 2 + size + 2) return undefined;
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        pos = lineEnd + 2 + size + 2;
      }
    }
    const cl = get('content-length');
    if (cl !== undefined) {
      const n = Number(cl);
      if (buf.length < bodyStart + n) return undefined;
      return makeResponse(status, rawHeaders, Buffer.from(buf.subarray(bodyStart, bodyStart + n)), statusText);
    }
    return ended ? makeResponse(status, rawHeaders, Buffer.from(buf.subarray(bodyStart)), statusText) : undefined;
  }
}
