import { describe, expect, it } from 'vitest';
import { selectEndpoint } from './endpoints.js';

const backend = {
  endpoint: 'http://default',
  endpoints: [
    { url: 'http://api', paths: ['/api'] },
    { url: 'http://api-v2', paths: ['/api/v2'] },
    { url: 'http://health', paths: ['/api/health'] },
    { url: 'http://images', paths: ['/img/*.png', '/static/'] },
    { url: 'http://long-wild', paths: ['/api/*/items'] },
    { url: 'http://one-char', paths: ['/v?'] },
  ],
};

describe('selectEndpoint', () => {
  it('falls back to endpoint without rules, path or match', () => {
    expect(selectEndpoint({ endpoint: 'http://x' }, '/api')).toBe('http://x');
    expect(selectEndpoint(backend, null)).toBe('http://default');
    expect(selectEndpoint(backend, '')).toBe('http://default');
    expect(selectEndpoint(backend, '/nothing')).toBe('http://default');
  });

  it('prefers an exact match over a prefix', () => {
    expect(selectEndpoint(backend, '/api/health')).toBe('http://health');
  });

  it('matches prefixes at segment boundaries only, longest first', () => {
    expect(selectEndpoint(backend, '/api/users')).toBe('http://api');
    expect(selectEndpoint(backend, '/api/v2/users')).toBe('http://api-v2');
    expect(selectEndpoint(backend, '/apix')).toBe('http://default');
    expect(selectEndpoint(backend, '/static/a/b.css')).toBe('http://images');
  });

  it('prefers a prefix over a wildcard', () => {
    // '/api/*/items' matches, but the '/api' prefix wins.
    expect(selectEndpoint(backend, '/api/x/items')).toBe('http://api');
  });

  it('matches wildcards against the whole path', () => {
    expect(selectEndpoint(backend, '/img/a/b.png')).toBe('http://images');
    expect(selectEndpoint(backend, '/img/a.png.txt')).toBe('http://default');
    expect(selectEndpoint(backend, '/v1')).toBe('http://one-char');
    expect(selectEndpoint(backend, '/v12')).toBe('http://default');
  });

  it('prefers the longer wildcard and ignores the query string', () => {
    const b = {
      endpoint: 'http://d',
      endpoints: [
        { url: 'http://short', paths: ['/a*'] },
        { url: 'http://long', paths: ['/a/*/c*'] },
      ],
    };
    expect(selectEndpoint(b, '/a/b/cd?x=/a')).toBe('http://long');
    expect(selectEndpoint(b, '/ab#frag')).toBe('http://short');
  });

  it('treats regex metacharacters in patterns literally', () => {
    const b = { endpoint: 'http://d', endpoints: [{ url: 'http://m', paths: ['/a.b/(x)*'] }] };
    expect(selectEndpoint(b, '/a.b/(x)yz')).toBe('http://m');
    expect(selectEndpoint(b, '/aXb/(x)yz')).toBe('http://d');
  });

  it('keeps the first rule on a full tie', () => {
    const b = {
      endpoint: 'http://d',
      endpoints: [
        { url: 'http://first', paths: ['/same'] },
        { url: 'http://second', paths: ['/same'] },
      ],
    };
    expect(selectEndpoint(b, '/same')).toBe('http://first');
  });
});
