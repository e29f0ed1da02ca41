import { hostname as osHostname } from 'node:os';
import type { Logger } from 'pino';
import type { AgentConfig } from '../agent/config.js';
import { discoverLocalIp, resolveLocation } from '../agent/geo/index.js';
import { CpuSampler, procReader } from '../agent/metrics/cpu.js';
import { readDisk } from '../agent/metrics/disk.js';
import { createGpuSource } from '../agent/metrics/gpu.js';
import type { GpuSource } from '../agent/metrics/gpu.js';
import { memoryReader } from '../agent/metrics/memory.js';
import { ResourceSampler } from '../agent/metrics/sampler.js';
import { SlidingWindow } from '../agent/metrics/window.js';
import { startMetricsServer } from '../agent/metrics-server.js';
import type { BackoffOptions } from '../agent/reporter/backoff.js';
import { dryRunNotes } from '../agent/dry-run.js';
import { peekClientId, resolveClientId, resolveStateDir } from '../agent/reporter/identity.js';
import { buildRegister, buildStats, NotReadyError } from '../agent/reporter/payload.js';
import type { Identity, Location } from '../agent/reporter/payload.js';
import { Reporter } from '../agent/reporter/reporter.js';
import type { SendOutcome } from '../agent/reporter/reporter.js';
import { createTransport } from '../agent/reporter/transport.js';
import { AgentTelemetry } from '../agent/telemetry.js';
import { every } from '../platform/periodic.js';
import { sleep } from '../platform/sleep.js';
import { realTimers, type Timers } from '../platform/timers.js';

export type { AgentConfig } from '../agent/config.js';
export type { Identity, Location } from '../agent/reporter/payload.js';
export { AgentTelemetry } from '../agent/telemetry.js';

/** What an attached service (e.g. the monitoring worker in src/monitoring/checks/) gets from the agent. */
export interface AgentServiceContext {
  config: AgentConfig;
  logger: Logger;
  clientId: string;
  hostname: string;
  /** Aborts when the agent stops. */
  signal: AbortSignal;
  /** The agent's health figures; `telemetry.registry` (null when metrics_port is 0) is served on /metrics and services may add their own metrics to it. */
  telemetry: AgentTelemetry;
}

export interface AgentService {
  stop(): Promise<void>;
}

/**
 * Starts a service alongside resource reporting. A factory that throws or rejects is logged
 * and skipped: resource reporting never depends on attached services.
 */
export type AgentServiceFactory = (ctx: AgentServiceContext) => AgentService | Promise<AgentService>;

export interface RunAgentOptions {
  logger: Logger;
  /** Sample for `onceSeconds`, send (or with `print`, print) one report, then stop. */
  once?: boolean;
  /** Print the report JSON to `stdout`; with `once` nothing is sent. */
  print?: boolean;
  /** Stops the agent; `runAgent` then resolves with 0. */
  signal?: AbortSignal;
  extraServices?: AgentServiceFactory[];
  stdout?: { write(chunk: string): unknown };
  /** Seconds of sampling before a `once` report (default 3). */
  onceSeconds?: number;
  now?: () => number;
  timers?: Timers;
  /**
   * nvidia-smi binary and query mode: `loop` (default; one long-lived `nvidia-smi -lms`) or
   * `exec` (one call per sample). Without this option, VANTAGE_AGENT_GPU_MODE=exec selects exec.
   */
  nvidiaSmi?: string;
  gpuMode?: 'exec' | 'loop';
  /** Alternative /proc files (tests). */
  procStatPath?: string;
  procMeminfoPath?: string;
  ipapiBaseUrl?: string;
  /** Reporter tuning (tests): breaker open time, backoff, attempts per send. */
  reporter?: { breakerOpenMs?: number; backoff?: BackoffOptions; maxAttempts?: number; breakerThreshold?: number };
  /** Called once identity is known and /metrics (if any) listens. */
  onReady?: (info: { clientId: string; metricsPort: number | null; stateDir: string }) => void;
  /** Called after every report cycle (tests, --print). */
  onReport?: (outcome: SendOutcome | { kind: 'not-ready'; reason: string }) => void;
}

function defaultEndpoint(localIp: string): string {
  return localIp.includes(':') ? `http://[${localIp}]:11000` : `http://${localIp}:11000`;
}

/**
 * Runs the agent: samples CPU/memory/disk/GPU every `sample_interval_seconds` into a window
 * of `window_minutes`, registers, and reports window averages every `report_interval_seconds`.
 * Resolves with the exit code: 0 when `signal` aborts (or after a successful `once`), 1 when a
 * `once` report could not be delivered. Never rejects for server or sampling trouble.
 */
export async function runAgent(config: AgentConfig, opts: RunAgentOptions): Promise<number> {
  const log = opts.logger;
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? realTimers;
  const stop = new AbortController();
  const signal = opts.signal === undefined ? stop.signal : AbortSignal.any([opts.signal, stop.signal]);
  const stdout = opts.stdout ?? process.stdout;
  const sendOnce = opts.once === true && opts.print !== true;
  // `--once --print` is a dry run: it writes nothing (no state file) and contacts nothing (no server, no
  // geolocation service); the printed JSON says where the identity and the location came from instead.
  const dryRun = opts.once === true && opts.print === true;

  const localIp = config.local_ip !== '' ? config.local_ip : discoverLocalIp();
  const stateDir = resolveStateDir(config.state_dir);
  const peeked = dryRun ? await peekClientId(config.client_id, stateDir, log) : null;
  const identity: Identity = {
    clientId: peeked?.id ?? (await resolveClientId(config.client_id, stateDir, log)),
    hostname: config.hostname !== '' ? config.hostname : osHostname(),
    localIp,
    publicIp: '',
    endpointUrl: config.endpoint_url !== '' ? config.endpoint_url : defaultEndpoint(localIp),
    endpoints: config.endpoints,
  };

  const serveMetrics = config.metrics_port > 0 && opts.once !== true;
  const telemetry = serveMetrics ? await AgentTelemetry.prometheus({ processMetrics: true }) : AgentTelemetry.plain();
  const intervalMs = config.sample_interval_seconds * 1000;
  const window = new SlidingWindow({ windowMs: config.window_minutes * 60_000, intervalMs });
  const gpu: GpuSource = createGpuSource({
    binary: opts.nvidiaSmi,
    mode: opts.gpuMode ?? (process.env.VANTAGE_AGENT_GPU_MODE === 'exec' ? 'exec' : 'loop'),
    intervalMs,
    retryMs: config.gpu_retry_seconds * 1000,
    logger: log,
  });
  const statPath = opts.procStatPath ?? '/proc/stat';
  const sampler = new ResourceSampler({
    cpu: new CpuSampler(procReader(statPath)),
    readMemory: memoryReader(opts.procMeminfoPath),
    readDisk: () => readDisk(config.disk_path),
    gpu,
    window,
    logger: log,
    now,
    onDuration: (resource, seconds) => telemetry.sampleDuration(resource, seconds),
  });

  // Tick bookkeeping so the report loop can wait for the first CPU readings.
  const tickWaiters: Array<{ n: number; resolve: () => void }> = [];
  const onTick = (): void => {
    telemetry.gpusEnabled(gpu.enabled);
    for (let i = tickWaiters.length - 1; i >= 0; i--) {
      const w = tickWaiters[i];
      if (w !== undefined && sampler.tickCount >= w.n) {
        tickWaiters.splice(i, 1);
        w.resolve();
      }
    }
  };
  const untilTicks = (n: number): Promise<void> =>
    sampler.tickCount >= n || signal.aborted ? Promise.resolve() : new Promise((resolve) => tickWaiters.push({ n, resolve }));
  signal.addEventListener('abort', () => tickWaiters.splice(0).forEach((w) => w.resolve()), { once: true });

  const locationPromise: Promise<Location> = resolveLocation(config, {
    logger: log,
    localIp,
    ipapiBaseUrl: opts.ipapiBaseUrl,
    offline: dryRun,
  }).then((loc) => {
    log.info({ source: loc.source, latitude: loc.latitude, longitude: loc.longitude, city: loc.city, country: loc.country }, 'location');
    return loc;
  });

  let metrics: Awaited<ReturnType<typeof startMetricsServer>> | null = null;
  if (serveMetrics && telemetry.registry !== null) {
    try {
      metrics = await startMetricsServer(telemetry.registry, config.metrics_host, config.metrics_port);
      log.info({ host: config.metrics_host, port: metrics.port }, 'agent /metrics listening');
    } catch (e) {
      log.error({ err: e, port: config.metrics_port }, 'cannot serve agent /metrics; continuing without it');
    }
  }

  const transport = createTransport({
    serverUrl: config.server_url,
    serverKey: config.server_key,
    insecureTls: config.insecure_tls,
    timeoutMs: config.request_timeout_seconds * 1000,
  });
  const reporter = new Reporter({
    transport,
    logger: log,
    now,
    sleep: (ms, s) => sleep(ms, s, timers),
    telemetry,
    maxAttempts: opts.reporter?.maxAttempts,
    backoff: opts.reporter?.backoff,
    breakerOpenMs: opts.reporter?.breakerOpenMs,
    breakerThreshold: opts.reporter?.breakerThreshold,
  });

  log.info(
    { client_id: identity.clientId, hostname: identity.hostname, server_url: config.server_url, endpoint_url: identity.endpointUrl, state_dir: stateDir },
    'agent starting',
  );
  opts.onReady?.({ clientId: identity.clientId, metricsPort: metrics?.port ?? null, stateDir });

  const sampleLoop = every(
    intervalMs,
    async () => {
      try {
        await sampler.tick();
      } catch (e) {
        log.error({ err: e }, 'sampling failed');
      }
      onTick();
    },
    signal,
    now,
    timers,
  );

  const services: AgentService[] = [];
  if (opts.once !== true) {
    for (const factory of opts.extraServices ?? []) {
      try {
        services.push(await factory({ config, logger: log, clientId: identity.clientId, hostname: identity.hostname, signal, telemetry }));
      } catch (e) {
        log.error({ err: e }, 'an attached agent service failed to start; resource reporting continues without it');
      }
    }
  }

  let exitCode = 0;
  try {
    if (opts.once === true) {
      const seconds = opts.onceSeconds ?? 3;
      await untilTicks(1 + Math.max(1, Math.ceil((seconds * 1000) / intervalMs)));
      const loc = await locationPromise;
      if (!signal.aborted) {
        try {
          const reg = buildRegister(sampler.latest, identity, loc);
          const stats = buildStats(window, sampler.latest, identity, loc, now());
          if (opts.print === true) {
            const report = { register: reg, stats, location_source: loc.source, gpus_enabled: gpu.enabled };
            stdout.write(`${JSON.stringify(peeked ? { ...report, dry_run: dryRunNotes(config, peeked, loc) } : report, null, 2)}\n`);
          }
          if (sendOnce) {
            const outcome = await reporter.cycle(() => reg, () => stats, signal);
            opts.onReport?.(outcome);
            exitCode = outcome.kind === 'ok' ? 0 : 1;
          }
        } catch (e) {
          log.error({ err: e }, 'cannot build a report');
          exitCode = 1;
        }
      }
    } else {
      await untilTicks(2);
      const loc = await locationPromise;
      await every(
        config.report_interval_seconds * 1000,
        async () => {
          try {
            const outcome = await reporter.cycle(
              () => buildRegister(sampler.latest, identity, loc),
              () => {
                const stats = buildStats(window, sampler.latest, identity, loc, now());
                if (opts.print === true) stdout.write(`${JSON.stringify(stats)}\n`);
                return stats;
              },
              signal,
            );
            opts.onReport?.(outcome);
          } catch (e) {
            const reason = e instanceof Error ? e.message : String(e);
            if (e instanceof NotReadyError) {
              telemetry.reportFailed('stats', 'not_ready');
              log.warn({ reason }, 'nothing to report yet');
            } else log.error({ err: e }, 'report cycle failed');
            opts.onReport?.({ kind: 'not-ready', reason });
          }
        },
        signal,
        now,
        timers,
      );
    }
  } finally {
    stop.abort();
    await sampleLoop;
    await Promise.allSettled(services.map((s) => s.stop()));
    gpu.stop();
    await transport.close().catch(() => undefined);
    await metrics?.close();
    log.info('agent stopped');
  }
  return exitCode;
}
