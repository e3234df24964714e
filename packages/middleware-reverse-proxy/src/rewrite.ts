import type { Env } from '@plank/core';
import { isPort, parseNode } from './address.js';
import { parseForwarded, type ForwardedElement } from './forwarded.js';
import type { Matcher } from './trust.js';

/** Where the socket peer's address and port are kept once REMOTE_ADDR is rewritten. */
export const PEER_ADDR = 'plank.reverse_proxy.peer_addr';
export const PEER_PORT = 'plank.reverse_proxy.peer_port';

type Client = { addr: string; port: string | undefined };
type Scheme = 'http' | 'https';

/**
 * The last item of a comma-separated list that ends before `end`, trimmed, skipping empty
 * ones (RFC 9110 §5.6.1), and where the search for the one before it ends (-1: nothing left).
 * Lists are read from the right without splitting, so a long forged prefix costs nothing.
 */
function itemBefore(value: string, end: number): [item: string, next: number] | undefined {
  while (end > 0) {
    const comma = value.lastIndexOf(',', end - 1);
    const item = value.slice(comma + 1, end).trim();
    if (item !== '') return [item, comma];
    if (comma === -1) return undefined;
    end = comma;
  }
  return undefined;
}

function lastItem(value: string | undefined): string | undefined {
  return value === undefined ? undefined : itemBefore(value, value.length)?.[0];
}

/**
 * The right-to-left walk over X-Forwarded-For (proxy-addr's rule): skip hops you trust;
 * the first one you do not trust is the client, and when all are trusted, the leftmost.
 * An entry that is not an address stops the walk and is the client as written, so it can
 * never match an allow list. Undefined when the list has no items.
 */
export function walkList(value: string, trust: Matcher): Client | undefined {
  // One hop (one proxy in front, the usual case): the item is the whole value, so no
  // list is walked and nothing is allocated for it.
  if (value.indexOf(',') === -1) {
    const raw = value.trim();
    if (raw === '') return undefined;
    const node = parseNode(raw);
    return node === undefined ? { addr: raw, port: undefined } : { addr: node.ip.text, port: node.port };
  }
  let next = itemBefore(value, value.length);
  for (let hopIndex = 1; next !== undefined; hopIndex++) {
    const [raw, at] = next;
    const node = parseNode(raw);
    if (node === undefined) return { addr: raw, port: undefined };
    next = itemBefore(value, at);
    if (next === undefined || !trust(node.ip, hopIndex)) return { addr: node.ip.text, port: node.port };
  }
  return undefined;
}

/** The same walk over parsed Forwarded elements; also returns the index it stopped at. */
function walkElements(hops: ForwardedElement[], trust: Matcher): [Client, number] {
  for (let i = hops.length - 1, hopIndex = 1; i >= 0; i--, hopIndex++) {
    const raw = forOf(hops[i] as ForwardedElement);
    const node = parseNode(raw);
    if (node === undefined) return [{ addr: raw, port: undefined }, i];
    if (i === 0 || !trust(node.ip, hopIndex)) return [{ addr: node.ip.text, port: node.port }, i];
  }
  throw new Error('unreachable: a Forwarded walk needs at least one element');
}

function setClient(env: Env, client: Client): void {
  // The first rewrite keeps the socket's values; a second ReverseProxy layer must not lose them.
  if (env[PEER_ADDR] === undefined) {
    env[PEER_ADDR] = env.REMOTE_ADDR;
    env[PEER_PORT] = env.REMOTE_PORT;
  }
  env.REMOTE_ADDR = client.addr;
  // The socket's port belongs to the proxy, not the client: keep it only under PEER_PORT.
  if (client.port !== undefined) env.REMOTE_PORT = client.port;
  else env.REMOTE_PORT = undefined;
}

function schemeOf(proto: string | undefined): Scheme | undefined {
  if (proto === undefined) return undefined;
  const p = proto.toLowerCase();
  if (p === 'https' || p === 'wss') return 'https';
  if (p === 'http' || p === 'ws') return 'http';
  return undefined;
}

function onOff(value: string | undefined): Scheme | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  return v === 'on' ? 'https' : v === 'off' ? 'http' : undefined;
}

// RFC 3986 §3.2.2 host (reg-name, IPv4 or [IPv6]) with an optional port.
const AUTHORITY = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+;=%]+)(?::([0-9]{1,5}))?$/;

/** `host[:port]` split and checked, or undefined. */
export function parseAuthority(value: string): { name: string; port: string | undefined } | undefined {
  const m = AUTHORITY.exec(value);
  if (!m) return undefined;
  const port = m[2];
  if (port !== undefined && !isPort(port)) return undefined;
  return { name: m[1] as string, port };
}

/** The Host header as the server accepted it, split at its port (not re-validated: it is only re-emitted). */
function splitHostPort(value: string): { name: string; port: string | undefined } {
  const colon = value.lastIndexOf(':');
  if (colon === -1 || value.indexOf(']', colon) !== -1) return { name: value, port: undefined };
  const port = value.slice(colon + 1);
  return isPort(port) ? { name: value.slice(0, colon), port } : { name: value, port: undefined };
}

/**
 * Applies what the proxy says about the request the client made: scheme, host and port.
 * Does nothing unless at least one of them was given and valid; then SERVER_PORT follows
 * the URL the client used (explicit port, else the scheme's default), so URL builders agree.
 */
function setAuthority(env: Env, scheme: Scheme | undefined, host: string | undefined, port: string | undefined): void {
  const fromProxy = host === undefined ? undefined : parseAuthority(host);
  if (scheme === undefined && fromProxy === undefined && port === undefined) return;
  if (scheme !== undefined) env['psgi.url_scheme'] = scheme;
  const finalScheme = env['psgi.url_scheme'];
  const defaultPort = finalScheme === 'https' ? '443' : '80';
  const current = env.HTTP_HOST === undefined ? undefined : splitHostPort(env.HTTP_HOST);
  const name = fromProxy?.name ?? current?.name;
  const finalPort = fromProxy?.port ?? port ?? (fromProxy ? undefined : current?.port) ?? defaultPort;
  env.SERVER_PORT = finalPort;
  if (fromProxy) env.SERVER_NAME = fromProxy.name;
  if (name !== undefined && (fromProxy !== undefined || env.HTTP_HOST !== undefined)) {
    env.HTTP_HOST = finalPort === defaultPort ? name : `${name}:${finalPort}`;
  }
}

/** `headers: 'x-forwarded'`: X-Forwarded-For, -Proto, -HTTPS, -Ssl, -Host, -Port. */
export function rewriteXForwarded(env: Env, trust: Matcher): void {
  const xff = env.HTTP_X_FORWARDED_FOR;
  if (xff !== undefined) {
    const client = walkList(xff, trust);
    if (client !== undefined) setClient(env, client);
  }
  const scheme =
    schemeOf(lastItem(env.HTTP_X_FORWARDED_PROTO)) ??
    onOff(env.HTTP_X_FORWARDED_HTTPS) ??
    onOff(env.HTTP_X_FORWARDED_SSL);
  const port = lastItem(env.HTTP_X_FORWARDED_PORT);
  setAuthority(
    env,
    scheme,
    lastItem(env.HTTP_X_FORWARDED_HOST),
    port !== undefined && isPort(port) && port !== '0' ? port : undefined,
  );
}

/**
 * `headers: 'forwarded'` (RFC 7239). Scheme and host come from the element where the walk
 * stopped: that element was written by the outermost proxy you trust, the one the client
 * itself talked to. Returns false when there was no usable Forwarded header.
 */
export function rewriteForwarded(env: Env, trust: Matcher): boolean {
  const header = env.HTTP_FORWARDED;
  if (header === undefined) return false;
  const elements = parseForwarded(header);
  if (elements.length === 0) return false;
  const [client, at] = walkElements(elements, trust);
  setClient(env, client);
  const el = elements[at] as ForwardedElement;
  setAuthority(env, schemeOf(el.proto), el.host, undefined);
  return true;
}

function forOf(el: ForwardedElement): string {
  if (el.bad) return el.raw;
  // RFC 7239 §6.2: a hop that did not disclose its client is "unknown".
  return el.for ?? 'unknown';
}
