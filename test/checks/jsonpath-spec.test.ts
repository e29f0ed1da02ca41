import { describe, expect, it } from 'vitest';
import { parseResolver } from '../../src/monitoring/checks/dns/spec.js';
import { checkSpecSchema, checkTarget } from '../../src/monitoring/checks/registry.js';
import { formatJsonPath, parseJsonPath, selectJsonPath } from '../../src/monitoring/assertions/jsonpath.js';

describe('JSON path subset', () => {
  it('parses members, quoted members and indexes', () => {
    expect(parseJsonPath('$')).toEqual({ ok: true, segments: [] });
    expect(parseJsonPath('$.a.b[0]')).toEqual({ ok: true, segments: ['a', 'b', 0] });
    expect(parseJsonPath(`$['a b']["c'd"][-1]`)).toEqual({ ok: true, segments: ['a b', "c'd", -1] });
    expect(parseJsonPath("$['it\\'s']")).toEqual({ ok: true, segments: ["it's"] });
  });

  it.each(['', 'a', '$.', '$..a', '$[', '$[]', '$[a]', "$['a'", "$['a'x", '$.a[1', '$ a', '$[*]', '$.a[0]x'])('rejects %j', (p) => {
    expect(parseJsonPath(p).ok).toBe(false);
  });

  it('selects values and distinguishes missing from null', () => {
    const doc = { a: { b: [1, null, { c: 'x' }] }, 'a b': 2 };
    const sel = (p: string) => {
      const r = parseJsonPath(p);
      if (!r.ok) throw new Error(r.error);
      return selectJsonPath(doc, r.segments);
    };
    expect(sel('$.a.b[2].c')).toEqual({ found: true, value: 'x' });
    expect(sel('$.a.b[1]')).toEqual({ found: true, value: null });
    expect(sel('$.a.b[-1].c')).toEqual({ found: true, value: 'x' });
    expect(sel("$['a b']")).toEqual({ found: true, value: 2 });
    expect(sel('$')).toEqual({ found: true, value: doc });
    expect(sel('$.a.b[3]').found).toBe(false);
    expect(sel('$.a.b[-4]').found).toBe(false);
    expect(sel('$.a.x').found).toBe(false);
    expect(sel('$.a.b.c').found).toBe(false); // member of an array
    expect(sel('$.a[0]').found).toBe(false); // index into an object
    expect(sel('$.toString').found).toBe(false); // no prototype members
  });

  it('formats back to canonical text', () => {
    expect(formatJsonPath(['a', 'b c', 0, "d'e"])).toBe("$.a['b c'][0]['d\\'e']");
  });
});

describe('checkSpecSchema', () => {
  it('fills defaults', () => {
    expect(checkSpecSchema().parse({ url: 'http://example.com/' })).toEqual({
      type: 'http',
      url: 'http://example.com/',
      method: 'GET',
      headers: {},
      body: '',
      timeout_ms: 10_000,
      options: { follow_redirects: false, tls_verify: true, record_type: 'A' },
    });
    expect(checkSpecSchema().parse({ url: 'http://x/', method: 'post', options: { tls_verify: false } })).toMatchObject({
      method: 'POST',
      options: { follow_redirects: false, tls_verify: false, record_type: 'A' },
    });
  });

  it.each([
    [{ url: 'ftp://x/' }, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ type: 'tcp', url: 'tcp://host' }, 'url'],
    [{ type: 'tcp', url: 'tcp://host:70000' }, 'url'],
    [{ type: 'tcp', url: 'http://host:80' }, 'url'],
    [{ type: 'dns', url: 'dns://' }, 'url'],
    [{ type: 'dns', url: 'dns://name:53' }, 'url'],
    [{ type: 'tls', url: 'http://host' }, 'url'],
    [{ type: 'smtp', url: 'smtp://x' }, 'type'],
    [{ url: 'http://x/', method: 'TRACE' }, 'method'],
    [{ url: 'http://x/', timeout_ms: 0 }, 'timeout_ms'],
    [{ url: 'http://x/', timeout_ms: 200_000 }, 'timeout_ms'],
    [{ url: 'http://x/', headers: { 'bad header': 'x' } }, 'headers'],
    [{ url: 'http://x/', headers: { ok: 'a\r\nInjected: 1' } }, 'headers'],
    [{ type: 'dns', url: 'dns://x', options: { resolver: 'not-an-ip' } }, 'options'],
    [{ type: 'dns', url: 'dns://x', options: { record_type: 'SRV' } }, 'options'],
    [{ url: 'http://x/', unknown: 1 }, ''],
  ])('rejects %j at %s', (input, field) => {
    const r = checkSpecSchema().safeParse(input);
    expect(r.success).toBe(false);
    if (!r.success) expect(String(r.error.issues[0]?.path[0] ?? '')).toBe(field);
  });

  it('resolves targets per type', () => {
    expect(checkTarget('tcp', 'tcp://[::1]:5432')).toEqual({ type: 'tcp', host: '::1', port: 5432 });
    expect(checkTarget('dns', 'dns://Example.COM')).toEqual({ type: 'dns', name: 'example.com' });
    expect(checkTarget('tls', 'tls://example.com')).toEqual({ type: 'tls', host: 'example.com', port: 443 });
    expect(checkTarget('tls', 'https://example.com:8443/x')).toEqual({ type: 'tls', host: 'example.com', port: 8443 });
  });

  it('parses resolvers', () => {
    expect(parseResolver('1.1.1.1')).toEqual({ host: '1.1.1.1', port: 53 });
    expect(parseResolver('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(parseResolver('::1')).toEqual({ host: '::1', port: 53 });
    expect(parseResolver('[::1]:5353')).toEqual({ host: '::1', port: 5353 });
    expect(parseResolver('example.com')).toBeNull();
    expect(parseResolver('1.1.1.1:0')).toBeNull();
    expect(parseResolver('1.1.1.1:x')).toBeNull();
  });
});
