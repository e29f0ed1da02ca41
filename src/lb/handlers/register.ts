import { isIP } from 'node:net';
import { registeredBackend } from '../routing/backend-state.js';
import type { BackendRegistration } from '../routing/types.js';
import type { LbClient } from '../../store/lb.js';
import type { ApiDeps } from './deps.js';
import { sendJson } from '../../http/errors.js';
import type { Handler } from '../../http/pipeline.js';
import { parseBody } from '../../api/lb/parse-body.js';
import { RegisterBodySchema, type RegisterBody } from '../../api/lb/wire.js';

/** Default backend port when the agent gives no endpoint_url (Opsen: http://{local_ip}:11000). */
export const DEFAULT_BACKEND_PORT = 11000;

export function defaultEndpoint(b: Pick<RegisterBody, 'local_ip' | 'public_ip' | 'hostname'>): string {
  const host = b.local_ip ?? b.public_ip ?? b.hostname;
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${DEFAULT_BACKEND_PORT}`;
}

export function toRegistration(b: RegisterBody): BackendRegistration {
  const lat = b.latitude ?? null;
  const lon = b.longitude ?? null;
  return {
    clientId: b.client_id,
    hostname: b.hostname,
    endpoint: b.endpoint_url ? b.endpoint_url : defaultEndpoint(b),
    publicIp: b.public_ip,
    localIp: b.local_ip,
    lat: lat !== null && lon !== null ? lat : null,
    lon: lat !== null && lon !== null ? lon : null,
    country: b.country,
    city: b.city,
    totalCpu: b.total_cpu,
    totalMemoryGb: b.total_memory_gb,
    totalStorageGb: b.total_storage_gb,
    totalGpus: b.total_gpus ?? b.gpu_models?.length ?? 0,
    gpuModels: b.gpu_models ?? [],
    endpoints: b.endpoints ?? [],
  };
}

/**
 * POST /register: validates, writes the backend to the database (durably) and only then acknowledges, so an
 * acknowledged registration survives a crash; the engine learns it after the write.
 */
export function registerHandler(d: ApiDeps): Handler {
  return async (ctx) => {
    const body = parseBody(RegisterBodySchema, ctx.json);
    const reg = toRegistration(body);
    const now = d.now();
    const row: LbClient = { ...registeredBackend(reg), createdAt: now, lastSeen: now };
    await d.lb.upsertClient(row);
    d.engine.register(reg, now);
    sendJson(ctx.res, 200, { status: 'registered', client_id: reg.clientId, endpoint: reg.endpoint });
  };
}
