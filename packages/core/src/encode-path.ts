/**
 * Percent-encodes a byte string path (one character per byte, as PATH_INFO and SCRIPT_NAME
 * hold it) for a URL, keeping RFC 3986 §3.3's pchar characters and `/` as they are.
 */
export function encodePath(bytes: string): string {
  let out = '';
  for (const byte of Buffer.from(bytes, 'latin1')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
