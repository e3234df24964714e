import { validateHeaderName, validateHeaderValue } from 'node:http';
import { check, checkOptions, PlankError, show } from '@plank/core';
import { flatHeaders } from './types.js';
import type { TestMode, TestRequestInit } from './types.js';

/** The code of a request option that is bad, or that the test mode cannot honour. */
export const TEST_OPTION = 'PLANK_ERR_TEST_OPTION';

// RFC 9110 §9.1: a method is a token. node's client refuses anything else, so in-process must too.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

// Only the loopback network can be the source of a connection to 127.0.0.1 from this
// machine, and on Linux every 127.x.x.x address is already there to bind.
const LOOPBACK =
  /^127\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

const SCHEMA = {
  method: check.custom('must be an HTTP method (a token such as "GET")', (v) =>
    typeof v === 'string' && TOKEN.test(v) ? v : undefined,
  ),
  headers: check.custom(
    'must be an object of header names to strings (or arrays of strings), or a flat [name, value, ...] list of strings',
    (v) => (headersFit(v) ? (v as TestRequestInit['headers']) : undefined),
  ),
  body: check.custom('must be a string or a Uint8Array', (v) =>
    typeof v === 'string' || v instanceof Uint8Array ? v : undefined,
  ),
  remoteAddr: check.string,
};

function headersFit(v: unknown): boolean {
  if (Array.isArray(v)) return v.length % 2 === 0 && v.every((x) => typeof x === 'string');
  if (typeof v !== 'object' || v === null) return false;
  return Object.values(v).every(
    (x) => typeof x === 'string' || (Array.isArray(x) && x.every((y) => typeof y === 'string')),
  );
}

/**
 * Checks a request's `init` the same way in both modes, so a test that passes in one cannot
 * fail for a different reason in the other: unknown options, a bad method, and header names
 * and values node's client would refuse are errors in-process too. A `remoteAddr` that a
 * socket cannot honour fails in `server` mode instead of being ignored.
 */
export function checkInit(path: string, init: TestRequestInit | undefined, mode: TestMode): TestRequestInit {
  const where = `request(${show(path)}, init)`;
  const checked = checkOptions(where, TEST_OPTION, init, SCHEMA);
  const headers = flatHeaders(checked.headers);
  for (let i = 0; i < headers.length; i += 2) {
    const [name, value] = [headers[i] as string, headers[i + 1] as string];
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch (err) {
      throw new PlankError(
        TEST_OPTION,
        `${where}: option "headers" has a header a client cannot send, ${show(name)}: ${show(value)} (${(err as Error).message})`,
        { cause: err },
      );
    }
  }
  if (mode === 'server' && checked.remoteAddr !== undefined && !LOOPBACK.test(checked.remoteAddr)) {
    throw new PlankError(
      TEST_OPTION,
      `${where}: option "remoteAddr" cannot be ${show(checked.remoteAddr)} over a socket (PLANK_TEST_IMPL=Server): ` +
        'the client binds it as its own address, so it must be a loopback IPv4 address such as "127.0.0.2"; ' +
        'run the test in-process (mode: "inprocess") for any other address',
    );
  }
  return checked;
}
