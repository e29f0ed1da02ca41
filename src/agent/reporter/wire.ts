import { z } from 'zod';

/**
 * The agent's side of the load-balancer wire contract (DESIGN.md, "Wire format of the
 * load-balancer API"). Field names are exactly those Opsen agents send. Sizes are in GiB
 * (bytes / 2^30), labelled `_gb` as in Opsen. Unknown location is `null`, never 0.
 */
const gb = z.number().finite().nonnegative();

export const RegisterRequestSchema = z.object({
  client_id: z.string().min(1),
  hostname: z.string().min(1),
  public_ip: z.string(),
  local_ip: z.string(),
  latitude: z.number().min(-90).max(90).nullable(),
  longitude: z.number().min(-180).max(180).nullable(),
  country: z.string(),
  city: z.string(),
  total_cpu: z.number().int().positive(),
  total_memory_gb: gb.positive(),
  total_storage_gb: gb,
  total_gpus: z.number().int().nonnegative().optional(),
  gpu_models: z.array(z.string()).optional(),
  endpoint_url: z.string().url().optional(),
});
export type RegisterRequest = z.output<typeof RegisterRequestSchema>;

export const GpuStatsSchema = z.object({
  device_id: z.number().int().nonnegative(),
  name: z.string(),
  /** Window average; `null` when the driver reports it as unknown (`[N/A]`). */
  utilization_pct: z.number().min(0).max(100).nullable(),
  memory_used_gb: gb.nullable(),
  memory_total_gb: gb.nullable(),
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
  memory_total_gb: gb.positive(),
  memory_used_gb: gb,
  memory_avail_gb: gb,
  disk_total_gb: gb,
  disk_used_gb: gb,
  disk_avail_gb: gb,
  gpus: z.array(GpuStatsSchema).optional(),
  public_ip: z.string().optional(),
  latitude: z.number().min(-90).max(90).nullable().optional(),
  longitude: z.number().min(-180).max(180).nullable().optional(),
  country: z.string().optional(),
  city: z.string().optional(),
});
export type StatsRequest = z.output<typeof StatsRequestSchema>;

/** Server answers the agent reads. Extra fields are ignored. */
export const ErrorResponseSchema = z.object({ error: z.string(), field: z.string().optional() }).loose();
