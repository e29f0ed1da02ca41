import { z } from 'zod';

/** Tier names: letters, digits, '.', '_' and '-', 1–64 characters. */
export const TIER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const nonNeg = { error: 'expected a non-negative number' };
const nonNegInt = { error: 'expected a non-negative integer' };

/** One tier: the resources a request of this tier needs on a backend. */
export const TierSchema = z
  .object({
    name: z
      .string({ error: 'expected a tier name' })
      .regex(TIER_NAME_RE, 'expected 1–64 characters of letters, digits, ".", "_" or "-"'),
    vcpu: z.number(nonNegInt).int(nonNegInt).nonnegative(nonNegInt),
    memory_gb: z.number(nonNeg).nonnegative(nonNeg),
    storage_gb: z.number(nonNeg).nonnegative(nonNeg),
    gpu: z.number(nonNegInt).int(nonNegInt).nonnegative(nonNegInt).default(0),
    gpu_memory_gb: z.number(nonNeg).nonnegative(nonNeg).default(0),
  })
  .strict();

export type Tier = z.output<typeof TierSchema>;

/** The seed README's tier table, used when server.yml names no tiers. */
export const DEFAULT_TIERS: readonly Tier[] = Object.freeze([
  { name: 'small', vcpu: 1, memory_gb: 1, storage_gb: 5, gpu: 0, gpu_memory_gb: 0 },
  { name: 'medium', vcpu: 2, memory_gb: 4, storage_gb: 20, gpu: 0, gpu_memory_gb: 0 },
  { name: 'large', vcpu: 4, memory_gb: 8, storage_gb: 30, gpu: 0, gpu_memory_gb: 0 },
  { name: 'gpu-inference', vcpu: 8, memory_gb: 32, storage_gb: 100, gpu: 1, gpu_memory_gb: 16 },
  { name: 'gpu-training', vcpu: 16, memory_gb: 64, storage_gb: 500, gpu: 2, gpu_memory_gb: 48 },
]);
