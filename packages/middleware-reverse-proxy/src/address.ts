// Strict address parsing for values that arrive in headers. ipaddr.js (used for the
// configuration) accepts `127.1`, octal `0177.0.0.1`, hex `0x7f.0.0.1`, the integer
// `2130706433`, and reads `::127.0.0.1` as IPv4-mapped; a proxy never writes those, so an
// attacker is the only source and each must fail closed. Hence this small hand parser.

/** An address in canonical form: IPv4 as a 32-bit number, IPv6 as eight 16-bit groups. */
export type Ip = { kind: 4; value: number; text: string } | { kind: 6; parts: number[]; text: string };

/** An address with the port that came with it (`1.2.3.4:80`, `[::1]:80`). */
export type Node = { ip: Ip; port: string | undefined };

/** Dotted-quad IPv4 as a non-negative 32-bit number, or -1: four decimal octets, no leading zeros. */
export function parseV4(s: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // A leading zero is how `010` says "octal" to inet_aton; refuse rather than guess.
      if (digits === 1 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** IPv6 text (RFC 4291 §2.2, no zone index) as eight 16-bit groups, or undefined. */
export function parseV6(s: string): number[] | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  const gap = s.indexOf('::');
  if (gap !== -1 && s.indexOf('::', gap + 1) !== -1) return undefined;
  const head = gap === -1 ? s.split(':') : s.slice(0, gap) === '' ? [] : s.slice(0, gap).split(':');
  const tail = gap === -1 ? [] : s.slice(gap + 2) === '' ? [] : s.slice(gap + 2).split(':');
  const last = gap === -1 ? head : tail;
  const groups: number[] = [];
  const parseList = (list: string[], out: number[]): boolean => {
    for (let i = 0; i < list.length; i++) {
      const g = list[i] as string;
      if (HEX_GROUP.test(g)) {
        out.push(parseInt(g, 16));
      } else if (list === last && i === list.length - 1 && g.includes('.')) {
        // RFC 4291 §2.2 form 3: the low 32 bits as a dotted quad, itself strict.
        const v4 = parseV4(g);
        if (v4 < 0) return false;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else {
        return false;
      }
    }
    return true;
  };
  const tailGroups: number[] = [];
  if (!parseList(head, groups) || !parseList(tail, tailGroups)) return undefined;
  const used = groups.length + tailGroups.length;
  if (gap === -1) return used === 8 ? groups : undefined;
  if (used > 7) return undefined;
  for (let i = used; i < 8; i++) groups.push(0);
  for (let i = 0; i < tailGroups.length; i++) groups[8 - tailGroups.length + i] = tailGroups[i] as number;
  return groups;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatV6(parts: number[]): string {
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    parts
      .slice(from, to)
      .map((p) => p.toString(16))
      .join(':');
  if (bestAt === -1) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

export function formatV4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/**
 * An IP address in canonical form, or undefined. IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a
 * dual-stack socket reports for IPv4 peers) becomes the IPv4 address, so one rule matches both.
 */
export function parseIp(s: string): Ip | undefined {
  const v4 = parseV4(s);
  if (v4 >= 0) return { kind: 4, value: v4, text: s };
  if (!s.includes(':')) return undefined;
  const parts = parseV6(s);
  if (!parts) return undefined;
  if (parts[0] === 0 && parts[1] === 0 && parts[2] === 0 && parts[3] === 0 && parts[4] === 0 && parts[5] === 0xffff) {
    const value = (parts[6] as number) * 65536 + (parts[7] as number);
    return { kind: 4, value, text: formatV4(value) };
  }
  return { kind: 6, parts, text: formatV6(parts) };
}

const PORT = /^[0-9]{1,5}$/;

/** A TCP port as written in a header: decimal, 0..65535. */
export function isPort(s: string): boolean {
  return PORT.test(s) && Number(s) <= 65535;
}

/**
 * One hop as a proxy writes it in X-Forwarded-For or a Forwarded `for=`: `1.2.3.4`,
 * `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:5678`. Undefined for
 * anything else (`unknown`, obfuscated names, junk), which callers must treat as untrusted.
 */
export function parseNode(s: string): Node | undefined {
  if (s.charCodeAt(0) === 91 /* [ */) {
    const close = s.indexOf(']');
    if (close === -1) return undefined;
    const rest = s.slice(close + 1);
    if (rest !== '' && !(rest.charCodeAt(0) === 58 && isPort(rest.slice(1)))) return undefined;
    const inner = s.slice(1, close);
    // Brackets are IPv6 syntax (RFC 3986 §3.2.2); `[1.2.3.4]` is not an address.
    if (!inner.includes(':')) return undefined;
    const ip = parseIp(inner);
    return ip ? { ip, port: rest === '' ? undefined : rest.slice(1) } : undefined;
  }
  const colon = s.indexOf(':');
  if (colon !== -1 && s.indexOf(':', colon + 1) === -1) {
    // Exactly one colon: IPv4 with a port. (Bare IPv6 has at least two.)
    const port = s.slice(colon + 1);
    if (!isPort(port)) return undefined;
    const v4 = parseV4(s.slice(0, colon));
    return v4 >= 0 ? { ip: { kind: 4, value: v4, text: s.slice(0, colon) }, port } : undefined;
  }
  const ip = parseIp(s);
  return ip ? { ip, port: undefined } : undefined;
}
