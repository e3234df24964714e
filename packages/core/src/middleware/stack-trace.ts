import { show } from '../errors.js';
import { escapeHtml } from '../html.js';
import type { Env, Middleware, Response } from '../types.js';
import { catchErrors } from '../catch.js';
import { CORE_OPTION, check, checkOptions } from '../options.js';

export type StackTraceOptions = {
  /** Do not write the trace to `psgi.errors` (the response still carries it). @default false */
  noPrintErrors?: boolean;
};

/**
 * Catches what the app throws or rejects with (also a streaming response that fails
 * before it responded) and answers `500` with the stack trace, as Plack's StackTrace:
 * `text/plain`, or an HTML page (every character escaped) when the request's `Accept`
 * prefers `text/html` to `text/plain`. The trace, with its `cause` chain, also goes to
 * `psgi.errors` unless `noPrintErrors`. For development: it shows internals to the client.
 * By name: `enable('StackTrace')`.
 *
 * @example
 * ```ts
 * import { stackTrace } from '@plank/core';
 * export default stackTrace()(() => { throw new Error('boom'); });
 * ```
 */
export function stackTrace(options?: StackTraceOptions): Middleware {
  const { noPrintErrors = false } = checkOptions('StackTrace', CORE_OPTION, options, { noPrintErrors: check.boolean });
  return (app) =>
    function stackTraceApp(env) {
      return catchErrors(
        () => app(env),
        (err) => {
          const trace = traceOf(err);
          if (!noPrintErrors) env['psgi.errors'].write(`${trace}\n`);
          return prefersHtml(env) ? htmlPage(err, trace) : plain(trace);
        },
      );
    };
}

function traceOf(err: unknown): string {
  const lines: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current !== undefined && !seen.has(current) && seen.size < 10) {
    seen.add(current);
    if (seen.size > 1) lines.push('Caused by:');
    lines.push(
      current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : `thrown: ${show(current)}`,
    );
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines.join('\n');
}

function plain(trace: string): Response {
  const body = Buffer.from(trace, 'utf8');
  return [500, ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(body.length)], [body]];
}

function htmlPage(err: unknown, trace: string): Response {
  const title = escapeHtml(err instanceof Error ? `${err.name}: ${err.message}` : 'Error');
  const html =
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title>` +
    '<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head>' +
    `<body><h1>${title}</h1><pre>${escapeHtml(trace)}</pre></body></html>\n`;
  const body = Buffer.from(html, 'utf8');
  return [500, ['Content-Type', 'text/html; charset=utf-8', 'Content-Length', String(body.length)], [body]];
}

// RFC 9110 §12.5.1: the most specific matching range gives a type its weight.
function prefersHtml(env: Env): boolean {
  const accept = env.HTTP_ACCEPT;
  if (accept === undefined) return false;
  const html = quality(accept, 'text', 'html');
  return html > 0 && html > quality(accept, 'text', 'plain');
}

function quality(accept: string, type: string, subtype: string): number {
  let best = -1;
  let q = 0;
  for (const range of accept.split(',')) {
    const [media = '', ...params] = range.split(';');
    const [t = '', s = ''] = media.trim().toLowerCase().split('/');
    const specificity = t === type && s === subtype ? 2 : t === type && s === '*' ? 1 : t === '*' && s === '*' ? 0 : -1;
    if (specificity <= best) continue;
    best = specificity;
    const qParam = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    const value = qParam === undefined ? 1 : Number(qParam.slice(2));
    q = Number.isFinite(value) ? value : 0;
  }
  return q;
}
