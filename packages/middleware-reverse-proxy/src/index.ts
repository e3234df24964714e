export { reverseProxy, plankMiddleware, type ReverseProxyOptions, type TrustedEntry } from './reverse-proxy.js';
export type { TrustFunction, TrustPreset } from './trust.js';
export { PEER_ADDR, PEER_PORT } from './rewrite.js';
