/**
 * Escapes `&`, `<`, `>`, `"` and `'` as numeric character references, so any text can go
 * inside an HTML element or a quoted attribute value: Plack::Util::encode_html's job. The
 * pages middleware build from request data and file names (StackTrace, directory listings,
 * the server status page) use this one function.
 *
 * @example
 * ```ts
 * import { escapeHtml } from '@plank/core';
 * const name = `<script>"x" & 'y'</script>`;
 * const row = `<td title="${escapeHtml(name)}">${escapeHtml(name)}</td>`;
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
