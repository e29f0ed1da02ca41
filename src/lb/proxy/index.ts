export { createProxy, createProxyWithSettings, proxySettingsFromConfig } from './proxy.js';
export type { Proxy, ProxyContext } from './proxy.js';
export type { Locate, ProxyEnginePort, ProxySettings } from './core.js';
export { compilePrefixes, pathOf, originForm } from './prefixes.js';
export { detectTier, isJsonContentType, tierFromJsonBody, tierFromQuery } from './tier.js';
export type { DetectedTier, TierSource } from './tier.js';
export { upstreamRequestHeaders, downstreamResponseHeaders, isHopByHop, VIA } from './headers.js';
export { OutlierDetector } from './outlier.js';
