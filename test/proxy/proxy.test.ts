import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import type { RoutingEngine } from '../../src/lb/routing/index.js';
import { addBackend, listen, makeEngine, startProxy, stats, waitFor, type ProxyServer, type Started } from './helpers.js';

const client = new Agent({ keepAliveTimeout: 1_000 });
afterAll(() => client.close());

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function track<T extends { close(): Promise<void> }>(s: T): T {
  cleanups.push(() => s.close());
  return s;
}

interface Seen {
  url: string;
  method: string;
  headers: IncomingHttpHeaders;
  raw: string[];
  body: Buffer;
}

/** A backend that records what it received and answers JSON {id, url}. */
async function echoBackend(id: string): Promise<Started & { seen: Seen[] }> {
  const seen: Seen[] = [];
  const s = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers, raw: req.rawHeaders, body });
      const out = JSON.stringify({ id, url: req.url, sha: createHash('sha256').update(body).digest('hex'), len: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  return Object.assign(track(s), { seen });
}

async function get(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}) {
  const res = await request(url, { dispatcher: client, method: (opts.method ?? 'GET') as 'GET', headers: opts.headers, body: opts.body });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

describe('reverse proxy: routing and headers', () => {
  let engine: RoutingEngine;
  let a: Awaited<ReturnType<typeof echoBackend>>;
  let b: Awaited<ReturnType<typeof echoBackend>>;
  let px: ProxyServer;

  beforeAll(async () => {
    // a: preferred (score 5 + 68.75 % memory used) but only 10 GB free → tier "a" only;
    // b: score 75 + 6.25, 30 GB free → tiers a and b.
    a = await echoBackend('A');
    b = await echoBackend('B');
    engine = makeEngine();
    addBackend(engine, 'A', a.url, { cpu: 5, memAvailGb: 10 });
    addBackend(engine, 'B', b.url, { cpu: 75, memAvailGb: 30 });
    px = await startProxy(engine, { prefixes: ['/api', '/v1'] });
    cleanups.length = 0; // keep these for the whole block
  });
  afterAll(async () => {
    await px.close();
    await a.close();
    await b.close();
  });

  it('preserves path and query exactly and forwards the method', async () => {
    const target = '/api/a%2Fb//c/%7Euser?x=1&y=%20z&x=2&empty=&flag';
    const r = await get(px.url + target, { method: 'DELETE' });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ id: 'A', url: target });
    expect(a.seen.at(-1)!.method).toBe('DELETE');
    expect((await get(px.url + '/v1')).json()).toMatchObject({ url: '/v1' });
  });

  it('leaves paths outside the prefixes alone', async () => {
    const before = a.seen.length + b.seen.length;
    expect((await get(px.url + '/apix')).status).toBe(404);
    expect((await get(px.url + '/other/api')).status).toBe(404);
    expect((await get(px.url + '/health')).text).toBe('management');
    expect(a.seen.length + b.seen.length).toBe(before);
  });

  it('detects the tier from the JSON body first, then query, then header, else default', async () => {
    const json = { 'content-type': 'application/json' };
    // body wins over query and header
    let r = await get(px.url + '/api/t?tier=a', { method: 'POST', headers: { ...json, 'x-tier': 'a' }, body: '{"tier":"b","n":1}' });
    expect(r.headers['x-vantage-backend']).toBe('B');
    // the buffered body reaches the backend byte for byte
    expect(r.json().sha).toBe(createHash('sha256').update('{"tier":"b","n":1}').digest('hex'));
    // query wins over header
    r = await get(px.url + '/api/t?tier=b', { headers: { 'x-tier': 'a' } });
    expect(r.headers['x-vantage-backend']).toBe('B');
    r = await get(px.url + '/api/t?tier=a', { headers: { 'x-tier': 'b' } });
    expect(r.headers['x-vantage-backend']).toBe('A');
    // header
    r = await get(px.url + '/api/t', { headers: { 'x-tier': 'b' } });
    expect(r.headers['x-vantage-backend']).toBe('B');
    // default tier ("a", the first) → best backend A
    r = await get(px.url + '/api/t');
    expect(r.headers['x-vantage-backend']).toBe('A');
    // JSON body without the field falls through to the query
    r = await get(px.url + '/api/t?tier=b', { method: 'POST', headers: json, body: '{"x":1}' });
    expect(r.headers['x-vantage-backend']).toBe('B');
    // a body field in a non-JSON body is not read
    r = await get(px.url + '/api/t', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"tier":"b"}' });
    expect(r.headers['x-vantage-backend']).toBe('A');
    // malformed JSON is forwarded unchanged, tier from the header
    r = await get(px.url + '/api/t', { method: 'POST', headers: { ...json, 'x-tier': 'b' }, body: '{"tier":' });
    expect(r.headers['x-vantage-backend']).toBe('B');
    expect(r.json().len).toBe(8);
  });

  it('answers 400 with the known tiers for an unknown tier', async () => {
    const r = await get(px.url + '/api/t?tier=nope');
    expect(r.status).toBe(400);
    expect(r.json()).toMatchObject({ error: expect.stringContaining('nope'), known_tiers: ['a', 'b'] });
  });

  it('strips hop-by-hop headers both ways', async () => {
    const hop = await listen((_req, res) => {
      res.setHeader('Connection', 'X-Resp-Hop');
      res.setHeader('X-Resp-Hop', '1');
      res.setHeader('Keep-Alive', 'timeout=99');
      res.setHeader('Proxy-Authenticate', 'Basic');
      res.setHeader('X-End-To-End', 'kept');
      res.end('ok');
    });
    track(hop);
    const e2 = makeEngine();
    addBackend(e2, 'H', hop.url);
    const p2 = track(await startProxy(e2));
    // capture what the backend receives
    let got: IncomingHttpHeaders = {};
    hop.server.prependListener('request', (req: IncomingMessage) => (got = req.headers));
    const r = await new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
      const creq = httpRequest(p2.url + '/api/h', {
        agent: false,
        headers: { Connection: 'keep-alive, X-Req-Hop', 'X-Req-Hop': '1', 'Keep-Alive': 'timeout=7', TE: 'trailers', 'Proxy-Authorization': 'Basic eA==', 'X-Kept': 'yes' },
      });
      creq.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      creq.on('error', reject);
      creq.end();
    });
    expect(r.status).toBe(200);
    for (const h of ['x-req-hop', 'te', 'proxy-authorization']) expect(got[h]).toBeUndefined();
    expect(got['keep-alive']).toBeUndefined();
    expect(got['x-kept']).toBe('yes');
    for (const h of ['x-resp-hop', 'proxy-authenticate']) expect(r.headers[h]).toBeUndefined();
    expect(r.headers['keep-alive']).not.toBe('timeout=99');
    expect(r.headers['x-end-to-end']).toBe('kept');
    expect(r.headers['via']).toBe('1.1 vantage');
  });

  it('sets X-Forwarded-For (appended), -Proto, -Host, Forwarded and Via', async () => {
    await get(px.url + '/api/fwd', { headers: { host: 'shop.example:8443', 'x-forwarded-for': '203.0.113.7', via: '1.0 cdn' } });
    const h = a.seen.at(-1)!.headers;
    expect(h['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('shop.example:8443');
    expect(h['forwarded']).toBe('for=127.0.0.1;host="shop.example:8443";proto=http');
    expect(h['via']).toBe('1.0 cdn, 1.1 vantage');
    expect(h['host']).toBe(new URL(a.url).host);
  });
});

describe('reverse proxy: reservations and sticky sessions', () => {
  it('releases a non-sticky reservation when the response ends, keeps a sticky one', async () => {
    const a = await echoBackend('A');
    const engine = makeEngine();
    addBackend(engine, 'A', a.url);
    const px = track(await startProxy(engine));
    for (let i = 0; i < 5; i++) expect((await get(px.url + '/api/x')).status).toBe(200);
    await waitFor(() => engine.counts().reservations === 0, 'reservations released');
    await get(px.url + '/api/x', { headers: { 'x-session-id': 's1' } });
    expect(engine.counts().reservations).toBe(1); // the first request of a session (a fresh pick) keeps it too
    await get(px.url + '/api/x', { headers: { 'x-session-id': 's1' } });
    // a sticky reservation lives until expiry, de-duplicated per (sticky_id, tier)
    expect(engine.counts().reservations).toBe(1);
    expect(engine.stickyAssignments().map((s) => [s.stickyId, s.tier, s.clientId])).toEqual([['s1', 'a', 'A']]);
  });

  it('releases the reservation when the client aborts, and the backend sees the abort', async () => {
    let backendClosed = false;
    let arrived = false;
    const hang = track(
      await listen((req) => {
        arrived = true;
        req.socket.on('close', () => (backendClosed = true));
      }),
    );
    const engine = makeEngine();
    addBackend(engine, 'H', hang.url);
    const px = track(await startProxy(engine));
    const creq = httpRequest(px.url + '/api/slow');
    creq.on('error', () => {});
    creq.end();
    await waitFor(() => arrived, 'request reached the backend');
    expect(engine.counts().reservations).toBe(1);
    creq.destroy();
    await waitFor(() => engine.counts().reservations === 0, 'reservation released after abort');
    await waitFor(() => backendClosed, 'backend connection closed');
    expect(px.proxy.inflight()).toBe(0);
  });

  it('routes a sticky session to its backend even when another becomes better; affinity across tiers', async () => {
    const x = await echoBackend('X');
    const y = await echoBackend('Y');
    const engine = makeEngine();
    addBackend(engine, 'X', x.url, { cpu: 10, memAvailGb: 30 });
    addBackend(engine, 'Y', y.url, { cpu: 20, memAvailGb: 30 });
    const px = track(await startProxy(engine));
    const s = { 'x-session-id': 'user-1' };
    expect((await get(px.url + '/api/1', { headers: s })).headers['x-vantage-backend']).toBe('X');
    engine.reportStats('X', stats(60, 30)); // X now scores worse than Y
    expect((await get(px.url + '/api/2')).headers['x-vantage-backend']).toBe('Y');
    expect((await get(px.url + '/api/3', { headers: s })).headers['x-vantage-backend']).toBe('X');
    // tier b for the same sticky id prefers the backend already holding tier a
    expect((await get(px.url + '/api/4?tier=b', { headers: s })).headers['x-vantage-backend']).toBe('X');
    expect((await get(px.url + '/api/5?tier=b', { headers: { 'x-session-id': 'user-2' } })).headers['x-vantage-backend']).toBe('Y');
  });

  it('answers 503 JSON with Retry-After when no backend is eligible', async () => {
    const engine = makeEngine();
    const a = await echoBackend('A');
    addBackend(engine, 'A', a.url, { memAvailGb: 5 });
    const px = track(await startProxy(engine));
    const r = await get(px.url + '/api/x?tier=b');
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.json()).toMatchObject({ error: expect.stringContaining('no backend'), tier: 'b', reasons: { memory: 1 } });
    expect(a.seen).toHaveLength(0);
  });
});

describe('reverse proxy: failures', () => {
  it('fails over once when the chosen backend refuses connections, for empty, buffered and unread bodies', async () => {
    const dead = await listen(() => {});
    const deadUrl = dead.url;
    await dead.close();
    const live = await echoBackend('LIVE');
    const engine = makeEngine();
    addBackend(engine, 'DEAD', deadUrl, { cpu: 1 }); // best score: chosen first
    addBackend(engine, 'LIVE', live.url, { cpu: 40 });
    const px = track(await startProxy(engine));
    let r = await get(px.url + '/api/x');
    expect(r.status).toBe(200);
    expect(r.headers['x-vantage-backend']).toBe('LIVE');
    r = await get(px.url + '/api/x', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"k":"v"}' });
    expect(r.json()).toMatchObject({ id: 'LIVE', len: 9 });
    r = await get(px.url + '/api/x', { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(1000, 7) });
    expect(r.json()).toMatchObject({ id: 'LIVE', len: 1000 });
    await waitFor(() => engine.counts().reservations === 0, 'no reservation left on either backend');
  });

  it('answers 502 when the only backend refuses connections', async () => {
    const dead = await listen(() => {});
    const deadUrl = dead.url;
    await dead.close();
    const engine = makeEngine();
    addBackend(engine, 'DEAD', deadUrl);
    const px = track(await startProxy(engine));
    const r = await get(px.url + '/api/x');
    expect(r.status).toBe(502);
    expect(r.json().error).toEqual(expect.any(String));
  });

  it('answers 504 when the backend is slower than the timeout', async () => {
    const slow = track(await listen((_req, res) => void setTimeout(() => res.end('late'), 3_000).unref()));
    const engine = makeEngine();
    addBackend(engine, 'S', slow.url);
    const px = track(await startProxy(engine, { timeoutMs: 200 }));
    const t0 = Date.now();
    const r = await get(px.url + '/api/x');
    expect(r.status).toBe(504);
    expect(Date.now() - t0).toBeLessThan(2_500);
    await waitFor(() => engine.counts().reservations === 0, 'reservation released');
  });

  it('ejects a backend after N consecutive 5xx (passive outlier detection)', async () => {
    const bad = track(await listen((_req, res) => ((res.statusCode = 500), res.end('boom'))));
    const engine = makeEngine();
    addBackend(engine, 'BAD', bad.url);
    const px = track(await startProxy(engine, { outlierThreshold: 3 }));
    for (let i = 0; i < 2; i++) expect((await get(px.url + '/api/x')).status).toBe(500);
    expect(engine.backend('BAD')!.health).toBe('unknown');
    expect((await get(px.url + '/api/x')).status).toBe(500);
    expect(engine.backend('BAD')!.health).toBe('unhealthy');
    expect((await get(px.url + '/api/x')).status).toBe(503);
  });

  it('does not eject when health checks are disabled (nothing would bring the backend back)', async () => {
    const bad = track(await listen((_req, res) => ((res.statusCode = 502), res.end())));
    const engine = makeEngine({ healthCheckEnabled: false });
    addBackend(engine, 'BAD', bad.url);
    const px = track(await startProxy(engine, { outlierThreshold: 2, healthEnabled: false }));
    for (let i = 0; i < 4; i++) expect((await get(px.url + '/api/x')).status).toBe(502);
    expect(engine.backend('BAD')!.health).toBe('unknown');
  });

  it('does not eject when outlier detection is off (0)', async () => {
    const bad = track(await listen((_req, res) => ((res.statusCode = 503), res.end())));
    const engine = makeEngine();
    addBackend(engine, 'BAD', bad.url);
    const px = track(await startProxy(engine, { outlierThreshold: 0 }));
    for (let i = 0; i < 6; i++) expect((await get(px.url + '/api/x')).status).toBe(503);
    expect(engine.backend('BAD')!.health).toBe('unknown');
  });

  it('enforces max_request_body_bytes: Content-Length, chunked JSON and chunked streams → 413', async () => {
    const a = await echoBackend('A');
    const engine = makeEngine();
    addBackend(engine, 'A', a.url);
    const px = track(await startProxy(engine, { maxBodyBytes: 1000 }));
    const r = await get(px.url + '/api/x', { method: 'POST', body: Buffer.alloc(1001) });
    expect(r.status).toBe(413);
    expect((await get(px.url + '/api/x', { method: 'POST', body: Buffer.alloc(1000) })).status).toBe(200);
    const chunked = async (type: string) => {
      // a Readable without a length is sent chunked
      const body = Readable.from((function* () {
        for (let i = 0; i < 5; i++) yield Buffer.alloc(300, 0x20);
      })());
      const res = await request(px.url + '/api/x', { dispatcher: client, method: 'POST', headers: { 'content-type': type }, body });
      await res.body.dump();
      return res.statusCode;
    };
    expect(await chunked('application/json')).toBe(413);
    expect(await chunked('application/octet-stream')).toBe(413);
    await waitFor(() => engine.counts().reservations === 0, 'reservations released');
  });
});

describe('reverse proxy: raw protocol details', () => {
  it('keeps a keep-alive client connection usable across proxied requests', async () => {
    const a = await echoBackend('A');
    const engine = makeEngine();
    addBackend(engine, 'A', a.url);
    const px = track(await startProxy(engine));
    const sock = connect(px.port, '127.0.0.1');
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.write('GET /api/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /api/2?q HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => (data.match(/HTTP\/1\.1 200/g) ?? []).length === 2 && data.includes('/api/2?q'), 'two responses on one connection');
    sock.destroy();
  });

  it('relays HEAD, 204 and chunked responses with correct framing', async () => {
    const be = track(
      await listen((req, res) => {
        if (req.url === '/api/empty') {
          res.statusCode = 204;
          return void res.end();
        }
        if (req.method === 'HEAD') {
          res.writeHead(200, { 'content-length': '1234', 'content-type': 'text/plain' });
          return void res.end();
        }
        res.writeHead(200, { 'content-type': 'text/plain' }); // no length: chunked
        res.write('part1-');
        setTimeout(() => res.end('part2'), 20);
      }),
    );
    const engine = makeEngine();
    addBackend(engine, 'A', be.url);
    const px = track(await startProxy(engine));
    const head = await request(px.url + '/api/h', { dispatcher: client, method: 'HEAD' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe('1234');
    expect(await head.body.text()).toBe('');
    const empty = await get(px.url + '/api/empty');
    expect(empty.status).toBe(204);
    expect(empty.text).toBe('');
    const chunked = await get(px.url + '/api/c');
    expect(chunked.text).toBe('part1-part2');
    expect(chunked.headers['transfer-encoding']).toBe('chunked');
    // all three on one keep-alive client connection pool, and nothing left in flight
    await waitFor(() => px.proxy.inflight() === 0 && engine.counts().reservations === 0, 'all finished');
  });
});
