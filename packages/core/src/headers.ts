import type { Headers } from './types.js';

// Header names are compared case-insensitively (RFC 9110 §5.1). The flat array is scanned
// linearly: responses carry few headers, and a scan beats building a map per request.

/** The first value of `name`, or `undefined`. @example `get(res[1], 'content-type')` */
export function get(headers: Headers, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 0; i < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() === lower) return headers[i + 1];
  }
  return undefined;
}

/** Every value of `name`, in order. */
export function getAll(headers: Headers, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() === lower) out.push(headers[i + 1] as string);
  }
  return out;
}

/** True when `name` is present. */
export function has(headers: Headers, name: string): boolean {
  return get(headers, name) !== undefined;
}

/** Replaces every `name` with one `name: value` (in the first one's place, else appended). Mutates and returns `headers`. */
export function set(headers: Headers, name: string, value: string): Headers {
  const lower = name.toLowerCase();
  let found = false;
  for (let i = 0; i < headers.length; ) {
    if ((headers[i] as string).toLowerCase() === lower) {
      if (found) {
        headers.splice(i, 2);
        continue;
      }
      headers[i + 1] = value;
      found = true;
    }
    i += 2;
  }
  if (!found) headers.push(name, value);
  return headers;
}

/** Appends `name: value`, keeping existing ones. Mutates and returns `headers`. */
export function push(headers: Headers, name: string, value: string): Headers {
  headers.push(name, value);
  return headers;
}

/** Removes every `name`. Mutates and returns `headers`. */
export function remove(headers: Headers, name: string): Headers {
  const lower = name.toLowerCase();
  for (let i = 0; i < headers.length; ) {
    if ((headers[i] as string).toLowerCase() === lower) headers.splice(i, 2);
    else i += 2;
  }
  return headers;
}
