/**
 * A real agent process for end-to-end tests and the bench: resource reporting
 * (runAgent) plus the monitoring worker attached as an extra service, exactly
 * as `vantage agent` runs it. Configuration comes as JSON in VANTAGE_TEST_AGENT
 * (client.yml keys). Prints one JSON line of worker stats to stdout every
 * `stats_every_ms` (when set) and on SIGTERM before exiting.
 */
import pino from 'pino';
import { monitoringWorkerService } from '../../../src/agent/worker/service.js';
import { startMonitoringWorker } from '../../../src/agent/worker/worker.js';
import type { MonitoringWorker } from '../../../src/agent/worker/worker.js';
import { runAgent } from '../../../src/app/agent.js';
import { ClientConfigSchema } from '../../../src/config/client.js';

const raw = JSON.parse(process.env.VANTAGE_TEST_AGENT ?? '{}') as Record<string, unknown> & { stats_every_ms?: number; worker_only?: boolean };
const { stats_every_ms: statsEvery, worker_only: workerOnly, ...keys } = raw;
const config = ClientConfigSchema.parse(keys);
const logger = pino({ level: config.log_level }, pino.destination(2));
const controller = new AbortController();

let worker: MonitoringWorker | null = null;
const print = (): void => {
  if (worker) process.stdout.write(`${JSON.stringify({ stats: worker.stats(), cpu: process.cpuUsage(), rss: process.memoryUsage().rss })}\n`);
};
if (statsEvery) setInterval(print, statsEvery).unref();

const stop = (): void => controller.abort();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

if (workerOnly) {
  worker = startMonitoringWorker(config, { logger, hostname: config.hostname || 'test-agent' });
  await new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
  await worker.stop();
} else {
  const factory = monitoringWorkerService(config);
  await runAgent(config, {
    logger,
    signal: controller.signal,
    extraServices: [
      async (ctx) => {
        const svc = await factory(ctx);
        worker = (svc as { worker?: MonitoringWorker }).worker ?? null;
        return svc;
      },
    ],
  });
}
print();
process.exit(0);
