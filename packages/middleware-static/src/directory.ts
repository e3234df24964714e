import { readdir, stat } from 'node:fs/promises';
import { escapeHtml, type App, type Env, type Response } from '@plank/core';
import { resolveOptions, type FileAppOptions } from './options.js';
import { methodNotAllowed } from './responses.js';
import { createFileServer } from './serve.js';

/** Options of {@link directoryApp}: those of fileApp, without `file`; `index` defaults to none. */
export type DirectoryAppOptions = Omit<FileAppOptions, 'file'> & {
  /** Most entries listed; a larger directory is cut with a note, so one request cannot stat a million files. @default 5000 */
  maxEntries?: number;
};

// The page is built from file names, which anyone who can upload may choose: no script
// may run, nothing may be framed, and nothing is fetched from elsewhere.
const SECURITY_HEADERS = [
  'Content-Security-Policy',
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options',
  'nosniff',
  'X-Frame-Options',
  'DENY',
  'Referrer-Policy',
  'no-referrer',
  'Cache-Control',
  'no-cache',
];

/**
 * Serves files like {@link fileApp} and lists directories (requested with a trailing
 * slash) as an HTML page: Plack::App::Directory. Opt-in: nothing else in this package
 * ever lists a directory. Names are HTML-escaped and percent-encoded in links, hidden
 * entries follow `dotfiles`, and the page carries a strict Content-Security-Policy.
 *
 * @example
 * ```ts
 * import { builder } from '@plank/core';
 * import { directoryApp } from '@plank/middleware-static';
 * export default builder(({ mount }) => {
 *   mount('/pub', directoryApp({ root: './public' }));
 * });
 * ```
 */
export function directoryApp(options: DirectoryAppOptions = {}): App {
  const o = resolveOptions('directoryApp', options);
  const files = createFileServer(o, (env, dir) => listing(env, dir, o.dotfiles === 'allow', o.maxEntries));
  return function directoryApp(env) {
    if (env.REQUEST_METHOD !== 'GET' && env.REQUEST_METHOD !== 'HEAD') return methodNotAllowed();
    return files.serve(env, env.PATH_INFO);
  };
}

type Item = { name: string; dir: boolean; size: number; mtime: Date | undefined };

async function listing(env: Env, dir: string, showHidden: boolean, maxEntries: number): Promise<Response> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => showHidden || !e.name.startsWith('.'));
  const cut = entries.length > maxEntries;
  const items: Item[] = await Promise.all(
    entries.slice(0, maxEntries).map(async (e): Promise<Item> => {
      try {
        const st = await stat(`${dir}/${e.name}`);
        return { name: e.name, dir: st.isDirectory(), size: st.size, mtime: st.mtime };
      } catch {
        return { name: e.name, dir: e.isDirectory(), size: 0, mtime: undefined }; // a dangling link
      }
    }),
  );
  items.sort((a, b) => (a.dir === b.dir ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.dir ? -1 : 1));
  const title = `Index of ${escapeHtml(utf8(env.SCRIPT_NAME + env.PATH_INFO))}`;
  const rows = items.map((it) => {
    const href = `./${encodeURIComponent(it.name)}${it.dir ? '/' : ''}`;
    const label = escapeHtml(it.name) + (it.dir ? '/' : '');
    const size = it.dir ? '-' : String(it.size);
    const mtime = it.mtime ? it.mtime.toUTCString() : '';
    return `<tr><td><a href="${escapeHtml(href)}">${label}</a></td><td class="size">${size}</td><td>${mtime}</td></tr>`;
  });
  const up =
    env.PATH_INFO === '/' || env.PATH_INFO === '' ? '' : '<tr><td><a href="../">../</a></td><td></td><td></td></tr>';
  const note = cut ? `<p>Only the first ${maxEntries} of ${entries.length} entries are listed.</p>` : '';
  const html = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif}td{padding:0 1em}.size{text-align:right}</style></head>
<body><h1>${title}</h1>
<table><tr><th>Name</th><th>Size</th><th>Last modified</th></tr>
${up}${rows.join('\n')}
</table>${note}</body></html>
`;
  const body = Buffer.from(html, 'utf8');
  const headers = [
    'Content-Type',
    'text/html; charset=utf-8',
    'Content-Length',
    String(body.length),
    ...SECURITY_HEADERS,
  ];
  return [200, headers, env.REQUEST_METHOD === 'HEAD' ? [] : [body]];
}

function utf8(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
