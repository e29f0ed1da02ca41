/** The worker → server Result contract, validated at the stream boundary and mapped to the store's ResultInput. */
import { z } from 'zod';
import { ERROR_CLASSES } from '../../monitoring/domain/result.js';
import type { ResultInput } from '../../store/monitoring.js';

const Ms = z
  .number()
  .optional()
  .transform((v) => (v === undefined ? null : v))
  .pipe(z.number().finite().min(0).max(86_400_000).nullable());

/** int64 arrives as bigint; timestamps and sizes fit a double exactly. */
const Int64 = z.union([z.bigint(), z.number()]).transform((v) => Number(v));

const JsonText = (kind: 'array' | 'object', maxBytes: number) =>
  z
    .string()
    .max(maxBytes)
    .transform((s, ctx) => {
      if (s === '') return null;
      try {
        const v: unknown = JSON.parse(s);
        const ok = kind === 'array' ? Array.isArray(v) : v !== null && typeof v === 'object' && !Array.isArray(v);
        if (!ok) throw new Error(`expected a JSON ${kind}`);
        return s;
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

/** Fields of vantage.v1.Result (camelCase, as @bufbuild/protobuf decodes them). */
export const WireResultSchema = z.object({
  runId: z.string().min(1).max(128),
  monitorId: z.string().max(128),
  eventAtMs: Int64.pipe(z.number().int().positive()),
  startedAtMs: Int64.pipe(z.number().int().min(0)),
  finishedAtMs: Int64.pipe(z.number().int().min(0)),
  status: z.enum(['up', 'down']),
  httpCode: z.number().int().min(0).max(999),
  dnsMs: Ms,
  connectMs: Ms,
  tlsMs: Ms,
  ttfbMs: Ms,
  downloadMs: Ms,
  totalMs: Ms,
  sizeBytes: Int64.pipe(z.number().int().min(0)).optional(),
  error: z.string().transform((s) => (s === '' ? null : s.slice(0, 2048))),
  errorClass: z.union([z.literal(''), z.enum(ERROR_CLASSES)]).transform((s) => (s === '' ? null : s)),
  assertionsJson: JsonText('array', 256 * 1024),
  detailsJson: JsonText('object', 64 * 1024),
});

export function toResultInput(w: z.output<typeof WireResultSchema>): ResultInput {
  return {
    run_id: w.runId,
    event_at: w.eventAtMs,
    status: w.status,
    http_code: w.httpCode === 0 ? null : w.httpCode,
    dns_ms: w.dnsMs,
    connect_ms: w.connectMs,
    tls_ms: w.tlsMs,
    ttfb_ms: w.ttfbMs,
    download_ms: w.downloadMs,
    total_ms: w.totalMs,
    size_bytes: w.sizeBytes ?? null,
    error: w.error,
    error_class: w.errorClass,
    assertions: w.assertionsJson,
    details: w.detailsJson,
    started_at: w.startedAtMs || null,
    finished_at: w.finishedAtMs || null,
  };
}

export function parseWireResult(msg: unknown): { ok: true; result: ResultInput } | { ok: false; error: string } {
  const r = WireResultSchema.safeParse(msg);
  if (!r.success) return { ok: false, error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  return { ok: true, result: toResultInput(r.data) };
}
