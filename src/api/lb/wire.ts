import { isIP } from 'node:net';
import { z } from 'zod';
import { HttpError } from '../../http/errors.js';

/**
 * zod schemas of the load-balancer API bodies (DESIGN.md "Wire format of the load-balancer API"; field names
 * as Opsen agents and integrations send them). Unknown fields are ignored. Empty strings for optional text
 * fields mean "unknown" (Opsen agents send "" rather than omitting them).
 */

// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;

/** Optional text: "", null and absent all mean unknown (→ null). */
const optText = (max: number) =>
  z
    .string()
    .max(max)
    .regex(NO_CONTROL, 'must not contain control characters')
    .nullish()
    .transform((v) => (v === undefined || v === null || v.trim() === '' ? null : v.trim()));

const id = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max)
    .regex(NO_CONTROL, 'must not contain control characters');

const latitude = z.number().min(-90).max(90).nullish();
const longitude = z.number().min(-180).max(180).nullish();
const gb = z.number().nonnegative();
const pct = z.number().min(0, 'must be between 0 and 100').max(100, 'must be between 0 and 100');

const httpUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

function bothOrNeither(
  v: { latitude?: number | null | undefined; longitude?: number | null | undefined },
  ctx: z.RefinementCtx,
  lat = 'latitude',
  lon = 'longitude',
): void {
  const hasLat = v.latitude !== undefined && v.latitude !== null;
  const hasLon = v.longitude !== undefined && v.longitude !== null;
  if (hasLat !== hasLon) {
    ctx.addIssue({ code: 'custom', path: [hasLat ? lon : lat], message: `${lat} and ${lon} must be given together` });
  }
}

export const EndpointRuleSchema = z.object({
  url: httpUrl,
  paths: z.array(z.string().min(1).max(512)).min(1).max(100),
});

export const RegisterBodySchema = z
  .object({
    client_id: id(128),
    hostname: id(255),
    public_ip: optText(64),
    local_ip: optText(64),
    latitude,
    longitude,
    country: optText(128),
    city: optText(128),
    total_cpu: z.number().int().positive('must be at least 1'),
    total_memory_gb: z.number().positive('must be greater than 0'),
    total_storage_gb: gb,
    total_gpus: z.number().int().nonnegative().optional(),
    gpu_models: z.array(z.string().max(256)).max(256).nullish(),
    endpoint_url: z.union([httpUrl, z.literal('')]).nullish(),
    endpoints: z.array(EndpointRuleSchema).max(100).nullish(),
  })
  .superRefine((v, ctx) => bothOrNeither(v, ctx));
export type RegisterBody = z.output<typeof RegisterBodySchema>;

export const GpuStatsBodySchema = z.object({
  device_id: z.number().int().nonnegative(),
  name: z.string().max(256).default(''),
  utilization_pct: pct.nullish(),
  memory_used_gb: gb.nullish(),
  memory_total_gb: gb.nullish(),
  temperature_c: z.number().nullish(),
  power_draw_w: z.number().nonnegative().nullish(),
});

/** Slack for rounding when the agent converts bytes to GB separately for used/avail/total. */
const EPS = 0.01;

export const StatsBodySchema = z
  .object({
    client_id: id(128),
    hostname: optText(255),
    timestamp: z
      .string()
      .refine((v) => Number.isFinite(Date.parse(v)), 'must be an RFC 3339 date-time')
      .optional(),
    cpu_cores: z.number().int().nonnegative().optional(),
    cpu_usage_avg: z.array(pct).max(4096),
    memory_total_gb: z.number().positive('must be greater than 0'),
    memory_used_gb: gb,
    memory_avail_gb: gb,
    disk_total_gb: gb,
    disk_used_gb: gb,
    disk_avail_gb: gb,
    gpus: z.array(GpuStatsBodySchema).max(64).nullish(),
    public_ip: optText(64),
    latitude,
    longitude,
    country: optText(128),
    city: optText(128),
  })
  .superRefine((v, ctx) => {
    bothOrNeither(v, ctx);
    if (v.memory_used_gb > v.memory_total_gb + EPS) {
      ctx.addIssue({ code: 'custom', path: ['memory_used_gb'], message: 'must not exceed memory_total_gb' });
    }
    if (v.memory_avail_gb > v.memory_total_gb + EPS) {
      ctx.addIssue({ code: 'custom', path: ['memory_avail_gb'], message: 'must not exceed memory_total_gb' });
    }
    if (v.disk_used_gb > v.disk_total_gb + EPS) {
      ctx.addIssue({ code: 'custom', path: ['disk_used_gb'], message: 'must not exceed disk_total_gb' });
    }
    if (v.disk_avail_gb > v.disk_total_gb + EPS) {
      ctx.addIssue({ code: 'custom', path: ['disk_avail_gb'], message: 'must not exceed disk_total_gb' });
    }
  });
export type StatsBody = z.output<typeof StatsBodySchema>;

export const RouteBodySchema = z
  .object({
    tier: z.string().max(64).nullish(),
    client_ip: z
      .string()
      .max(64)
      .refine((v) => v === '' || isIP(v) !== 0, 'must be an IPv4 or IPv6 address')
      .nullish(),
    client_lat: latitude,
    client_lon: longitude,
    /** Vantage: the sticky id in the body (for callers that cannot set the sticky header). */
    sticky_id: z.string().max(256).regex(NO_CONTROL, 'must not contain control characters').nullish(),
    /** Vantage: request path, for path-based endpoint selection. */
    path: z.string().max(2048).nullish(),
  })
  .superRefine((v, ctx) => bothOrNeither({ latitude: v.client_lat, longitude: v.client_lon }, ctx, 'client_lat', 'client_lon'));
export type RouteBody = z.output<typeof RouteBodySchema>;

function present(input: unknown, path: readonly PropertyKey[]): boolean {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return false;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur !== undefined;
}

/** Validates a parsed body, turning the first zod issue into 400 `{"error", "field"}`. */
export function parseBody<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = path === '' ? 'body' : path;
  let message = issue?.message ?? 'invalid body';
  if (path === '' && (input === undefined || input === null || typeof input !== 'object' || Array.isArray(input))) {
    message = 'request body must be a JSON object';
  } else if (issue?.code === 'invalid_type' && !present(input, issue.path)) {
    message = 'is required';
  }
  throw new HttpError(400, `${field}: ${message}`, { field });
}
