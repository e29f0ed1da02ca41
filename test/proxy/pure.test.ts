import { describe, expect, it } from 'vitest';
import {
  compilePrefixes,
  detectTier,
  downstreamResponseHeaders,
  isJsonContentType,
  originForm,
  OutlierDetector,
  pathOf,
  tierFromJsonBody,
  tierFromQuery,
  upstreamRequestHeaders,
} from '../../src/lb/proxy/index.js';
import { forwardedValue, normalizeIp } from '../../src/lb/proxy/headers.js';

describe('proxy prefixes', () => {
  it('matches on segment boundaries', () => {
    const m = compilePrefixes(['/api', '/v1/']);
    expect(m('/api')).toBe(true);
    expect(m('/api/')).toBe(true);
    expect(m('/api/users/1')).toBe(true);
    expect(m('/apix')).toBe(false);
    expect(m('/v1')).toBe(true);
    expect(m('/v1/x')).toBe(true);
    expect(m('/v10')).toBe(false);
    expect(m('/')).toBe(false);
    expect(m('/other')).toBe(false);
  });
  it('"/*" matches everything, an empty list nothing, "/x/*" means "/x"', () => {
    expect(compilePrefixes(['/api', '/*'])('/anything/at/all')).toBe(true);
    expect(compilePrefixes([])('/api')).toBe(false);
    const m = compilePrefixes(['/x/*']);
    expect(m('/x')).toBe(true);
    expect(m('/x/y')).toBe(true);
    expect(m('/xy')).toBe(false);
  });
  it('pathOf / originForm keep path and query exactly', () => {
    expect(pathOf('/a/b%2Fc?x=1')).toBe('/a/b%2Fc');
    expect(pathOf('/a')).toBe('/a');
    expect(pathOf('http://h:1/p/q?z')).toBe('/p/q');
    expect(pathOf('http://h:1')).toBe('/');
    expect(originForm('/a//b?x=%20&x=2#')).toBe('/a//b?x=%20&x=2#');
    expect(originForm('http://h/p?q=1')).toBe('/p?q=1');
    expect(originForm('http://h?q=1')).toBe('/?q=1');
  });
});

describe('tier detection', () => {
  const base = { tierField: 'tier', url: '/api/x' };
  it('JSON body field beats query beats header beats default', () => {
    expect(detectTier({ ...base, url: '/api?tier=q', header: 'h', body: Buffer.from('{"tier":"b"}') })).toEqual({ tier: 'b', source: 'body' });
    expect(detectTier({ ...base, url: '/api?tier=q', header: 'h', body: Buffer.from('{"other":1}') })).toEqual({ tier: 'q', source: 'query' });
    expect(detectTier({ ...base, header: 'h' })).toEqual({ tier: 'h', source: 'header' });
    expect(detectTier({ ...base, header: ['h1', 'h2'] })).toEqual({ tier: 'h1', source: 'header' });
    expect(detectTier(base)).toEqual({ tier: null, source: 'default' });
  });
  it('ignores non-string, empty, nested and malformed values', () => {
    expect(tierFromJsonBody(Buffer.from('{"tier":5}'), 'tier')).toBeNull();
    expect(tierFromJsonBody(Buffer.from('{"tier":""}'), 'tier')).toBeNull();
    expect(tierFromJsonBody(Buffer.from('[{"tier":"a"}]'), 'tier')).toBeNull();
    expect(tierFromJsonBody(Buffer.from('{"tier":'), 'tier')).toBeNull();
    expect(tierFromJsonBody(Buffer.from('null'), 'tier')).toBeNull();
    expect(tierFromJsonBody(Buffer.from('{"level":"x"}'), 'level')).toBe('x');
    expect(tierFromJsonBody(Buffer.from('{"tier":"x"}'), '')).toBeNull();
    expect(detectTier({ ...base, header: '  ' })).toEqual({ tier: null, source: 'default' });
  });
  it('reads only the tier query parameter, decoded', () => {
    expect(tierFromQuery('/a?tier=gpu%2Dx')).toBe('gpu-x');
    expect(tierFromQuery('/a?x=1&tier=b&tier=c')).toBe('b');
    expect(tierFromQuery('/a?subtier=b')).toBeNull();
    expect(tierFromQuery('/a?tier=')).toBeNull();
    expect(tierFromQuery('/a')).toBeNull();
  });
  it('recognises JSON content types only', () => {
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType('Application/JSON; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/vnd.api+json')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType('application/x-www-form-urlencoded')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
  });
});

describe('proxy headers', () => {
  const client = { remoteAddress: '::ffff:10.1.2.3', proto: 'http' as const };
  const pairs = (flat: string[]) => {
    const out: Array<[string, string]> = [];
    for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!.toLowerCase(), flat[i + 1]!]);
    return out;
  };
  const get = (flat: string[], name: string) => pairs(flat).filter(([k]) => k === name).map(([, v]) => v);

  it('strips hop-by-hop request headers, including those named by Connection', () => {
    const out = upstreamRequestHeaders(
      ['Host', 'example.com', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Trailer', 'x',
        'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'Proxy-Authorization', 'Basic x', 'Proxy-Connection', 'keep-alive', 'Expect', '100-continue',
        'X-Keep', 'yes', 'Content-Type', 'text/plain'],
      client,
    );
    const names = pairs(out).map(([k]) => k);
    for (const n of ['connection', 'x-hop', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-connection', 'expect', 'host']) {
      expect(names).not.toContain(n);
    }
    expect(get(out, 'x-keep')).toEqual(['yes']);
    expect(get(out, 'content-type')).toEqual(['text/plain']);
  });

  it('appends X-Forwarded-For, Forwarded and Via; sets X-Forwarded-Proto/Host', () => {
    const out = upstreamRequestHeaders(
      ['Host', 'example.com:8080', 'X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'Forwarded', 'for=1.1.1.1', 'Via', '1.0 edge', 'X-Forwarded-Proto', 'https'],
      client,
    );
    expect(get(out, 'x-forwarded-for')).toEqual(['1.1.1.1, 2.2.2.2, 10.1.2.3']);
    expect(get(out, 'x-forwarded-proto')).toEqual(['http']);
    expect(get(out, 'x-forwarded-host')).toEqual(['example.com:8080']);
    expect(get(out, 'forwarded')).toEqual(['for=1.1.1.1, for=10.1.2.3;host="example.com:8080";proto=http']);
    expect(get(out, 'via')).toEqual(['1.0 edge, 1.1 vantage']);
  });

  it('quotes IPv6 addresses in Forwarded and keeps Upgrade for WebSocket', () => {
    const out = upstreamRequestHeaders(['Host', 'h', 'Connection', 'Upgrade', 'Upgrade', 'websocket'], { remoteAddress: '::1', proto: 'https' }, { upgrade: true });
    expect(get(out, 'forwarded')).toEqual(['for="[::1]";host=h;proto=https']);
    expect(get(out, 'connection')).toEqual(['upgrade']);
    expect(get(out, 'upgrade')).toEqual(['websocket']);
    expect(normalizeIp(undefined)).toBe('unknown');
    expect(forwardedValue('a b')).toBe('"a b"');
  });

  it('asks for identity encoding on SSE requests', () => {
    const out = upstreamRequestHeaders(['Accept', 'text/event-stream', 'Accept-Encoding', 'gzip, br'], client, { noCompression: true });
    expect(get(out, 'accept-encoding')).toEqual(['identity']);
  });

  it('strips hop-by-hop response headers, appends Via and the backend header, detects SSE', () => {
    const raw = ['Content-Type', 'text/event-stream; charset=utf-8', 'Connection', 'X-R', 'X-R', '1', 'Keep-Alive', 'timeout=9', 'Transfer-Encoding', 'chunked',
      'Proxy-Authenticate', 'Basic', 'Via', '1.1 app', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'].map((s) => Buffer.from(s, 'latin1'));
    const { headers, sse } = downstreamResponseHeaders(raw, 'backend-1');
    expect(sse).toBe(true);
    const names = pairs(headers).map(([k]) => k);
    for (const n of ['connection', 'x-r', 'keep-alive', 'transfer-encoding', 'proxy-authenticate']) expect(names).not.toContain(n);
    expect(get(headers, 'set-cookie')).toEqual(['a=1', 'b=2']);
    expect(get(headers, 'via')).toEqual(['1.1 app, 1.1 vantage']);
    expect(get(headers, 'x-vantage-backend')).toEqual(['backend-1']);
    expect(downstreamResponseHeaders(['Content-Type', 'text/html'], null)).toEqual({ headers: ['Content-Type', 'text/html', 'via', '1.1 vantage'], sse: false });
  });
});

describe('outlier detector', () => {
  it('ejects after N consecutive failures; a success resets the streak', () => {
    const o = new OutlierDetector(3);
    expect(o.failure('a')).toBe(false);
    expect(o.failure('a')).toBe(false);
    o.success('a');
    expect(o.streak('a')).toBe(0);
    expect(o.failure('a')).toBe(false);
    expect(o.failure('b')).toBe(false);
    expect(o.failure('a')).toBe(false);
    expect(o.failure('a')).toBe(true);
    expect(o.streak('a')).toBe(0);
    expect(o.streak('b')).toBe(1);
  });
  it('threshold 0 turns it off', () => {
    const o = new OutlierDetector(0);
    expect(o.enabled).toBe(false);
    for (let i = 0; i < 100; i++) expect(o.failure('a')).toBe(false);
  });
});
