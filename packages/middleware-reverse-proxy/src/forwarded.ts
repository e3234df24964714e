// RFC 7239 §4: Forwarded = 1#forwarded-element; forwarded-element = [ pair ] *( ";" [ pair ] );
// pair = token "=" ( token / quoted-string ). One element per proxy hop, oldest first.

/** One hop of a Forwarded header. `bad` marks an element that could not be read; its fields are then empty. */
export type ForwardedElement = { for?: string; proto?: string; host?: string; raw: string; bad: boolean };

// RFC 9110 §5.6.2 tchar.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

function isOws(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/**
 * Splits a Forwarded header into elements, left to right. Parameter names are
 * case-insensitive and may appear once per element (RFC 7239 §4); a repeated or
 * malformed one makes the whole element `bad`, so nothing in it is believed. Unquoted
 * values are read up to `;`, `,` or whitespace, so the common `for=1.2.3.4:80` (which the
 * RFC wants quoted) still parses; the address inside is checked strictly afterwards.
 */
export function parseForwarded(header: string): ForwardedElement[] {
  const out: ForwardedElement[] = [];
  const n = header.length;
  let i = 0;
  while (i <= n) {
    const start = i;
    const el: ForwardedElement = { raw: '', bad: false };
    const fields: Record<string, string> = {};
    for (;;) {
      while (isOws(header[i])) i++;
      if (i >= n || header[i] === ',') break;
      if (header[i] === ';') {
        i++;
        continue;
      }
      const nameStart = i;
      while (i < n && TCHAR.test(header[i] as string)) i++;
      const name = header.slice(nameStart, i).toLowerCase();
      if (name === '' || header[i] !== '=') {
        el.bad = true;
        break;
      }
      i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        let closed = false;
        while (i < n) {
          const c = header[i] as string;
          if (c === '\\' && i + 1 < n) {
            value += header[i + 1];
            i += 2;
          } else if (c === '"') {
            i++;
            closed = true;
            break;
          } else {
            value += c;
            i++;
          }
        }
        if (!closed) {
          el.bad = true;
          break;
        }
      } else {
        const valueStart = i;
        while (i < n && !/[;,"\s]/.test(header[i] as string)) i++;
        value = header.slice(valueStart, i);
        if (value === '') {
          el.bad = true;
          break;
        }
      }
      if (Object.hasOwn(fields, name)) {
        el.bad = true;
        break;
      }
      fields[name] = value;
      while (isOws(header[i])) i++;
      if (i < n && header[i] !== ';' && header[i] !== ',') {
        el.bad = true;
        break;
      }
    }
    if (el.bad) {
      // Skip to the next element boundary outside quotes.
      let quoted = false;
      for (; i < n; i++) {
        const c = header[i];
        if (quoted && c === '\\') i++;
        else if (c === '"') quoted = !quoted;
        else if (c === ',' && !quoted) break;
      }
    } else {
      if (fields.for !== undefined) el.for = fields.for;
      if (fields.proto !== undefined) el.proto = fields.proto;
      if (fields.host !== undefined) el.host = fields.host;
    }
    el.raw = header.slice(start, i).trim();
    // Empty list elements are allowed and ignored (RFC 9110 §5.6.1).
    if (el.raw !== '') out.push(el);
    i++;
  }
  return out;
}
