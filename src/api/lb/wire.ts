import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The load-balancer wire contract (DESIGN.md "Wire format of the load-balancer API"; field names as
 * Opsen agents and integrations send them), in one place for both sides:
 * - what the server accepts (`RegisterBodySchema`, `StatsBodySchema`, `RouteBodySchema`): unknown
 *   fields are ignored; empty strings for optional text fields mean "unknown" (Opsen agents send ""
 *   rather than omitting them);
 * - what the Vantage agent sends (`RegisterRequestSchema`, `StatsRequestSchema`): the exact bodies,
 *   a strict subset of what the server accepts (test/agent/payload.test.ts checks both). Sizes are in
 *   GiB (bytes / 2^30), labelled `_gb` as in Opsen. Unknown location is `null`, never 0;
 * - the error answer the agent reads (`ErrorResponseSchema`).
 * Schemas only (no HTTP code), so the agent can import this file without server code.
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
export type EndpointRuleBody = z.output<typeof EndpointRuleSchema>;

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

/** A region name as workers register it (letters, digits, '.', '_', '-'; up to 63 characters). */
export const ClientRegion = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be a region name: a letter or digit, then letters, digits, ".", "_" or "-" (up to 63)');

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
    /** Vantage: the client's monitoring region (routing_distance: measured); else the region nearest to its location. */
    client_region: ClientRegion.nullish(),
  })
  .superRefine((v, ctx) => bothOrNeither({ latitude: v.client_lat, longitude: v.client_lon }, ctx, 'client_lat', 'client_lon'));
export type RouteBody = z.output<typeof RouteBodySchema>;

// ---------------------------------------------------------------- what the agent sends

const sentGb = z.number().finite().nonnegative();
const sentLatitude = z.number().min(-90).max(90);
const sentLongitude = z.number().min(-180).max(180);

export const RegisterRequestSchema = z.object({
  client_id: z.string().min(1),
  hostname: z.string().min(1),
  public_ip: z.string(),
  local_ip: z.string(),
  latitude: sentLatitude.nullable(),
  longitude: sentLongitude.nullable(),
  country: z.string(),
  city: z.string(),
  total_cpu: z.number().int().positive(),
  total_memory_gb: sentGb.positive(),
  total_storage_gb: sentGb,
  total_gpus: z.number().int().nonnegative().optional(),
  gpu_models: z.array(z.string()).optional(),
  endpoint_url: z.string().url().optional(),
  /** client.yml `endpoints`; absent when none are configured. */
  endpoints: z.array(EndpointRuleSchema).optional(),
});
export type RegisterRequest = z.output<typeof RegisterRequestSchema>;

export const GpuStatsSchema = z.object({
  device_id: z.number().int().nonnegative(),
  name: z.string(),
  /** Window average; `null` when the driver reports it as unknown (`[N/A]`). */
  utilization_pct: z.number().min(0).max(100).nullable(),
  memory_used_gb: sentGb.nullable(),
  memory_total_gb: sentGb.nullable(),
  temperature_c: z.number().finite().nullable(),
  power_draw_w: z.number().finite().nonnegative().optional(),
});
export type GpuStats = z.output<typeof GpuStatsSchema>;

export const StatsRequestSchema = z.object({
  client_id: z.string().min(1),
  hostname: z.string().min(1),
  timestamp: z.string().datetime({ offset: true }),
  cpu_cores: z.number().int().nonnegative(),
  cpu_usage_avg: z.array(z.number().min(0).max(100)),
  memory_total_gb: sentGb.positive(),
  memory_used_gb: sentGb,
  memory_avail_gb: sentGb,
  disk_total_gb: sentGb,
  disk_used_gb: sentGb,
  disk_avail_gb: sentGb,
  gpus: z.array(GpuStatsSchema).optional(),
  public_ip: z.string().optional(),
  latitude: sentLatitude.nullable().optional(),
  longitude: sentLongitude.nullable().optional(),
  country: z.string().optional(),
  city: z.string().optional(),
});
export type StatsRequest = z.output<typeof StatsRequestSchema>;

/** Server answers the agent reads. Extra fields are ignored. */
export const ErrorResponseSchema = z.object({ error: z.string(), field: z.string().optional() }).loose();
