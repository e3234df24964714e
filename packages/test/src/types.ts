/** One request as a test describes it. */
export type TestRequestInit = {
  /** @default 'GET' */
  method?: string;
  /** As an object (an array value sends the header once per element) or a flat `[name, value, ...]` list. */
  headers?: Record<string, string | string[]> | string[];
  /** Sent as is; a string goes out as UTF-8. Content-Length is added unless a header sets it. */
  body?: string | Uint8Array;
  /**
   * REMOTE_ADDR. In-process any string; over a socket the client binds it as its own address,
   * so it must be a loopback IPv4 address (`127.0.0.2`), and any other fails with
   * `PLANK_ERR_TEST_OPTION`. @default '127.0.0.1'
   */
  remoteAddr?: string;
};

/** What came back. */
export type TestResponse = {
  status: number;
  /** The reason phrase of the status line (in-process: the standard one for the status). */
  statusText?: string;
  /** Lower-case names; repeated headers joined with `", "` (Set-Cookie too, so read `rawHeaders` for those). */
  headers: Record<string, string>;
  /** Flat `[name, value, ...]` as sent. */
  rawHeaders: string[];
  body: Buffer;
  /** The body decoded as UTF-8. */
  text: string;
};

export type Requester = (path: string, init?: TestRequestInit) => Promise<TestResponse>;

export type TestMode = 'inprocess' | 'server';

export type TestContext = { mode: TestMode; url?: string; port?: number };

export type TestAppOptions = {
  /** @default process.env.PLANK_TEST_IMPL (`Server` or `MockHTTP`, as Plack::Test), else 'inprocess' */
  mode?: TestMode;
};

/** Folds a flat header list into lower-case names with repeats joined by `", "`. */
export function foldHeaders(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  return out;
}

/** Flattens `TestRequestInit.headers` into `[name, value, ...]`. */
export function flatHeaders(headers: TestRequestInit['headers']): string[] {
  if (headers === undefined) return [];
  if (Array.isArray(headers)) return [...headers];
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return out;
}

export function hasHeader(raw: string[], name: string): boolean {
  const lower = name.toLowerCase();
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === lower) return true;
  return false;
}

export function makeResponse(status: number, rawHeaders: string[], body: Buffer, statusText?: string): TestResponse {
  const res: TestResponse = { status, headers: foldHeaders(rawHeaders), rawHeaders, body, text: body.toString('utf8') };
  if (statusText !== undefined) res.statusText = statusText;
  return res;
}
