import { escapeLogItem, orDash } from './escape.js';
import {
  type CompileOptions,
  directive,
  envKeyForHeader,
  FORMATS,
  type Field,
  formatError,
  type LogRecord,
  microseconds,
  remoteUser,
} from './format.js';
import { clfTimeFormatter } from './strftime.js';

/** A compiled format: record in, line (without newline) out. */
export type CompiledFormat = ((record: LogRecord) => string) & {
  /** Whether any directive reads the response's headers or body. */
  needsResponse: boolean;
  /** Whether any directive reads `end` (the time of the last byte): otherwise the clock need not be read again. */
  needsEnd: boolean;
};

// One part of a line, as JavaScript source: a literal, or an expression over the record `r`.
type Part = { text: string } | { code: string };

// The helpers the generated code calls, by the names it uses.
type Helpers = {
  esc: (v: string) => string;
  dash: (v: unknown) => string;
  hdr: (v: string | undefined) => string;
  clf: (ms: number) => string;
  user: typeof remoteUser;
  us: typeof microseconds;
};

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

// The directives of the common and combined formats (and a few as cheap) become inline
// code; the rest call their field function, which is what they were before.
function inline(ch: string, a: string, consts: unknown[]): Part | undefined {
  const env = (key: string): string => (IDENT.test(key) ? `r.env.${key}` : `r.env[K[${consts.push(key) - 1}]]`);
  switch (ch) {
    case '%':
      return { text: '%' };
    case 'l':
      return { text: '-' };
    case 'P':
      return a === '' || a === 'pid' ? { text: String(process.pid) } : undefined;
    case 'h':
      return { code: 'dash(r.env.REMOTE_ADDR)' };
    case 'a':
      return a === '' ? { code: 'dash(r.env.REMOTE_ADDR)' } : undefined;
    case 'm':
      return { code: 'esc(r.env.REQUEST_METHOD)' };
    case 'H':
      return { code: 'esc(r.env.SERVER_PROTOCOL)' };
    case 'r':
      return { code: 'esc(r.env.REQUEST_METHOD) + " " + esc(r.env.REQUEST_URI) + " " + esc(r.env.SERVER_PROTOCOL)' };
    case 'U':
      return { code: '(esc(r.env.SCRIPT_NAME + r.env.PATH_INFO) || "-")' };
    case 'v':
      return { code: 'dash(r.env.SERVER_NAME)' };
    case 'u':
      return { code: 'user(r.env)' };
    case 's':
      return { code: '(r.status > 0 ? "" + r.status : "-")' };
    case 'b':
      return { code: '(r.bodyBytes > 0 ? "" + r.bodyBytes : "-")' };
    case 'B':
      return { code: '("" + r.bodyBytes)' };
    case 'D':
      return { code: '("" + us(r))' };
    case 'i':
      return { code: `hdr(${env(envKeyForHeader(a))})` };
    case 't':
      return a === '' ? { code: 'clf(r.start)' } : undefined;
    default:
      return undefined;
  }
}

// Literal text takes httpd's backslash escapes (\n \r \t \\); others stay as written.
function literal(text: string): string {
  return text.replace(/\\([\\nrt])/g, (_, c: string) =>
    c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : '\\',
  );
}

/**
 * Compiles a mod_log_config format (or `combined` / `common`) once into one function from a
 * finished request to its log line (without the newline): the directives become one
 * JavaScript expression, as Apache::LogFormat::Compiler compiles to Perl, so a request
 * costs one call and the string concatenation, not a call per field. Unknown directives,
 * unterminated `{` and a trailing `%` throw a `PLANK_ERR_ACCESS_LOG_FORMAT` naming the
 * culprit. Request data never reaches the generated source: literals are JSON-quoted and
 * arguments (`%{Name}i`) are passed in as constants.
 *
 * @example
 * ```ts
 * import { compileFormat } from '@plank/middleware-access-log';
 * const line = compileFormat('%m %U %>s');
 * ```
 */
export function compileFormat(format: string, options: CompileOptions = {}): CompiledFormat {
  return compileLine(format, options, '');
}

/** {@link compileFormat} with `suffix` (the newline) appended inside the one function. */
export function compileLine(format: string, options: CompileOptions, suffix: string): CompiledFormat {
  const source = FORMATS[format] ?? format;
  const parts: Part[] = [];
  const consts: unknown[] = [];
  const fields: Field[] = [];
  const handlers = Boolean(options.charHandlers || options.blockHandlers);
  let needsResponse = handlers;
  let needsEnd = handlers;
  let i = 0;
  while (i < source.length) {
    const pct = source.indexOf('%', i);
    if (pct < 0) {
      parts.push({ text: literal(source.slice(i)) });
      break;
    }
    if (pct > i) parts.push({ text: literal(source.slice(i, pct)) });
    i = pct + 1;
    // httpd's parse_log_item: !, <, >, commas, status codes and {arg} in any order, then the letter.
    let negate = false;
    const statuses: number[] = [];
    let arg: string | undefined;
    for (;;) {
      if (i >= source.length)
        throw formatError(format, `"%" at the end needs a directive (write %% for a percent sign)`);
      const c = source[i] as string;
      if (c === '!') negate = true;
      else if (c === '<' || c === '>' || c === ',') {
        // no internal redirects here: %<s and %>s are the same status
      } else if (c === '{') {
        const close = source.indexOf('}', i + 1);
        if (close < 0) throw formatError(format, `unterminated "{" at offset ${i}`);
        arg = source.slice(i + 1, close);
        i = close;
      } else if (c >= '0' && c <= '9') {
        let j = i;
        while (j < source.length && (source[j] as string) >= '0' && (source[j] as string) <= '9') j++;
        statuses.push(Number(source.slice(i, j)));
        i = j - 1;
      } else {
        // Compiled through the field function first: it is what rejects a bad directive.
        const field = directive(c, arg, options, format);
        if (c === 'o' || c === 'f' || c === 'X') needsResponse = true;
        if (c === 'D' || c === 'T' || (c === 't' && arg?.startsWith('end:'))) needsEnd = true;
        const part: Part = (arg === undefined || c === 'i' || c === 'P' || c === 'a' || c === 't'
          ? inline(c, arg ?? '', consts)
          : undefined) ?? { code: `F[${fields.push(field) - 1}](r)` };
        if (statuses.length === 0) parts.push(part);
        else {
          const set = `K[${consts.push(new Set(statuses)) - 1}]`;
          const code = 'text' in part ? JSON.stringify(part.text) : part.code;
          parts.push({
            code: negate ? `(${set}.has(r.status) ? "-" : ${code})` : `(${set}.has(r.status) ? ${code} : "-")`,
          });
        }
        i++;
        break;
      }
      i++;
    }
  }
  if (suffix) parts.push({ text: suffix });
  // Adjacent literals merge, so `" - "` is one piece of the expression.
  const pieces: string[] = [];
  let text: string | undefined;
  for (const p of parts) {
    if ('text' in p) text = (text ?? '') + p.text;
    else {
      if (text !== undefined) pieces.push(JSON.stringify(text));
      text = undefined;
      pieces.push(p.code);
    }
  }
  if (text !== undefined) pieces.push(JSON.stringify(text));
  const helpers: Helpers = {
    esc: escapeLogItem,
    dash: orDash,
    hdr: (v) => (v === undefined ? '-' : escapeLogItem(v)),
    clf: clfTimeFormatter(options.utc === true),
    user: remoteUser,
    us: microseconds,
  };
  const names = Object.keys(helpers);
  const body = `return function logLine(r) { return ${pieces.length > 0 ? `"" + ${pieces.join(' + ')}` : '""'}; };`;
  const make = new Function(...names, 'K', 'F', body) as (...args: unknown[]) => (r: LogRecord) => string;
  const logLine = make(...Object.values(helpers), consts, fields) as CompiledFormat;
  logLine.needsResponse = needsResponse;
  logLine.needsEnd = needsEnd;
  return logLine;
}
