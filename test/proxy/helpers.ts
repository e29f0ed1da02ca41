import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { DEFAULT_TIERS, type Tier } from '../../src/config/tiers.js';
import { RoutingEngine } from '../../src/lb/routing/index.js';
import type { BackendStats, EngineOptions } from '../../src/lb/routing/types.js';
import { createProxyWithSettings, type Proxy, type ProxyContext, type ProxySettings } from '../../src/lb/proxy/index.js';

export interface Started {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Starts a node:http server on 127.0.0.1:port (0 = ephemeral); close() also drops open connections. */
export async function listen(handler: RequestListener, port = 0): Promise<Started> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const p = (server.address() as AddressInfo).port;
  return {
    server,
    port: p,
    url: `http://127.0.0.1:${p}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export const TEST_TIERS: Tier[] = [
  { name: 'a', vcpu: 1, memory_gb: 1, storage_gb: 1, gpu: 0, gpu_memory_gb: 0 },
  { name: 'b', vcpu: 1, memory_gb: 20, storage_gb: 1, gpu: 0, gpu_memory_gb: 0 },
];

export function makeEngine(opts: Partial<EngineOptions> = {}): RoutingEngine {
  return new RoutingEngine({
    tiers: opts.tiers ?? TEST_TIERS,
    staleMinutes: 5,
    pendingTimeoutSeconds: 120,
    stickyAffinity: true,
    healthCheckEnabled: true,
    ...opts,
  });
}

/** Registers a backend with 8 cores at `cpu` % and `memAvailGb` of 32 GB free; lower cpu = better score. */
export function addBackend(engine: RoutingEngine, id: string, endpoint: string, o: { cpu?: number; memAvailGb?: number } = {}): void {
  engine.register({
    clientId: id,
    hostname: `host-${id}`,
    endpoint,
    lat: null,
    lon: null,
    totalCpu: 8,
    totalMemoryGb: 32,
    totalStorageGb: 500,
    totalGpus: 0,
    gpuModels: [],
  });
  engine.reportStats(id, stats(o.cpu ?? 10, o.memAvailGb ?? 24));
}

export function stats(cpu: number, memAvailGb: number): BackendStats {
  return {
    timestamp: Date.now(),
    cpuUsage: new Array<number>(8).fill(cpu),
    memoryTotalGb: 32,
    memoryUsedGb: 32 - memAvailGb,
    memoryAvailGb: memAvailGb,
    diskTotalGb: 500,
    diskUsedGb: 100,
    diskAvailGb: 400,
    gpus: [],
  };
}

export function settings(over: Partial<ProxySettings> = {}): ProxySettings {
  return {
    prefixes: ['/api'],
    tierField: 'tier',
    tierHeader: 'x-tier',
    stickyHeader: 'x-session-id',
    stickyByIp: false,
    maxBodyBytes: 10 * 1024 * 1024,
    timeoutMs: 5_000,
    sseFlushIntervalMs: -1,
    backendHeader: true,
    outlierThreshold: 5,
    healthEnabled: true,
    tlsInsecureSkipVerify: false,
    retryAfterSeconds: 5,
    idleTimeoutMs: 120_000,
    halfCloseTimeoutMs: 5_000,
    ...over,
  };
}

export interface ProxyServer extends Started {
  proxy: Proxy;
}

/** A node:http server whose non-matching paths answer 404 and matching ones go through the proxy. */
export async function startProxy(engine: RoutingEngine, over: Partial<ProxySettings> = {}, ctx: Partial<ProxyContext> = {}): Promise<ProxyServer> {
  const proxy = createProxyWithSettings(settings(over), { engine, ...ctx });
  const s = await listen((req: IncomingMessage, res: ServerResponse) => {
    const q = (req.url ?? '/').indexOf('?');
    const path = q === -1 ? (req.url ?? '/') : (req.url ?? '/').slice(0, q);
    if (path === '/health') {
      res.end('management');
      return;
    }
    if (proxy.matches(path)) proxy.handle(req, res);
    else {
      res.statusCode = 404;
      res.end('not proxied');
    }
  });
  s.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => proxy.handleUpgrade(req, socket, head));
  const close = s.close;
  return {
    ...s,
    proxy,
    close: async () => {
      await proxy.close();
      await close();
    },
  };
}

/** Polls `cond` every 5 ms until it is true or `ms` pass (then throws with `what`). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export { DEFAULT_TIERS };
