import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerConfigSchema } from '../../src/config/server.js';
import { HttpError } from '../../src/http/errors.js';
import { actorFor, actorOf, apiKeyRefusal, authenticateApiKey, createKeyChecker } from '../../src/auth/api-key.js';
import { OPEN } from '../../src/auth/principal.js';
import { safeEqual, secretMatcher } from '../../src/auth/safe-equal.js';
import { identifyWorker } from '../../src/auth/worker-token.js';
import { authenticateStage } from '../../src/http/stages/authenticate.js';
import { compose, type RequestContext, type Stage } from '../../src/http/pipeline.js';
import { isAcceptedJsonType, parseJsonBody } from '../../src/http/stages/validate-input.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { api, registerBody, statsBody, tempDir } from './helpers.js';

const silent = pino({ level: 'silent' });

describe('compose', () => {
  const errorsOf = () => {
    const errors: unknown[] = [];
    return { errors, onError: (_ctx: RequestContext, err: unknown) => void errors.push(err) };
  };
  const idOf = (ctx: RequestContext) => (ctx as unknown as { id: string }).id;

  it('runs stages in order, skips null entries, and lets a stage stop the chain', () => {
    const seen: string[] = [];
    const stage = (name: string, stop = false): Stage => (_ctx, next) => {
      seen.push(`${name}>`);
      if (!stop) next();
      seen.push(`<${name}`);
    };
    const { errors, onError } = errorsOf();
    compose([stage('a'), null, undefined, stage('b')], () => void seen.push('final'), onError)({} as RequestContext);
    expect(seen).toEqual(['a>', 'b>', 'final', '<b', '<a']);
    seen.length = 0;
    compose([stage('a', true), stage('b')], () => void seen.push('final'), onError)({} as RequestContext);
    expect(seen).toEqual(['a>', '<a']);
    expect(errors).toEqual([]);
  });

  it('hands a throw, a rejection or next(err) from any stage or the handler to the error handler, once, and runs nothing after it', async () => {
    const ran: string[] = [];
    const after: Stage = (_c, next) => {
      ran.push('after');
      next();
    };
    const failures: Record<string, Stage> = {
      throw: () => {
        throw new HttpError(418, 'teapot');
      },
      reject: async () => {
        await Promise.resolve();
        throw new HttpError(418, 'teapot');
      },
      'next(err)': (_c, next) => next(new HttpError(418, 'teapot')),
      'next(err) later': (_c, next) => void setImmediate(() => next(new HttpError(418, 'teapot'))),
      'next(err), then next()': (_c, next) => {
        next(new HttpError(418, 'teapot'));
        next();
      },
    };
    for (const [how, stage] of Object.entries(failures)) {
      ran.length = 0;
      const { errors, onError } = errorsOf();
      const done = new Promise<void>((resolve) => {
        compose([stage, after], () => void ran.push('final'), (ctx, err) => {
          onError(ctx, err);
          resolve();
        })({} as RequestContext);
      });
      await done;
      expect(errors, how).toHaveLength(1);
      expect(errors[0], how).toBeInstanceOf(HttpError);
      expect(ran, how).toEqual([]);
    }
    for (const handler of [
      () => {
        throw new Error('sync handler');
      },
      () => Promise.reject(new Error('async handler')),
    ]) {
      const failed = new Promise<unknown>((resolve) => compose([after], handler, (_ctx, err) => resolve(err))({} as RequestContext));
      expect(await failed).toBeInstanceOf(Error);
    }
  });

  it('continues from a stage that calls next() later, and still catches what fails after that', async () => {
    const order: string[] = [];
    const later: Stage = (ctx, next) => {
      order.push(`later:${idOf(ctx)}`);
      setImmediate(next);
    };
    const failed = new Promise<unknown>((resolve) => {
      const run = compose(
        [later],
        (ctx) => {
          order.push(`final:${idOf(ctx)}`);
          if (idOf(ctx) === 'bad') throw new Error('handler failed after an asynchronous stage');
        },
        (_ctx, err) => resolve(err),
      );
      run({ id: 'ok' } as unknown as RequestContext);
      run({ id: 'bad' } as unknown as RequestContext);
      expect(order).toEqual(['later:ok', 'later:bad']);
    });
    expect(await failed).toMatchObject({ message: /after an asynchronous stage/ });
    expect(order).toEqual(['later:ok', 'later:bad', 'final:ok', 'final:bad']);
  });

  it('keeps each request on its own position, and refuses a second next() from one stage', async () => {
    const order: string[] = [];
    const tag: Stage = (ctx, next) => {
      order.push(`tag:${idOf(ctx)}`);
      next();
    };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let r1Done!: () => void;
    const r1Finished = new Promise<void>((r) => (r1Done = r));
    const slow: Stage = async (ctx, next) => {
      if (idOf(ctx) === 'r1') await gate;
      next();
    };
    const { errors, onError } = errorsOf();
    const run = compose(
      [tag, slow, tag],
      (ctx) => {
        order.push(`final:${idOf(ctx)}`);
        if (idOf(ctx) === 'r1') r1Done();
      },
      onError,
    );
    run({ id: 'r1' } as unknown as RequestContext);
    run({ id: 'r2' } as unknown as RequestContext);
    release();
    await r1Finished;
    expect(order).toEqual(['tag:r1', 'tag:r2', 'tag:r2', 'final:r2', 'tag:r1', 'final:r1']);
    expect(errors).toEqual([]);

    const twice: Stage = (_c, next) => {
      next();
      next();
    };
    let finals = 0;
    compose([twice], () => void finals++, onError)({} as RequestContext);
    expect(finals).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: /next\(\) called twice/ });
  });
});

describe('API key checker', () => {
  it('authenticates: OPEN without keys, the server or api principal, or why not (missing, wrong, first of an array header)', () => {
    const check = createKeyChecker({ server_key: 'srv-key', api_keys: ['k1'] });
    expect(authenticateApiKey(null, undefined)).toBe(OPEN);
    expect(authenticateApiKey(null, 'anything')).toBe(OPEN);
    expect(authenticateApiKey(check, undefined)).toBe('missing');
    expect(authenticateApiKey(check, '')).toBe('missing');
    expect(authenticateApiKey(check, [])).toBe('missing');
    expect(authenticateApiKey(check, 'k2')).toBe('wrong');
    expect(authenticateApiKey(check, 'srv-key')).toEqual({ kind: 'api-key', key: 'server', role: 'admin' });
    expect(authenticateApiKey(check, 'k1')).toEqual({ kind: 'api-key', key: 'api', role: 'admin' });
    expect(authenticateApiKey(check, ['k1', 'srv-key'])).toEqual({ kind: 'api-key', key: 'api', role: 'admin' });
    expect(authenticateApiKey(check, ['nope', 'k1'])).toBe('wrong');
    // The same key as server_key and in api_keys: the server key wins.
    expect(authenticateApiKey(createKeyChecker({ server_key: 'x', api_keys: ['x'] }), 'x')).toEqual({ kind: 'api-key', key: 'server', role: 'admin' });
  });

  it('refuses a missing key with 401 and a wrong one with 403, naming the header', () => {
    expect(apiKeyRefusal('missing')).toMatchObject({ status: 401, message: /X-API-Key header/, opts: { field: 'X-API-Key' } });
    expect(apiKeyRefusal('wrong')).toMatchObject({ status: 403, message: 'invalid API key', opts: { field: 'X-API-Key' } });
  });

  it('the authenticate stage sets ctx.principal, leaves OPEN on open routes and without keys, and throws the refusal', () => {
    let keys = createKeyChecker({ server_key: 'srv-key', api_keys: [] });
    const stage = authenticateStage({ keys: () => keys });
    const ctx = (key: string | undefined, auth = true) =>
      ({ req: { headers: key === undefined ? {} : { 'x-api-key': key }, socket: {} }, route: { auth }, principal: OPEN }) as unknown as RequestContext;
    const run = (c: RequestContext) => {
      let passed = false;
      void stage(c, () => void (passed = true));
      return passed;
    };
    const agent = ctx('srv-key');
    expect(run(agent)).toBe(true);
    expect(agent.principal).toEqual({ kind: 'api-key', key: 'server', role: 'admin' });
    const open = ctx(undefined, false);
    expect(run(open)).toBe(true);
    expect(open.principal).toBe(OPEN);
    expect(() => run(ctx(undefined))).toThrow(expect.objectContaining({ status: 401 }));
    expect(() => run(ctx('k'))).toThrow(expect.objectContaining({ status: 403 }));
    keys = null; // keys reloaded away: auth off from the next request on
    const any = ctx(undefined);
    expect(run(any)).toBe(true);
    expect(any.principal).toBe(OPEN);
  });

  it('names the audit actor by the presented key, else anonymous', () => {
    expect(actorOf('k1')).toBe(actorFor('k1'));
    expect(actorOf(['k1', 'k2'])).toBe(actorFor('k1'));
    expect(actorOf(undefined)).toBe('anonymous');
    expect(actorFor('k1')).toMatch(/^api-key:[0-9a-f]{12}$/);
  });

  it('safe-equal compares whole strings; the matcher returns the first matching label', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    const match = secretMatcher([
      { secret: 'a', label: 1 },
      { secret: 'b', label: 2 },
      { secret: 'a', label: 3 },
    ]);
    expect([match('a'), match('b'), match('c')]).toEqual([1, 2, null]);
  });

  it('the worker token check yields a worker-token principal', () => {
    const cfg = { cluster_token: 'ct', server_key: 'sk' };
    expect(identifyWorker({ authorization: 'Bearer ct' }, cfg)).toEqual({ ok: true, kind: 'worker-token', via: 'cluster_token' });
    expect(identifyWorker({ 'x-api-key': 'sk' }, cfg)).toEqual({ ok: true, kind: 'worker-token', via: 'server_key' });
    expect(identifyWorker({}, { cluster_token: '', server_key: '' })).toEqual({ ok: true, kind: 'worker-token', via: 'open' });
    expect(identifyWorker({}, cfg)).toEqual({ ok: false, reason: 'missing' });
    expect(identifyWorker({ 'x-cluster-token': 'nope' }, cfg)).toEqual({ ok: false, reason: 'wrong' });
  });

  it('is off without keys', () => {
    expect(createKeyChecker({ server_key: '', api_keys: ['', ''] })).toBeNull();
  });

  it('classifies missing, wrong, server and api keys', () => {
    const check = createKeyChecker({ server_key: 'srv-key', api_keys: ['k1', 'k2'] })!;
    expect(check(undefined)).toBe('missing');
    expect(check('')).toBe('missing');
    expect(check('srv-ke')).toBe('wrong');
    expect(check('srv-key ')).toBe('wrong');
    expect(check('srv-key')).toBe('server');
    expect(check('k2')).toBe('api');
    expect(check(['k1', 'other'])).toBe('api');
  });

  it("remembers each connection's last key and verdict, re-checking whenever the connection sends another value", () => {
    let verified = 0;
    const check = createKeyChecker({ server_key: 'srv-key', api_keys: ['k1'] }, { onVerify: () => verified++ })!;
    const a = {};
    const b = {};
    expect([check('k1', a), check('k1', a), check('k1', a)]).toEqual(['api', 'api', 'api']);
    expect(verified).toBe(1);
    expect(check('nope', a)).toBe('wrong'); // a different value on the same connection is checked
    expect(check('k1', a)).toBe('api');
    expect(verified).toBe(3);
    expect(check('srv-key', b)).toBe('server'); // another connection has its own memory
    expect(check('k1', b)).toBe('api');
    expect(verified).toBe(5);
    expect(check('k1')).toBe('api'); // without a connection: always checked
    expect(check(['k1'], a)).toBe('api'); // repeated headers: always checked
    expect(check(undefined, a)).toBe('missing');
    expect(verified).toBe(7);
  });
});

describe('Content-Type rules for JSON bodies', () => {
  it.each([
    ['application/json', true],
    ['Application/JSON; charset=utf-8', true],
    ['application/merge-patch+json', true],
    [undefined, true],
    ['application/x-www-form-urlencoded', true],
    ['text/plain', true],
    ['text/xml', false],
    ['multipart/form-data; boundary=x', false],
    ['application/octet-stream', false],
  ])('%s → accepted=%s', (type, ok) => {
    expect(isAcceptedJsonType(type).ok).toBe(ok);
  });

  it('parses only JSON, whatever the lenient label', () => {
    expect(parseJsonBody(Buffer.from('{"a":1}'), 'application/x-www-form-urlencoded')).toEqual({ a: 1 });
    expect(() => parseJsonBody(Buffer.from('tier=small'), 'application/x-www-form-urlencoded')).toThrow(/malformed JSON/);
    expect(() => parseJsonBody(Buffer.from('{}'), 'text/xml')).toThrow(/unsupported Content-Type/);
    expect(parseJsonBody(Buffer.alloc(0), 'application/json')).toBeUndefined();
  });
});

describe('startServer (in process): replaced stages, routing order, fallback hook', () => {
  const started: Array<{ s: RunningServer; cleanup: () => void }> = [];
  afterEach(async () => {
    for (const { s, cleanup } of started.splice(0)) {
      await s.close({ timeoutMs: 1000 });
      cleanup();
    }
  });
  const start = async (over: Record<string, unknown>, opts: Partial<Parameters<typeof startServer>[1]> = {}) => {
    const t = tempDir();
    const config = ServerConfigSchema.parse({ port: 0, host: '127.0.0.1', database: `${t.dir}/v.db`, monitoring_enabled: false, ...over });
    const s = await startServer(config, { logger: silent, ...opts });
    started.push({ s, cleanup: t.cleanup });
    return s;
  };

  it('runs allow-list and rate-limit stages before the API key, and security headers even for /health', async () => {
    const order: string[] = [];
    const mark = (name: string): Stage => async (ctx, next) => {
      order.push(`${name} ${ctx.path}`);
      if (name === 'securityHeaders') ctx.res.setHeader('x-content-type-options', 'nosniff');
      await next();
    };
    const s = await start(
      { server_key: 'secret' },
      { stages: { securityHeaders: mark('securityHeaders'), allowList: mark('allowList'), rateLimit: mark('rateLimit'), timeout: mark('timeout') } },
    );
    const wrong = await api(s.url, '/clients', { headers: { 'X-API-Key': 'nope' } });
    expect(wrong.status).toBe(403);
    expect(order).toEqual(['securityHeaders /clients', 'timeout /clients', 'allowList /clients', 'rateLimit /clients']);
    order.length = 0;
    const health = await api(s.url, '/health');
    expect(health.status).toBe(200);
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect(order).toEqual(['securityHeaders /health']);
  });

  it('answers 500 JSON when a stage crashes, and keeps serving', async () => {
    const s = await start({}, { stages: { rateLimit: () => Promise.reject(new Error('bug')) } });
    const r = await api(s.url, '/clients');
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ error: 'internal server error', request_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect((await api(s.url, '/health')).status).toBe(200);
  });

  it('management paths win over the fallback; other paths go to it, or 404', async () => {
    const s = await start({});
    expect((await api(s.url, '/api/x')).status).toBe(404);
    const seen: string[] = [];
    s.setFallback((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === '/decline') return false;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('proxied');
      return true;
    });
    expect((await api(s.url, '/api/x?y=1')).text).toBe('proxied');
    expect((await api(s.url, '/decline')).status).toBe(404);
    expect((await api(s.url, '/register', { body: registerBody('m') })).json).toMatchObject({ status: 'registered' });
    expect((await api(s.url, '/health')).json.status).toBe('healthy');
    expect(seen).toEqual(['/api/x?y=1', '/decline']);
  });

  it('starts the monitoring control plane when enabled and serves its web API behind the API key', async () => {
    const s = await start({ monitoring_enabled: true, worker_port: 0, worker_host: '127.0.0.1', server_key: 'k' });
    expect(s.monitoring).not.toBeNull();
    expect(s.monitoring!.workerPort).toBeGreaterThan(0);
    const path = '/vantage.v1.MonitorsService/ListMonitors';
    expect((await api(s.url, path, { body: {} })).status).toBe(401);
    const ok = await api(s.url, path, { body: {}, headers: { 'X-API-Key': 'k' } });
    expect(ok.status).toBe(200);
    expect(ok.json).toBeTypeOf('object');
    expect((await api(s.url, '/vantage.v1.Nope/Thing', { body: {}, headers: { 'X-API-Key': 'k' } })).status).toBe(404);
  });

  it('a missing GeoIP database logs a warning at startup and routes without the distance term', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const s = await start({ geoip_db_path: '/nonexistent/GeoLite2-City.mmdb' }, { logger });
    expect(s.geoip).toBe(false);
    const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.level === 40 && /GeoIP/.test(l.msg));
    expect(warning?.msg).toMatch(/distance term off/);
    await api(s.url, '/register', { body: registerBody('g', { latitude: 10, longitude: 10 }) });
    await api(s.url, '/stats', { body: statsBody('g') });
    const r = await api(s.url, '/route', { body: { tier: 'small', client_ip: '203.0.113.7' } });
    expect(r.status).toBe(200);
    expect(r.json).not.toHaveProperty('distance_km');
  });

  it('close() waits for in-flight requests and flushes pending writes before closing the database', async () => {
    const s = await start({});
    await api(s.url, '/register', { body: registerBody('w') });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    s.setFallback(async (_req, res) => {
      await gate;
      res.end('late');
      return true;
    });
    const slow = api(s.url, '/slow');
    await new Promise<void>((r) => {
      const poll = () => (s.inFlight() > 0 ? r() : setTimeout(poll, 5));
      poll();
    });
    s.writeBehind.touch({ clientId: 'w', lastSeen: 42_000_000_000_000 });
    let done = false;
    const closing = s.close({ timeoutMs: 5000 }).then(() => void (done = true));
    // Closing has begun (the listener is gone) but waits for the in-flight request.
    await new Promise<void>((r) => {
      const poll = () => (!s.httpServer.listening ? r() : setTimeout(poll, 5));
      poll();
    });
    expect(s.inFlight()).toBe(1);
    expect(done).toBe(false);
    release();
    expect((await slow).text).toBe('late');
    await closing;
    expect(s.writeBehind.pending()).toBe(0);
    await expect(s.store.lb.countStats()).rejects.toThrow(/not open/);
    started.pop()!.cleanup();
  });
});

describe('request log levels', () => {
  it('keeps successes and rate-limit refusals at debug, other client errors and 503 at info, other 5xx at warn', async () => {
    const { requestLogLevel } = await import('../../src/http/stages/request-log.js');
    expect([200, 204, 301].map(requestLogLevel)).toEqual(['debug', 'debug', 'debug']);
    expect(requestLogLevel(429)).toBe('debug');
    expect([400, 401, 403, 404, 413].map(requestLogLevel)).toEqual(['info', 'info', 'info', 'info', 'info']);
    expect(requestLogLevel(503)).toBe('info');
    expect(requestLogLevel('aborted')).toBe('info');
    expect([500, 502, 504].map(requestLogLevel)).toEqual(['warn', 'warn', 'warn']);
  });
});
