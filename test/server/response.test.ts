import type { ServerResponse} from 'node:http';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deferHeaders, VantageResponse } from '../../src/http/response.js';

const SECURITY = Object.freeze(['X-Frame-Options', 'DENY', 'X-Content-Type-Options', 'nosniff']);
const LIMITS = Object.freeze(['RateLimit-Remaining', '41']);

let server: Server | null = null;
afterEach(() => {
  server?.close();
  server = null;
});

/** Serves one handler on a real socket and returns the raw response head lines of one request. */
async function rawHead(handler: (req: IncomingMessage, res: ServerResponse) => void, withClass = true): Promise<string[]> {
  server = withClass ? createServer({ ServerResponse: VantageResponse }, handler) : createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const text = await new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let buf = '';
    s.on('data', (d: Buffer) => (buf += d.toString('latin1')));
    s.on('end', () => resolve(buf));
    s.on('error', reject);
  });
  return text.split('\r\n\r\n')[0]!.split('\r\n');
}

const values = (head: string[], name: string): string[] =>
  head.filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(l.indexOf(':') + 1).trim());

describe('VantageResponse and deferHeaders', () => {
  it('merges deferred lists into a flat writeHead list, handler headers first, each name once', async () => {
    const head = await rawHead((_req, res) => {
      deferHeaders(res, SECURITY);
      deferHeaders(res, LIMITS);
      expect((res as VantageResponse).getHeader('x-frame-options')).toBeUndefined(); // not set before the head
      res.writeHead(200, ['content-type', 'application/json', 'content-length', '2']);
      res.end('{}');
    });
    expect(head[0]).toBe('HTTP/1.1 200 OK');
    expect(values(head, 'x-frame-options')).toEqual(['DENY']);
    expect(values(head, 'x-content-type-options')).toEqual(['nosniff']);
    expect(values(head, 'ratelimit-remaining')).toEqual(['41']);
    expect(head.findIndex((l) => l.startsWith('content-type'))).toBeLessThan(head.findIndex((l) => l.startsWith('X-Frame-Options')));
  });

  it("keeps the handler's own value for a deferred name, whether given to writeHead (any case) or set before", async () => {
    const inList = await rawHead((_req, res) => {
      deferHeaders(res, SECURITY);
      res.writeHead(200, ['X-FRAME-OPTIONS', 'SAMEORIGIN', 'content-length', '0']);
      res.end();
    });
    expect(values(inList, 'x-frame-options')).toEqual(['SAMEORIGIN']);
    expect(values(inList, 'x-content-type-options')).toEqual(['nosniff']);
    server?.close();

    const setBefore = await rawHead((_req, res) => {
      deferHeaders(res, SECURITY);
      res.setHeader('x-frame-options', 'SAMEORIGIN');
      res.writeHead(201, ['content-length', '0']);
      res.end();
    });
    expect(setBefore[0]).toBe('HTTP/1.1 201 Created');
    expect(values(setBefore, 'x-frame-options')).toEqual(['SAMEORIGIN']);
    expect(values(setBefore, 'x-content-type-options')).toEqual(['nosniff']);
    server?.close();

    const inObject = await rawHead((_req, res) => {
      deferHeaders(res, SECURITY);
      res.writeHead(200, 'Fine', { 'x-frame-options': 'SAMEORIGIN', 'content-length': 0 });
      res.end();
    });
    expect(inObject[0]).toBe('HTTP/1.1 200 Fine');
    expect(values(inObject, 'x-frame-options')).toEqual(['SAMEORIGIN']);
    expect(values(inObject, 'x-content-type-options')).toEqual(['nosniff']);
  });

  it('adds deferred headers when the head is written implicitly by end() or write()', async () => {
    const head = await rawHead((_req, res) => {
      deferHeaders(res, LIMITS);
      res.statusCode = 202;
      res.end('ok');
    });
    expect(head[0]).toBe('HTTP/1.1 202 Accepted');
    expect(values(head, 'ratelimit-remaining')).toEqual(['41']);
  });

  it('falls back to setHeader on any other response, without overriding what is set', async () => {
    const head = await rawHead((_req, res) => {
      res.setHeader('x-frame-options', 'SAMEORIGIN');
      deferHeaders(res, SECURITY);
      expect(res.getHeader('x-content-type-options')).toBe('nosniff'); // set at once
      res.end();
    }, false);
    expect(values(head, 'x-frame-options')).toEqual(['SAMEORIGIN']);
    expect(values(head, 'x-content-type-options')).toEqual(['nosniff']);
  });

  it('ignores lists deferred after the head went out and empty lists', async () => {
    const head = await rawHead((_req, res) => {
      deferHeaders(res, []);
      expect((res as VantageResponse).deferred).toBeNull();
      res.writeHead(204);
      deferHeaders(res, SECURITY);
      res.end();
    });
    expect(head[0]).toBe('HTTP/1.1 204 No Content');
    expect(values(head, 'x-frame-options')).toEqual([]);
  });
});

describe('VantageResponse close hook', () => {
  it('runs once, before the close listeners, for answered and for aborted requests', async () => {
    const events: string[] = [];
    let aborted!: () => void;
    const abortedSeen = new Promise<void>((r) => (aborted = r));
    let arrived!: () => void;
    const abortArrived = new Promise<void>((r) => (arrived = r));
    server = createServer({ ServerResponse: VantageResponse }, (req, res) => {
      const r = res as VantageResponse;
      r.closeData = req.url;
      r.closeHook = (_res, data) => {
        events.push(`hook:${String(data)}:${r.writableFinished ? 'finished' : 'aborted'}`);
        if (data === '/abort') aborted();
      };
      res.on('close', () => events.push(`listener:${req.url}`));
      // Other events keep all their arguments.
      res.on('probe', (a: unknown, b: unknown, c: unknown) => events.push(`probe:${String(a)}:${String(b)}:${String(c)}`));
      expect((res as unknown as NodeJS.EventEmitter).emit('probe', 1, 'two', null)).toBe(true);
      if (req.url === '/ok') res.end('ok');
      else arrived();
      // '/abort' is never answered: the client goes away.
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const ok = await fetch(`http://127.0.0.1:${port}/ok`);
    expect(await ok.text()).toBe('ok');
    const s = connect(port, '127.0.0.1', () => s.write('GET /abort HTTP/1.1\r\nHost: x\r\n\r\n'));
    await abortArrived;
    s.destroy();
    await abortedSeen;
    await new Promise((r) => setImmediate(r));
    expect(events.filter((e) => e.includes('/ok'))).toEqual(['hook:/ok:finished', 'listener:/ok']);
    expect(events.filter((e) => e.startsWith('probe'))).toEqual(['probe:1:two:null', 'probe:1:two:null']);
    expect(events.filter((e) => e.includes('/abort'))).toEqual(['hook:/abort:aborted', 'listener:/abort']);
  });
});
