import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidHost, safeHost } from '../../src/http/stages/host.js';
import { decodeOnce, matchesPrefix, normalizeRequestPath, splitTarget } from '../../src/http/path.js';

describe('isValidHost', () => {
  it('accepts names, IPv4, bracketed IPv6, with or without a port', () => {
    for (const ok of ['localhost', 'localhost:8080', 'lb.example.com', 'LB.Example.COM.', '10.0.0.1', '10.0.0.1:443', '[::1]', '[2001:db8::1]:8443', 'a-b.c_d.example', 'x'.repeat(63) + '.com']) {
      expect(isValidHost(ok), ok).toBe(true);
    }
  });

  it('refuses injection attempts and malformed values', () => {
    for (const bad of [
      undefined,
      '',
      'evil.com\r\nX-Injected: 1',
      'evil.com/path',
      'user@evil.com',
      'evil.com:80:80',
      'evil.com:0',
      'evil.com:65536',
      'evil.com:',
      'a b',
      '"evil"',
      'evil\\com',
      '::1',
      '[::1',
      '[not-ip]:80',
      '[::1]x',
      '-bad.com',
      'bad-.com',
      'a..b',
      'x'.repeat(64) + '.com',
      '1.2.3.999',
      '0x7f.0.0.1',
      'bücher.example',
      '<script>',
    ]) {
      expect(isValidHost(bad), String(bad)).toBe(false);
    }
  });

  it('gives the same verdicts when valid and invalid hosts alternate (the last valid host is remembered)', () => {
    const seq: Array<[string, boolean]> = [
      ['api.example:8080', true],
      ['api.example:8080', true],
      ['api.example:8080x', false],
      ['api.example:8080 ', false],
      ['api.example:8080', true],
      ['1.2.3.999', false],
      ['1.2.3.999', false],
      ['[::1]:80', true],
      ['api.example:8080', true],
      ['API.example:8080', true],
      ['api.example:80800', false],
    ];
    for (const [host, want] of seq) expect(isValidHost(host), host).toBe(want);
  });

  it('safeHost falls back for invalid values', () => {
    expect(safeHost('ok.example:80', 'fallback')).toBe('ok.example:80');
    expect(safeHost('bad\nhost', 'fallback')).toBe('fallback');
  });

  it('never accepts a value with characters outside the Host grammar (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        if (isValidHost(s)) expect(/^[A-Za-z0-9._:[\]-]+$/.test(s)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('normalizeRequestPath', () => {
  it('passes ordinary paths, decoding for matching', () => {
    expect(normalizeRequestPath('/api/users/42')).toEqual({ ok: true, path: '/api/users/42' });
    expect(normalizeRequestPath('/%61pi/x')).toEqual({ ok: true, path: '/api/x' });
    expect(normalizeRequestPath('/api//x')).toEqual({ ok: true, path: '/api/x' });
    expect(normalizeRequestPath('/api/file.tar.gz')).toEqual({ ok: true, path: '/api/file.tar.gz' });
    expect(normalizeRequestPath('/api/...')).toEqual({ ok: true, path: '/api/...' });
    expect(normalizeRequestPath('/api/..foo')).toEqual({ ok: true, path: '/api/..foo' });
    expect(normalizeRequestPath('/api/100%25')).toEqual({ ok: true, path: '/api/100%' });
    expect(normalizeRequestPath('/api/%zz')).toEqual({ ok: true, path: '/api/%zz' });
  });

  it('refuses dot segments in every spelling', () => {
    for (const bad of [
      '/api/../admin',
      '/api/./x',
      '/api/..',
      '/api/%2e%2e/admin',
      '/api/%2E%2E/admin',
      '/api/.%2e/admin',
      '/api/..%2fadmin',
      '/api/..%2Fadmin',
      '/api/%2e%2e%2fadmin',
      '/api/%252e%252e/admin',
      '/api/%252e%252e%252fadmin',
      '/api/%25252e%25252e/admin',
      '/api\\..\\admin',
      '/api/..\\admin',
      '/api/%5c..%5cadmin',
      '/api/%2e%2e%5cadmin',
      '/api/..;/admin'.replace(';', '%2f'),
    ]) {
      const v = normalizeRequestPath(bad);
      expect(v.ok, bad).toBe(false);
      expect(!v.ok && v.reason, bad).toBe('traversal');
    }
  });

  it('refuses control characters and paths not starting with /', () => {
    expect(normalizeRequestPath('/api/%00x')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(normalizeRequestPath('/api/%0d%0aSet-Cookie:x')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(normalizeRequestPath('api/x')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(normalizeRequestPath('http://evil/x')).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('an accepted path never escapes its prefix (property: resolving it like a server would keeps the prefix)', () => {
    const seg = fc.constantFrom('..', '.', '%2e%2e', '%2e', '%252e%252e', 'a', 'b', '%2f', '%5c', '\\', '', '%2e.', 'x%2f..', '%00');
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 8 }), (segs) => {
        const raw = `/api/${segs.join('/')}`;
        const v = normalizeRequestPath(raw);
        if (!v.ok) return;
        expect(matchesPrefix(v.path, '/api')).toBe(true);
        // Resolve as a backend would (fully decoded, dot segments applied): still under /api.
        const resolved = new URL(`http://h${v.path}`).pathname;
        expect(resolved === '/api' || resolved.startsWith('/api/')).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('path helpers', () => {
  it('decodeOnce decodes valid escapes only', () => {
    expect(decodeOnce('/a%20b%2')).toBe('/a b%2');
    expect(decodeOnce('%E2%82%AC')).toBe('€');
    expect(decodeOnce('%c0%ae')).not.toContain('.');
  });

  it('splitTarget separates the query', () => {
    expect(splitTarget('/a/b?x=1&y=2')).toEqual({ path: '/a/b', query: '?x=1&y=2' });
    expect(splitTarget('/a')).toEqual({ path: '/a', query: '' });
  });

  it('matchesPrefix is segment-aware', () => {
    expect(matchesPrefix('/api', '/api')).toBe(true);
    expect(matchesPrefix('/api/', '/api')).toBe(true);
    expect(matchesPrefix('/api/x', '/api/')).toBe(true);
    expect(matchesPrefix('/api/x', '/api/*')).toBe(true);
    expect(matchesPrefix('/apix', '/api')).toBe(false);
    expect(matchesPrefix('/ap', '/api')).toBe(false);
    expect(matchesPrefix('/anything', '/*')).toBe(true);
  });
});
