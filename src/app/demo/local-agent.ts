import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';

export interface LocalAgent {
  readonly child: ChildProcess;
  stop(timeoutMs?: number): Promise<void>;
}

export interface LocalAgentOptions {
  /** dist/cli/main.js (the agent is run as `node main.js agent ...`). */
  mainScript: string;
  serverUrl: string;
  serverKey: string;
  endpointUrl: string;
  stateDir: string;
  /** Worker API URL when the monitoring control plane runs; null turns the agent's monitoring off. */
  workerUrl: string | null;
  reportIntervalSeconds?: number;
  /** A one-time enrollment token and the CA fingerprint to pin (worker certificates on); null = none. */
  enrollment?: { token: string; caFingerprint: string } | null;
  logger: Logger;
}

/** Spawns `vantage agent` as a child process reporting this machine to the local server. */
export function spawnLocalAgent(opts: LocalAgentOptions): LocalAgent | null {
  if (!existsSync(opts.mainScript) || !opts.mainScript.endsWith('.js')) {
    opts.logger.warn({ script: opts.mainScript }, 'local agent not started: build first (npm run build)');
    return null;
  }
  const args = [
    opts.mainScript,
    'agent',
    '--server-url',
    opts.serverUrl,
    '--endpoint-url',
    opts.endpointUrl,
    '--state-dir',
    opts.stateDir,
    '--skip-geolocation',
    'true',
    '--report-interval-seconds',
    // A demo on the same machine: report often so the backend's figures follow the machine closely.
    String(opts.reportIntervalSeconds ?? 2),
    '--window-minutes',
    '1',
  ];
  if (opts.workerUrl !== null) args.push('--worker-url', opts.workerUrl);
  else args.push('--monitoring-enabled', 'false');
  // The key travels in the environment, not argv (visible in `ps`). The child's stdin is a pipe from this
  // process: when the server dies, even by SIGKILL, the pipe closes and the agent stops instead of being left
  // behind reporting to nobody (VANTAGE_AGENT_EXIT_WITH_PARENT).
  const env: NodeJS.ProcessEnv = { ...process.env, VANTAGE_SERVER_KEY: opts.serverKey, VANTAGE_AGENT_EXIT_WITH_PARENT: '1' };
  if (opts.enrollment) {
    env.VANTAGE_ENROLLMENT_TOKEN = opts.enrollment.token;
    env.VANTAGE_CA_FINGERPRINT = opts.enrollment.caFingerprint;
  }
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'inherit', 'inherit'], env });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      if (!stopping) opts.logger.warn({ code, signal }, 'local agent exited');
      resolve();
    });
  });
  child.once('error', (err) => opts.logger.error({ err }, 'local agent failed to start'));
  let stopping = false;
  return {
    child,
    async stop(timeoutMs = 5000) {
      stopping = true;
      if (exited) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
          resolve();
        }, timeoutMs);
      });
      await Promise.race([exit, killed]);
      clearTimeout(timer);
      await exit;
    },
  };
}
