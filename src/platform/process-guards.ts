import type { Logger } from 'pino';

/**
 * Unhandled promise rejections: logged with their stack and counted, and fatal only when
 * `exit_on_unhandled_rejection` is true (Node's own default would kill the server on the first one).
 */
export interface RejectionGuardOptions {
  logger: Pick<Logger, 'error' | 'fatal'>;
  /** Read on every rejection, so a config reload changes it. */
  exitOnUnhandledRejection: () => boolean;
  /** Called once per rejection (e.g. a prom-client counter's inc). */
  count?: () => void;
  /** Defaults to `process`. */
  proc?: Pick<NodeJS.Process, 'on' | 'off'>;
  /** Defaults to process.exit; called with 70 (EX_SOFTWARE) when configured to exit. */
  exit?: (code: number) => void;
}

export const UNHANDLED_REJECTION_EXIT_CODE = 70;

/** Installs the handler; returns a function that removes it. */
export function installRejectionGuard(opts: RejectionGuardOptions): () => void {
  const proc = opts.proc ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const onRejection = (reason: unknown) => {
    opts.count?.();
    const err = reason instanceof Error ? reason : new Error(`non-Error rejection: ${describe(reason)}`);
    if (opts.exitOnUnhandledRejection()) {
      opts.logger.fatal({ err }, 'unhandled promise rejection; exiting because exit_on_unhandled_rejection is true');
      exit(UNHANDLED_REJECTION_EXIT_CODE);
      return;
    }
    opts.logger.error({ err }, 'unhandled promise rejection (the server keeps running; set exit_on_unhandled_rejection: true to exit instead)');
  };
  proc.on('unhandledRejection', onRejection);
  return () => {
    proc.off('unhandledRejection', onRejection);
  };
}

function describe(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.slice(0, 200);
  } catch {
    return String(v);
  }
}
