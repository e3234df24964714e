import ipaddr from 'ipaddr.js';
import { optionError } from '@plank/core';

const CODE = 'PLANK_ERR_SERVER_STATUS_LITE_OPTION';
const WHERE = 'serverStatusLite()';
const EXPECTED = 'must list IP addresses or CIDR ranges (127.0.0.1, 10.0.0.0/8, ::1, fd00::/8)';

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const DOTTED = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
const DOTTED_CIDR = new RegExp(`^${OCTET}(\\.${OCTET}){3}(/(3[0-2]|[12]?\\d))?$`);

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Compiles `allow` once. IPv4-mapped IPv6 entries (`::ffff:10.0.0.0/104`) become the IPv4
 * range they denote, and a mapped peer (`::ffff:127.0.0.1`, what a dual-stack socket
 * reports) is matched as IPv4, so one IPv4 entry covers both ways a client can arrive.
 */
export function compileAllow(allow: unknown): (remoteAddr: string) => boolean {
  const entries = typeof allow === 'string' ? [allow] : allow;
  if (!Array.isArray(entries) || entries.length === 0) throw optionError(CODE, WHERE, 'allow', allow, EXPECTED);
  const v4: Range[] = [];
  const v6: Range[] = [];
  for (const entry of entries) {
    if (typeof entry !== 'string') throw optionError(CODE, WHERE, 'allow', entry, EXPECTED);
    const text = entry.trim();
    let range: Range;
    try {
      // The strict four-part form only: ipaddr.js would also read `127.1` or octal `0177.0.0.1`.
      if (!text.includes(':') && !DOTTED_CIDR.test(text)) throw new Error('not dotted-quad');
      range = text.includes('/') ? ipaddr.parseCIDR(text) : [ipaddr.parse(text), text.includes(':') ? 128 : 32];
    } catch {
      throw optionError(CODE, WHERE, 'allow', entry, EXPECTED);
    }
    const [addr, bits] = range;
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      // `::ffff:10.0.0.0/8` is `::/8` in IPv6 terms (::1 included), not the IPv4 /8 it looks
      // like: refused, as ReverseProxy refuses it for `trusted`.
      if (bits < 96)
        throw optionError(
          CODE,
          WHERE,
          'allow',
          entry,
          `is an IPv4-mapped range with a prefix below 96, which allows far more than the IPv4 range it looks like; write ${(addr as ipaddr.IPv6).toIPv4Address().toString()}/${bits} if that is what you mean`,
        );
      v4.push([(addr as ipaddr.IPv6).toIPv4Address(), bits - 96]);
    } else {
      (addr.kind() === 'ipv4' ? v4 : v6).push(range);
    }
  }
  return function allowed(remoteAddr) {
    if (!(remoteAddr.includes(':') ? ipaddr.isValid(remoteAddr) : DOTTED.test(remoteAddr))) return false;
    // process() turns a mapped address into IPv4; match() would throw across families.
    const peer = ipaddr.process(remoteAddr);
    const list = peer.kind() === 'ipv4' ? v4 : v6;
    for (const r of list) if (peer.match(r as [never, number])) return true;
    return false;
  };
}
