/**
 * DNS probe: resolve A/AAAA/CNAME/MX/TXT with node:dns's Resolver, against the
 * system resolvers or the configured `ip[:port]`. Up when at least one record
 * comes back. For assertions the records are the body (one per line) and the
 * JSON document (an array of strings).
 */
import { Resolver } from 'node:dns/promises';
import { performance } from 'node:perf_hooks';
import type { DnsRecordType } from './record-types.js';
import { parseResolver } from './spec.js';
import { classifyError, errorMessage } from '../errors.js';
import { emptyOutcome, ms } from '../types.js';
import type { ProbeOptions, ProbeOutcome } from '../types.js';

async function query(r: Resolver, name: string, type: DnsRecordType): Promise<string[]> {
  switch (type) {
    case 'A':
      return r.resolve4(name);
    case 'AAAA':
      return r.resolve6(name);
    case 'CNAME':
      return r.resolveCname(name);
    case 'MX':
      return (await r.resolveMx(name)).sort((a, b) => a.priority - b.priority).map((m) => `${m.priority} ${m.exchange}`);
    case 'TXT':
      return (await r.resolveTxt(name)).map((chunks) => chunks.join(''));
  }
}

export async function probeDns(
  name: string,
  recordType: DnsRecordType,
  resolver: string | undefined,
  timeoutMs: number,
  opts: Pick<ProbeOptions, 'signal'>,
): Promise<ProbeOutcome> {
  const out = emptyOutcome();
  const r = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (resolver !== undefined) {
    const s = parseResolver(resolver);
    if (s === null) {
      out.error = `invalid resolver ${resolver}`;
      out.error_class = 'dns';
      return out;
    }
    r.setServers([s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`]);
  }
  out.dns = { record_type: recordType, records: [], resolver: resolver ?? null };
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const onAbort = (): void => {
    timedOut = true;
    r.cancel();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    timer = setTimeout(onAbort, timeoutMs);
    const records = await query(r, name, recordType);
    const t = performance.now();
    out.dns_ms = ms(t0, t);
    out.total_ms = out.dns_ms;
    out.dns.records = records;
    if (records.length === 0) {
      out.error = `no ${recordType} records for ${name}`;
      out.error_class = 'dns';
    } else {
      out.ok = true;
    }
  } catch (err) {
    out.total_ms = ms(t0, performance.now());
    out.error = timedOut ? `timed out after ${timeoutMs} ms` : errorMessage(err);
    out.error_class = timedOut ? 'timeout' : classifyError(err, 'dns');
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  out.observation.response_time_ms = out.total_ms;
  out.observation.body = out.dns.records.join('\n');
  out.observation.json = out.dns.records;
  return out;
}
