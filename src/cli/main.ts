#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { CLIENT_FIELDS, CLIENT_FLAG_ALIASES } from '../config/client.js';
import { ConfigError, loadClientConfig, loadServerConfig } from '../config/load.js';
import { SERVER_FIELDS, SERVER_FLAG_ALIASES } from '../config/server.js';
import { createLogger } from '../platform/log.js';
import { registerConfigCommand } from './config-command.js';
import { registerEnrollCommand, registerWorkerCommand } from './worker-command.js';
import { addConfigOptions, flagsFromOptions, normaliseArgv } from './options.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Prints a configuration problem the way operators need it: one line per issue, exit code 2. */
function configFailure(err: unknown): never {
  if (err instanceof ConfigError) {
    for (const w of err.warnings) process.stderr.write(`warning: ${w}\n`);
    for (const line of err.issues) process.stderr.write(`error: ${line}\n`);
    process.stderr.write('Configuration is invalid; nothing was started. See `vantage config defaults` for every key.\n');
    process.exit(2);
  }
  throw err;
}

function parseDemoPort(v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`error: --demo-port: expected an integer from 0 to 65535, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return n;
}

function printWarnings(warnings: string[]): void {
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
}

export function buildProgram(): Command {
  const program = new Command('vantage')
    .description(
      'Vantage: a resource-aware load balancer and a distributed uptime-monitoring control plane.\n' +
        'Configuration: YAML file, then VANTAGE_* environment variables, then flags (later wins).',
    )
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)');

  const server = new Command('server')
    .description('Run the load balancer / control-plane server (management API, proxy, health checks, worker API).')
    .option('-c, --config <file>', 'server.yml to load')
    .option('--with-agent', 'also run a local agent reporting this machine, plus a demo backend on :11000 (what `npm start` does)')
    .option('--demo-port <n>', 'port of the --with-agent demo backend (0 = any free port)', '11000');
  addConfigOptions(server, SERVER_FIELDS, SERVER_FLAG_ALIASES).action(async (opts: Record<string, unknown>) => {
    let loaded;
    try {
      loaded = loadServerConfig({ file: opts.config as string | undefined, env: process.env, flags: flagsFromOptions(opts, SERVER_FIELDS, SERVER_FLAG_ALIASES) });
    } catch (err) {
      configFailure(err);
    }
    printWarnings(loaded.warnings);
    const logger = createLogger({ level: loaded.config.log_level, json: loaded.config.json_logging, name: 'server' });
    const { runServer } = await import('./server-command.js');
    const file = opts.config as string | undefined;
    const flags = flagsFromOptions(opts, SERVER_FIELDS, SERVER_FLAG_ALIASES);
    process.exitCode = await runServer(loaded.config, {
      logger,
      configPath: file,
      withAgent: Boolean(opts.withAgent),
      demoPort: parseDemoPort(opts.demoPort),
      // SIGHUP re-reads the file and environment and re-applies the same flags, so overrides survive a reload.
      loadConfig: () => {
        const reloaded = loadServerConfig({ file, env: process.env, flags });
        printWarnings(reloaded.warnings);
        return reloaded.config;
      },
    });
    // Shutdown has closed everything it knows of. A handle still open after that (on PostgreSQL a stray socket
    // to the database was seen, intermittently) must not keep a stopped server alive: name it and exit.
    setTimeout(() => {
      logger.warn({ open: process.getActiveResourcesInfo() }, 'still running 2 s after shutdown; exiting');
      process.exit();
    }, 2_000).unref();
  });
  program.addCommand(server);

  const agent = new Command('agent')
    .description('Run the agent on a backend: report CPU/RAM/disk/GPU to the server and run the monitoring checks of its region.')
    .option('-c, --config <file>', 'client.yml to load')
    .option('--once', 'sample for a few seconds, then stop')
    .option(
      '--print',
      'print what would be reported (JSON); with --once a dry run that writes nothing (no state file) and contacts nothing (no server, no geolocation service)',
    );
  addConfigOptions(agent, CLIENT_FIELDS, CLIENT_FLAG_ALIASES).action(async (opts: Record<string, unknown>) => {
    let loaded;
    try {
      loaded = loadClientConfig({ file: opts.config as string | undefined, env: process.env, flags: flagsFromOptions(opts, CLIENT_FIELDS, CLIENT_FLAG_ALIASES) });
    } catch (err) {
      configFailure(err);
    }
    printWarnings(loaded.warnings);
    const print = Boolean(opts.print);
    // With --print, stdout carries the JSON report; logs go to stderr.
    const logger = createLogger({ level: loaded.config.log_level, json: loaded.config.json_logging, name: 'agent', fd: print ? 2 : 1 });
    const controller = new AbortController();
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) process.exit(130);
      logger.info({ signal: sig }, 'stopping agent');
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (process.env.VANTAGE_AGENT_EXIT_WITH_PARENT === '1') {
      // Started by `vantage server --with-agent`: stdin is a pipe from the server; its end means the server died.
      const parentGone = () => {
        if (controller.signal.aborted) return;
        logger.warn('the server that started this agent has exited; stopping');
        controller.abort();
      };
      process.stdin.on('end', parentGone).on('close', parentGone).on('error', parentGone);
      process.stdin.resume();
      controller.signal.addEventListener('abort', () => process.stdin.destroy(), { once: true });
    }
    const { runAgent } = await import('../app/agent.js');
    // The monitoring worker (Connect/HTTP/2 client) is loaded only when it runs, to keep the agent small.
    const extraServices =
      loaded.config.monitoring_enabled && !opts.once && !print
        ? [(await import('../agent/worker/service.js')).monitoringWorkerService(loaded.config)]
        : [];
    process.exitCode = await runAgent(loaded.config, { logger, once: Boolean(opts.once), print, signal: controller.signal, extraServices });
  });
  registerEnrollCommand(agent);
  program.addCommand(agent);
  registerWorkerCommand(program);

  registerConfigCommand(program);
  return program;
}

/**
 * Operator commands that talk to a running server. They are not loaded for `vantage agent`, which keeps
 * the long-running agent process small (the Connect client and generated code cost several MB).
 */
async function registerClientCommands(program: Command): Promise<void> {
  const [{ registerRouteCommand }, { registerMonitorCommand }, { registerUserCommand }, { registerAlertCommands }, { registerStatusPageCommands }] = await Promise.all([
    import('./route-command.js'),
    import('./monitor.js'),
    import('./user-command.js'),
    import('./alert-command.js'),
    import('./status-page-command.js'),
  ]);
  registerRouteCommand(program);
  registerMonitorCommand(program);
  registerUserCommand(program);
  registerAlertCommands(program);
  registerStatusPageCommands(program);
}

async function main(): Promise<void> {
  const program = buildProgram();
  const argv = normaliseArgv(process.argv);
  if (argv[2] !== 'agent') await registerClientCommands(program);
  await program.parseAsync(argv);
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env.VANTAGE_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
  process.exit(1);
});
