import fc from 'fast-check';

/** A request body as sent: bytes (or text) plus the Content-Type header (undefined = none). */
export interface FuzzBody {
  body: string | Uint8Array;
  contentType: string | undefined;
}

const CONTENT_TYPES = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/x-www-form-urlencoded',
      'text/plain',
      'text/xml',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-16',
      'application/vnd.api+json',
      'application/octet-stream',
      '',
      ';;;',
      'application/json\u00ff',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s)) },
);

/** Values that break naive handlers: wrong types, extremes, specials (JSON cannot carry NaN/Infinity: they become null). */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, -1, 1, 100, 100.0001, 101, -100, 1e308, -1e308, 5e-324, 2 ** 53 + 2, '', ' ', '\u0000', '\ud800', 'NaN', 'Infinity', '../../etc/passwd', '<script>alert(1)</script>', "' OR 1=1 --", '%00', '\r\nX-Injected: 1', '0.0.0.0', '::ffff:127.0.0.1', '999.1.1.1', 'http://127.0.0.1:1', 'javascript:alert(1)', '2026-13-45T99:99:99Z'),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 64 }),
  fc.string({ minLength: 500, maxLength: 2000 }),
  fc.array(fc.double(), { maxLength: 20 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.object({ maxDepth: 2 }),
);

/** A record of the given fields, each either a plausible value or a hostile one, some missing, plus extras. */
export function mutatedRecord(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  // Per field: 1 in 10 hostile, 1 in 20 missing, so a useful share of bodies (≈10 %) is entirely valid.
  const entries = Object.entries(fields).map(([k, good]) => fc.tuple(fc.constant(k), fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: hostile }), fc.nat(19)));
  return fc
    .tuple(fc.tuple(...entries), fc.dictionary(fc.string({ maxLength: 12 }), hostile, { maxKeys: 3 }))
    .map(([list, extra]) => {
      const o: Record<string, unknown> = { ...extra };
      for (const [k, v, drop] of list) if (drop !== 0) o[k] = v;
      return o;
    });
}

function deepNest(depth: number, open: string, close: string): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** Bodies for a JSON endpoint: mostly plausible records, plus random JSON, garbage and pathological nesting. */
export function jsonBodies(record: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<FuzzBody> {
  const text = fc.oneof(
    { weight: 10, arbitrary: record.map((r) => JSON.stringify(r)) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: record.map((r) => JSON.stringify(r)).chain((s) => fc.nat(Math.max(0, s.length - 1)).map((n) => s.slice(0, n))) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constantFrom('', 'null', '[]', '{}', '"x"', '1', 'true', '{"a":', '\ufeff{}', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}') },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 5000 }).map((d) => deepNest(d, '[', ']')) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 5000 }).map((d) => '{"a":'.repeat(d) + '1' + '}'.repeat(d)) },
  );
  const bytes = fc.uint8Array({ maxLength: 300 });
  return fc.tuple(fc.oneof({ weight: 12, arbitrary: text }, { weight: 1, arbitrary: bytes }), CONTENT_TYPES).map(([body, contentType]) => ({ body, contentType }));
}

const ids = fc.oneof(fc.constantFrom('fuzz-a', 'fuzz-b', 'fuzz-c', 'fuzz-gpu'), fc.string({ minLength: 1, maxLength: 20 }));
const pct = fc.double({ min: 0, max: 100, noNaN: true });
const gb = fc.double({ min: 0, max: 4096, noNaN: true });
const lat = fc.double({ min: -90, max: 90, noNaN: true });
const lon = fc.double({ min: -180, max: 180, noNaN: true });
const ip = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant(''));
/** URLs, cheaply: fc.webUrl() is slow to generate. */
const url = fc.oneof(
  fc.constantFrom('http://127.0.0.1:11000', 'https://backend.example:8443/app', 'http://[::1]:80', 'http://10.0.0.1', 'ftp://x', 'http://', 'http://a b', '//x', 'http://x:99999'),
  fc.tuple(fc.constantFrom('http://', 'https://'), fc.string({ maxLength: 20 })).map(([a, b]) => a + b),
);

export const registerRecord = mutatedRecord({
  client_id: ids,
  hostname: fc.string({ minLength: 1, maxLength: 30 }),
  public_ip: ip,
  local_ip: ip,
  latitude: lat,
  longitude: lon,
  country: fc.string({ maxLength: 10 }),
  city: fc.string({ maxLength: 10 }),
  total_cpu: fc.integer({ min: 1, max: 256 }),
  total_memory_gb: fc.double({ min: 0.1, max: 2048, noNaN: true }),
  total_storage_gb: gb,
  total_gpus: fc.integer({ min: 0, max: 8 }),
  gpu_models: fc.array(fc.string({ maxLength: 20 }), { maxLength: 4 }),
  endpoint_url: fc.oneof(url, fc.constant('')),
  endpoints: fc.array(fc.record({ url, paths: fc.array(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 3 }) }), { maxLength: 3 }),
});

export const statsRecord = mutatedRecord({
  client_id: ids,
  hostname: fc.string({ minLength: 1, maxLength: 30 }),
  timestamp: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 30 })),
  cpu_cores: fc.integer({ min: 0, max: 256 }),
  cpu_usage_avg: fc.array(pct, { maxLength: 64 }),
  memory_total_gb: fc.double({ min: 0.1, max: 2048, noNaN: true }),
  memory_used_gb: gb,
  memory_avail_gb: gb,
  disk_total_gb: gb,
  disk_used_gb: gb,
  disk_avail_gb: gb,
  gpus: fc.array(
    fc.record({ device_id: fc.nat(8), name: fc.string({ maxLength: 12 }), utilization_pct: pct, memory_used_gb: gb, memory_total_gb: gb, temperature_c: fc.double({ noNaN: true }), power_draw_w: gb }),
    { maxLength: 4 },
  ),
  public_ip: ip,
  latitude: lat,
  longitude: lon,
});

export const routeRecord = mutatedRecord({
  tier: fc.oneof(fc.constantFrom('small', 'medium', 'large', 'gpu-inference', 'gpu-training', ''), fc.string({ maxLength: 70 })),
  client_ip: ip,
  client_lat: lat,
  client_lon: lon,
  sticky_id: fc.string({ maxLength: 40 }),
  path: fc.string({ maxLength: 60 }),
});

/** Anything at all for endpoints that take no body. */
export const anyBody = jsonBodies(fc.dictionary(fc.string({ maxLength: 10 }), hostile, { maxKeys: 5 }));
