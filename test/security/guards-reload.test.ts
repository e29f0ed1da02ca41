import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { installRejectionGuard, UNHANDLED_REJECTION_EXIT_CODE } from '../../src/platform/process-guards.js';
import { changedKeys, ConfigReloader, onSighup, SERVER_LIVE_KEYS } from '../../src/http/reload.js';
import { applyServerTimeouts, httpServerTimeouts } from '../../src/http/timeouts.js';

function recordingLogger() {
  const lines: Array<{ level: string; obj: unknown; msg: string }> = [];
  const at = (level: string) => (obj: unknown, msg?: string) => {
    lines.push({ level, obj, msg: msg ?? '' });
  };
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal') } };
}

describe('installRejectionGuard', () => {
  it('logs and counts rejections and keeps running by default', () => {
    const proc = new EventEmitter();
    const { lines, logger } = recordingLogger();
    let count = 0;
    const exits: number[] = [];
    const off = installRejectionGuard({ logger, exitOnUnhandledRejection: () => false, count: () => count++, proc: proc as never, exit: (c) => exits.push(c) });
    proc.emit('unhandledRejection', new Error('boom'));
    proc.emit('unhandledRejection', 'a string reason');
    expect(count).toBe(2);
    expect(exits).toEqual([]);
    expect(lines.map((l) => l.level)).toEqual(['error', 'error']);
    expect((lines[0]!.obj as { err: Error }).err.message).toBe('boom');
    expect((lines[1]!.obj as { err: Error }).err.message).toContain('a string reason');
    expect(lines[0]!.msg).toContain('exit_on_unhandled_rejection');
    off();
    expect(proc.listenerCount('unhandledRejection')).toBe(0);
  });

  it('exits with 70 when exit_on_unhandled_rejection is on (read at rejection time)', () => {
    const proc = new EventEmitter();
    const { lines, logger } = recordingLogger();
    let exitOn = false;
    const exits: number[] = [];
    installRejectionGuard({ logger, exitOnUnhandledRejection: () => exitOn, proc: proc as never, exit: (c) => exits.push(c) });
    proc.emit('unhandledRejection', new Error('first'));
    exitOn = true;
    proc.emit('unhandledRejection', new Error('second'));
    expect(exits).toEqual([UNHANDLED_REJECTION_EXIT_CODE]);
    expect(lines.at(-1)?.level).toBe('fatal');
  });
});

interface Cfg {
  port: number;
  rate: number;
  tiers: string[];
}

describe('ConfigReloader', () => {
  it('applies a valid config to every component and reports changed and restart-only keys', () => {
    let next: Cfg = { port: 1, rate: 60, tiers: ['a'] };
    const { lines, logger } = recordingLogger();
    const r = new ConfigReloader<Cfg>({ load: () => next, initial: { port: 1, rate: 60, tiers: ['a'] }, logger, liveKeys: ['rate', 'tiers'] });
    const applied: Cfg[] = [];
    r.register({ name: 'limiter', prepare: (n) => () => applied.push(n) });
    next = { port: 2, rate: 120, tiers: ['a', 'b'] };
    const res = r.reload();
    expect(res).toEqual({ ok: true, changed: ['port', 'rate', 'tiers'], restartRequired: ['port'] });
    expect(applied).toEqual([next]);
    expect(r.config).toBe(next);
    expect(lines.some((l) => l.level === 'warn' && l.msg.includes('port'))).toBe(true);
  });

  it('keeps the old config when loading fails, with the reason logged', () => {
    const { lines, logger } = recordingLogger();
    const initial = { port: 1, rate: 60, tiers: [] };
    const r = new ConfigReloader<Cfg>({
      load: () => {
        throw new ConfigError(['server.yml: rate_limit_burst: expected a positive integer, got 0']);
      },
      initial,
      logger,
    });
    let committed = 0;
    r.register({ name: 'x', prepare: () => () => committed++ });
    const res = r.reload();
    expect(res.ok).toBe(false);
    expect(!res.ok && res.error).toContain('rate_limit_burst');
    expect(committed).toBe(0);
    expect(r.config).toBe(initial);
    expect(lines[0]?.level).toBe('error');
    expect(lines[0]?.msg).toContain('keeping the running configuration');
  });

  it('commits nothing when one component rejects the new config', () => {
    const { logger } = recordingLogger();
    const initial = { port: 1, rate: 60, tiers: [] };
    const r = new ConfigReloader<Cfg>({ load: () => ({ port: 1, rate: -1, tiers: [] }), initial, logger });
    const commits: string[] = [];
    r.register({ name: 'first', prepare: () => () => commits.push('first') });
    r.register({
      name: 'limiter',
      prepare: (n) => {
        if (n.rate <= 0) throw new Error('rate_limit_per_minute: expected a positive number');
        return () => commits.push('limiter');
      },
    });
    const res = r.reload();
    expect(res).toEqual({ ok: false, error: 'rate_limit_per_minute: expected a positive number', stage: 'limiter' });
    expect(commits).toEqual([]);
    expect(r.config).toBe(initial);
  });

  it('changedKeys compares values deeply', () => {
    expect(changedKeys({ a: [1, 2], b: { c: 1 }, d: 1 }, { a: [1, 2], b: { c: 2 }, e: 1 })).toEqual(['b', 'd', 'e']);
    expect(SERVER_LIVE_KEYS).toContain('whitelisted_ips');
    expect(SERVER_LIVE_KEYS).not.toContain('port');
  });

  it('onSighup calls reload on each SIGHUP until removed', () => {
    const proc = new EventEmitter();
    let n = 0;
    const off = onSighup(() => n++, proc as never);
    proc.emit('SIGHUP');
    proc.emit('SIGHUP');
    off();
    proc.emit('SIGHUP');
    expect(n).toBe(2);
  });
});

describe('server timeouts', () => {
  it('derive Node server options from the config, header timeout capped at the request timeout', () => {
    expect(httpServerTimeouts({ request_timeout_seconds: 30, read_header_timeout_seconds: 10, idle_timeout_seconds: 120 })).toEqual({
      requestTimeout: 30_000,
      headersTimeout: 10_000,
      keepAliveTimeout: 120_000,
      connectionsCheckingInterval: 1_000,
      requireHostHeader: true,
      handshakeTimeout: 10_000,
    });
    expect(httpServerTimeouts({ request_timeout_seconds: 5, read_header_timeout_seconds: 10, idle_timeout_seconds: 120 }).headersTimeout).toBe(5_000);
  });

  it('applyServerTimeouts updates a running server', () => {
    const s = { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 };
    applyServerTimeouts(s, { request_timeout_seconds: 60, read_header_timeout_seconds: 20, idle_timeout_seconds: 120 });
    expect(s).toEqual({ requestTimeout: 60_000, headersTimeout: 20_000, keepAliveTimeout: 120_000 });
    applyServerTimeouts(s, { request_timeout_seconds: 2, read_header_timeout_seconds: 20, idle_timeout_seconds: 30 });
    expect(s).toEqual({ requestTimeout: 2_000, headersTimeout: 2_000, keepAliveTimeout: 30_000 });
  });
});
