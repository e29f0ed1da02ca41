/**
 * What every CLI command that talks to a running server shares: a Connect client (JSON over HTTP/1.1, with
 * X-API-Key from the flag or $VANTAGE_API_KEY), a column table, and the wrapper that maps an error to an exit code.
 */
import { createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import type { DescService } from '@bufbuild/protobuf';
import type { Command } from 'commander';

/** The flags of every command that talks to a running server: --server, --api-key, --timeout and --json. */
export function connectOptions(c: Command, timeout = '10s'): Command {
  return c
    .option('--server <url>', 'server URL (default: $VANTAGE_SERVER_URL or http://127.0.0.1:8080)', process.env.VANTAGE_SERVER_URL ?? 'http://127.0.0.1:8080')
    .option('--api-key <key>', 'X-API-Key (default: $VANTAGE_API_KEY)')
    .option('--timeout <duration>', 'request timeout, e.g. 10s or 500ms (a bare number is seconds)', timeout)
    .option('--json', 'print JSON');
}

export function serviceClient<S extends DescService>(service: S, opts: { server: string; apiKey?: string; timeoutMs: number }): Client<S> {
  const key = opts.apiKey ?? process.env.VANTAGE_API_KEY ?? '';
  const withKey: Interceptor = (next) => (req) => {
    if (key !== '') req.header.set('x-api-key', key);
    return next(req);
  };
  return createClient(
    service,
    createConnectTransport({ baseUrl: opts.server, httpVersion: '1.1', useBinaryFormat: false, interceptors: [withKey], defaultTimeoutMs: opts.timeoutMs }),
  );
}

/** Rows as left-aligned columns, two spaces apart; the first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
