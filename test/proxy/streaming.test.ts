import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { addBackend, listen, makeEngine, startProxy, stats, waitFor } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function track<T extends { close(): Promise<void> }>(s: T): T {
  cleanups.push(() => s.close());
  return s;
}

/** GET through node:http, collecting data chunks with their arrival time. */
function stream(url: string, headers: Record<string, string> = {}) {
  const chunks: Array<{ t: number; text: string }> = [];
  let res: IncomingMessage | null = null;
  let ended = false;
  let errored = false;
  const req = httpRequest(url, { headers, agent: false }, (r) => {
    res = r;
    r.on('data', (d: Buffer) => chunks.push({ t: performance.now(), text: d.toString() }));
    r.on('end', () => (ended = true));
    r.on('error', () => (errored = true));
    r.on('aborted', () => (errored = true));
  });
  req.on('error', () => (errored = true));
  req.end();
  return { req, chunks, res: () => res, ended: () => ended, errored: () => errored };
}

describe('SSE', () => {
  /** A backend writing `n` events `gapMs` apart, recording when each was written. */
  async function sseBackend(n: number, gapMs: number, endDelayMs = 0) {
    const written: number[] = [];
    const s = track(
      await listen((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.flushHeaders();
        let i = 0;
        const tick = () => {
          if (i === n) {
            setTimeout(() => res.end(), endDelayMs);
            return;
          }
          written.push(performance.now());
          res.write(`id: ${i}\ndata: event ${i}\n\n`);
          i++;
          setTimeout(tick, gapMs);
        };
        tick();
      }),
    );
    return { ...s, written };
  }
  const events = (chunks: Array<{ t: number; text: string }>) => {
    const out: Array<{ t: number; id: number }> = [];
    for (const c of chunks) for (const m of c.text.matchAll(/id: (\d+)/g)) out.push({ t: c.t, id: Number(m[1]) });
    return out;
  };

  it('delivers events one by one within 50 ms of being written (flush -1), exempt from the timeout', async () => {
    const be = await sseBackend(5, 250);
    const engine = makeEngine();
    addBackend(engine, 'S', be.url);
    // the timeout (150 ms) is shorter than the gap between events: SSE must not be cut
    const px = track(await startProxy(engine, { timeoutMs: 150, sseFlushIntervalMs: -1 }));
    const c = stream(px.url + '/api/events', { accept: 'text/event-stream' });
    await waitFor(() => c.ended() || c.errored(), 'stream end');
    expect(c.errored()).toBe(false);
    expect(c.res()!.headers['content-type']).toBe('text/event-stream');
    expect(c.res()!.headers['content-encoding']).toBeUndefined();
    const got = events(c.chunks);
    expect(got.map((e) => e.id)).toEqual([0, 1, 2, 3, 4]);
    for (const e of got) expect(e.t - be.written[e.id]!).toBeLessThan(50);
  });

  it('flushes on an interval (>0) and not at all (0) until the stream ends', async () => {
    // interval 300 ms: five events written 10 ms apart arrive together, before the backend ends the stream
    const be = await sseBackend(5, 10, 1_000);
    const engine = makeEngine();
    addBackend(engine, 'S', be.url);
    const px = track(await startProxy(engine, { sseFlushIntervalMs: 300 }));
    const c = stream(px.url + '/api/events');
    await waitFor(() => events(c.chunks).length === 5, 'all events');
    const endAt = be.written[4]! + 1_000;
    expect(performance.now()).toBeLessThan(endAt);
    // held back until the interval flush: the first event waited, and they arrived together (written 40 ms apart)
    const got1 = events(c.chunks);
    expect(got1[0]!.t - be.written[0]!).toBeGreaterThan(100);
    expect(got1[4]!.t - got1[0]!.t).toBeLessThan(20);
    await waitFor(() => c.ended(), 'end');

    const be0 = await sseBackend(3, 10, 400);
    const e0 = makeEngine();
    addBackend(e0, 'S', be0.url);
    const px0 = track(await startProxy(e0, { sseFlushIntervalMs: 0 }));
    const c0 = stream(px0.url + '/api/events');
    await waitFor(() => c0.ended(), 'end');
    const got = events(c0.chunks);
    expect(got.map((e) => e.id)).toEqual([0, 1, 2]);
    // nothing was flushed before the backend ended the stream (≈400 ms after the last event)
    for (const e of got) expect(e.t - be0.written[2]!).toBeGreaterThan(300);
  });

  it('cuts a non-SSE response body that stalls longer than the timeout', async () => {
    const stall = track(
      await listen((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part');
        setTimeout(() => res.end('never'), 5_000).unref();
      }),
    );
    const engine = makeEngine();
    addBackend(engine, 'S', stall.url);
    const px = track(await startProxy(engine, { timeoutMs: 200 }));
    const c = stream(px.url + '/api/x');
    await waitFor(() => c.errored() || c.ended(), 'stalled response closed', 3_000);
    expect(c.errored()).toBe(true);
    expect(c.chunks.map((x) => x.text).join('')).toBe('first part');
  });
});

describe('WebSocket', () => {
  async function wsBackend(id: string) {
    const s = await listen((_req, res) => ((res.statusCode = 426), res.end()));
    const wss = new WebSocketServer({ server: s.server });
    const closed: number[] = [];
    wss.on('connection', (ws, req) => {
      ws.on('message', (m) => {
        const text = m.toString();
        if (text === 'bye') ws.close(4000, 'server bye');
        else ws.send(`${id}:${text}:${req.headers['x-forwarded-for'] ?? ''}`);
      });
      ws.on('close', () => closed.push(Date.now()));
    });
    return track({ ...s, closed, close: async () => (wss.close(), await s.close()) });
  }
  function open(url: string, headers: Record<string, string> = {}) {
    const ws = new WebSocket(url, { headers });
    const messages: string[] = [];
    let closeCode: number | null = null;
    let unexpected: number | null = null;
    ws.on('message', (m) => messages.push(m.toString()));
    ws.on('close', (code) => (closeCode = code));
    ws.on('unexpected-response', (_req, res) => {
      unexpected = res.statusCode ?? 0;
      res.resume();
    });
    ws.on('error', () => {});
    return { ws, messages, closeCode: () => closeCode, unexpected: () => unexpected, opened: () => ws.readyState === WebSocket.OPEN };
  }

  it('echoes through the proxy, sticky-aware, and closes on either side', async () => {
    const x = await wsBackend('X');
    const y = await wsBackend('Y');
    const engine = makeEngine();
    addBackend(engine, 'X', x.url, { cpu: 10, memAvailGb: 30 });
    addBackend(engine, 'Y', y.url, { cpu: 20, memAvailGb: 30 });
    const px = track(await startProxy(engine));
    const wsUrl = px.url.replace('http:', 'ws:') + '/api/ws?tier=a';

    const c1 = open(wsUrl, { 'x-session-id': 'sess' });
    await waitFor(c1.opened, 'open');
    c1.ws.send('hello');
    await waitFor(() => c1.messages.length === 1, 'echo');
    expect(c1.messages[0]).toBe('X:hello:127.0.0.1');

    // X becomes worse; the sticky session still goes to X, a new one goes to Y
    engine.reportStats('X', stats(70, 30));
    const c2 = open(wsUrl, { 'x-session-id': 'sess' });
    const c3 = open(wsUrl);
    await waitFor(() => c2.opened() && c3.opened(), 'open 2 and 3');
    c2.ws.send('a');
    c3.ws.send('b');
    await waitFor(() => c2.messages.length === 1 && c3.messages.length === 1, 'echo 2 and 3');
    expect(c2.messages[0]!.startsWith('X:a')).toBe(true);
    expect(c3.messages[0]!.startsWith('Y:b')).toBe(true);

    // backend closes → client sees the close frame
    c1.ws.send('bye');
    await waitFor(() => c1.closeCode() !== null, 'client closed by backend');
    expect(c1.closeCode()).toBe(4000);
    // client closes → backend sees it; the non-sticky reservation is released
    const yClosedBefore = y.closed.length;
    c3.ws.close();
    await waitFor(() => y.closed.length === yClosedBefore + 1, 'backend saw client close');
    c2.ws.terminate();
    await waitFor(() => px.proxy.inflight() === 0, 'tunnels gone');
    expect(engine.counts().reservations).toBe(1); // only the sticky session's
  });

  it('answers an upgrade for an unknown tier with 400 and a dead backend with 502', async () => {
    const engine = makeEngine();
    const dead = await listen(() => {});
    const deadUrl = dead.url;
    await dead.close();
    addBackend(engine, 'D', deadUrl);
    const px = track(await startProxy(engine));
    const bad = open(px.url.replace('http:', 'ws:') + '/api/ws?tier=zzz');
    await waitFor(() => bad.unexpected() !== null, 'unexpected response');
    expect(bad.unexpected()).toBe(400);
    const down = open(px.url.replace('http:', 'ws:') + '/api/ws');
    await waitFor(() => down.unexpected() !== null, 'unexpected response');
    expect(down.unexpected()).toBe(502);
    await waitFor(() => engine.counts().reservations === 0, 'reservations released');
  });
});

describe('large bodies', () => {
  const TOTAL = 100 * 1024 * 1024;
  const CHUNK = Buffer.alloc(64 * 1024, 0x61);

  function sampleMemory() {
    const base = process.memoryUsage();
    let peak = 0;
    const t = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.arrayBuffers - base.arrayBuffers + (m.heapUsed - base.heapUsed));
    }, 10);
    return { stop: () => (clearInterval(t), peak) };
  }

  it('streams a 100 MB upload and a 100 MB download with flat memory', async () => {
    let received = 0;
    const be = track(
      await listen((req, res) => {
        if (req.method === 'POST') {
          req.on('data', (c: Buffer) => (received += c.length));
          req.on('end', () => res.end(String(received)));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': TOTAL });
        let sent = 0;
        const pump = () => {
          while (sent < TOTAL) {
            sent += CHUNK.length;
            if (!res.write(CHUNK)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      }),
    );
    const engine = makeEngine();
    addBackend(engine, 'B', be.url);
    const px = track(await startProxy(engine, { maxBodyBytes: 200 * 1024 * 1024 }));

    const mem = sampleMemory();
    // upload, written with backpressure
    const answer = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(px.url + '/api/up', { method: 'POST', agent: false, headers: { 'content-type': 'application/octet-stream', 'content-length': TOTAL } }, (res) => {
        let t = '';
        res.on('data', (d: Buffer) => (t += d.toString()));
        res.on('end', () => resolve(t));
      });
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < TOTAL) {
          sent += CHUNK.length;
          if (!req.write(CHUNK)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(Number(answer)).toBe(TOTAL);
    // download
    const got = await new Promise<number>((resolve, reject) => {
      httpRequest(px.url + '/api/down', { agent: false }, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.length));
        res.on('end', () => resolve(n));
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    expect(got).toBe(TOTAL);
    const peak = mem.stop();
    // buffering either body would hold ≥ 100 MB at once; streaming stays well below (≈ 30 MB measured, most of it
    // garbage chunks that GC has not collected yet — client, proxy and backend share this process)
    expect(peak).toBeLessThan(80 * 1024 * 1024);
  }, 60_000);
});

describe('backend TLS', () => {
  it('proxies to https:// endpoints, verifying certificates unless tls_insecure_skip_verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    } catch {
      console.warn('openssl not available: skipping the backend TLS test');
      return;
    }
    const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => res.end('secure'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const engine = makeEngine();
    addBackend(engine, 'T', url);
    const insecure = track(await startProxy(engine, { tlsInsecureSkipVerify: true }));
    const ok = stream(insecure.url + '/api/x');
    await waitFor(() => ok.ended(), 'response');
    expect(ok.res()!.statusCode).toBe(200);
    expect(ok.chunks.map((c) => c.text).join('')).toBe('secure');

    const strict = track(await startProxy(engine, { tlsInsecureSkipVerify: false }));
    const bad = stream(strict.url + '/api/x');
    await waitFor(() => bad.ended(), 'response');
    expect(bad.res()!.statusCode).toBe(502);
  });
});

describe('graceful drain', () => {
  it('lets in-flight requests finish, refuses new ones, and closes streams at the deadline', async () => {
    const be = track(
      await listen((req, res) => {
        if (req.url === '/api/sse') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: hi\n\n');
          return; // never ends
        }
        setTimeout(() => res.end('done'), 300);
      }),
    );
    const engine = makeEngine();
    addBackend(engine, 'B', be.url);
    const px = track(await startProxy(engine));
    const slow = stream(px.url + '/api/slow');
    const sse = stream(px.url + '/api/sse');
    await waitFor(() => px.proxy.inflight() === 2 && sse.chunks.length > 0, 'both in flight');
    const t0 = Date.now();
    const drained = px.proxy.drain(1_000);
    const refused = stream(px.url + '/api/new');
    await waitFor(() => refused.ended(), 'refused');
    expect(refused.res()!.statusCode).toBe(503);
    await waitFor(() => slow.ended(), 'slow finished');
    expect(slow.res()!.statusCode).toBe(200);
    expect(slow.chunks.map((c) => c.text).join('')).toBe('done');
    await drained;
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(3_000);
    await waitFor(() => sse.errored() || sse.ended(), 'sse closed');
    expect(px.proxy.inflight()).toBe(0);
  });
});
