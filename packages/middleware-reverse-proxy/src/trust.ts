import ipaddr from 'ipaddr.js';
import { optionError } from '@plank/core';
import { parseIp, type Ip } from './address.js';

/** Decides whether the hop at `hopIndex` (0 = the socket peer, 1 = the rightmost forwarded entry, ...) is a proxy you trust. */
export type TrustFunction = (addr: string, hopIndex: number) => boolean;

/** The built-in names for common ranges, as in proxy-addr (Express's "trust proxy"). */
export type TrustPreset = 'loopback' | 'linklocal' | 'uniquelocal';

export const PRESETS: Record<TrustPreset, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

export type Matcher = (ip: Ip, hopIndex: number) => boolean;

/** The compiled `trusted` option: `hop` for forwarded entries, `peer` for the socket's REMOTE_ADDR. */
export type Trust = { hop: Matcher; peer: (remoteAddr: string) => boolean };

/** The one error code for a bad option of this package (the rule `PLANK_ERR_<PACKAGE>_OPTION`). */
export const OPTION_ERROR = 'PLANK_ERR_REVERSE_PROXY_OPTION';
const WHERE = 'reverseProxy()';
const EXPECTED =
  'must be IP addresses, CIDR ranges (10.0.0.0/8, fd00::/8) or presets (loopback, linklocal, uniquelocal)';

/**
 * Turns the `trusted` option into one matcher, once. Lists become masks compared with
 * integer arithmetic, so the per-request cost is a few operations, not a parse.
 */
export function compileTrusted(trusted: unknown): Trust {
  if (typeof trusted === 'function') {
    const fn = trusted as TrustFunction;
    return {
      hop: (ip, hop) => fn(ip.text, hop) === true,
      // A peer that is no IP address (a Unix-domain socket gives '') is the function's call.
      peer: (remote) => fn(parseIp(remote)?.text ?? remote, 0) === true,
    };
  }
  const hop = compileList(trusted);
  // Consecutive requests mostly come from the same peer (keep-alive, one proxy in front):
  // the verdict for the last address is kept, since the list never changes.
  let lastRemote: string | undefined;
  let lastVerdict = false;
  return {
    hop,
    peer: (remote) => {
      if (remote === lastRemote) return lastVerdict;
      const ip = parseIp(remote);
      lastVerdict = ip !== undefined && hop(ip, 0);
      lastRemote = remote;
      return lastVerdict;
    },
  };
}

function compileList(trusted: unknown): Matcher {
  const entries = typeof trusted === 'string' ? trusted.split(',') : trusted;
  if (!Array.isArray(entries)) {
    throw optionError(
      OPTION_ERROR,
      WHERE,
      'trusted',
      trusted,
      'must be a list of addresses, ranges and presets, or a function (addr, hopIndex) => boolean',
    );
  }
  if (entries.length === 0) {
    throw optionError(
      OPTION_ERROR,
      WHERE,
      'trusted',
      trusted,
      'is empty, so no request would ever be rewritten; remove the middleware or list your proxies',
    );
  }
  const v4: Array<[net: number, mask: number]> = [];
  const v6: Array<[parts: number[], bits: number]> = [];
  for (const entry of entries) {
    if (typeof entry !== 'string') throw optionError(OPTION_ERROR, WHERE, 'trusted', entry, EXPECTED);
    const name = entry.trim();
    const ranges = Object.hasOwn(PRESETS, name) ? PRESETS[name as TrustPreset] : [name];
    for (const range of ranges) {
      const [ip, bits] = parseRange(range, entry);
      if (ip.kind === 4) {
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        v4.push([(ip.value & mask) >>> 0, mask]);
      } else {
        v6.push([ip.parts, bits]);
      }
    }
  }
  return (ip) => {
    if (ip.kind === 4) {
      const value = ip.value;
      for (let i = 0; i < v4.length; i++) {
        const r = v4[i] as [number, number];
        if ((value & r[1]) >>> 0 === r[0]) return true;
      }
      return false;
    }
    for (let i = 0; i < v6.length; i++) {
      const r = v6[i] as [number[], number];
      if (matchV6(ip.parts, r[0], r[1])) return true;
    }
    return false;
  };
}

function parseRange(range: string, entry: string): [Ip, number] {
  const slash = range.indexOf('/');
  const addr = slash === -1 ? range : range.slice(0, slash);
  const prefix = slash === -1 ? undefined : range.slice(slash + 1);
  // Both must agree: ipaddr.js for the grammar, the strict parser so that a range in the
  // configuration is written the way a proxy writes an address (no `127.1`, no zone index).
  const ip = ipaddr.isValid(addr) ? parseIp(addr) : undefined;
  if (ip === undefined || addr.includes('%')) throw optionError(OPTION_ERROR, WHERE, 'trusted', entry, EXPECTED);
  const writtenV6 = addr.includes(':');
  const max = writtenV6 ? 128 : 32;
  if (prefix !== undefined && (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > max || !ipaddr.isValidCIDR(range))) {
    throw optionError(OPTION_ERROR, WHERE, 'trusted', entry, `has a bad prefix length (0..${max})`);
  }
  let bits = prefix === undefined ? max : Number(prefix);
  if (writtenV6 && ip.kind === 4) {
    // `::ffff:10.0.0.0/8` is really `::/8` in IPv6 terms; proxy-addr reads it as the IPv4
    // /8. Either reading surprises someone, and one of them trusts far too much: refuse.
    if (bits < 96) {
      throw optionError(
        OPTION_ERROR,
        WHERE,
        'trusted',
        entry,
        `is an IPv4-mapped range with a prefix below 96, which trusts far more than the IPv4 range it looks like; write ${ip.text}/${bits} if that is what you mean`,
      );
    }
    bits -= 96;
  }
  return [ip, bits];
}

function matchV6(parts: number[], net: number[], bits: number): boolean {
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const shift = bits >= 16 ? 0 : 16 - bits;
    if ((parts[i] as number) >> shift !== (net[i] as number) >> shift) return false;
  }
  return true;
}
