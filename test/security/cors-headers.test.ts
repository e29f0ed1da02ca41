import { describe, expect, it } from 'vitest';
import { compileCors, corsDecision, type CorsRequest } from '../../src/http/stages/cors.js';
import { deferHeaders } from '../../src/http/response.js';
import { HSTS_VALUE, securityHeaders } from '../../src/http/security-headers.js';

const req = (over: Partial<CorsRequest>): CorsRequest => ({ method: 'GET', origin: undefined, requestMethod: undefined, requestHeaders: undefined, ...over });

describe('corsDecision', () => {
  const listed = compileCors({ enabled: true, allowedOrigins: ['https://app.example.com', 'http://localhost:3000/'] });

  it('does nothing when disabled or without an Origin', () => {
    const off = compileCors({ enabled: false, allowedOrigins: ['*'] });
    expect(corsDecision(off, req({ origin: 'https://x.test' }))).toEqual({ kind: 'none' });
    expect(corsDecision(listed, req({}))).toEqual({ kind: 'none' });
    expect(corsDecision(listed, req({ origin: '' }))).toEqual({ kind: 'none' });
  });

  it('echoes a listed origin with credentials and Vary: Origin', () => {
    const d = corsDecision(listed, req({ origin: 'https://APP.example.com' }));
    expect(d.kind).toBe('actual');
    if (d.kind !== 'actual') return;
    expect(d.headers['Access-Control-Allow-Origin']).toBe('https://APP.example.com');
    expect(d.headers['Access-Control-Allow-Credentials']).toBe('true');
    expect(d.headers.Vary).toBe('Origin');
    // Trailing slash in config is tolerated.
    expect(corsDecision(listed, req({ origin: 'http://localhost:3000' })).kind).toBe('actual');
  });

  it('adds nothing for an origin that is not listed (the browser then blocks the response)', () => {
    expect(corsDecision(listed, req({ origin: 'https://evil.example' }))).toEqual({ kind: 'none' });
    // Prefix/suffix tricks do not match.
    expect(corsDecision(listed, req({ origin: 'https://app.example.com.evil.example' }))).toEqual({ kind: 'none' });
  });

  it('"*" allows any origin without credentials and without echoing it', () => {
    const any = compileCors({ enabled: true, allowedOrigins: ['*', 'https://trusted.example'] });
    const d = corsDecision(any, req({ origin: 'https://random.example' }));
    expect(d.kind).toBe('actual');
    if (d.kind !== 'actual') return;
    expect(d.headers['Access-Control-Allow-Origin']).toBe('*');
    expect(d.headers['Access-Control-Allow-Credentials']).toBeUndefined();
    const t = corsDecision(any, req({ origin: 'https://trusted.example' }));
    expect(t.kind === 'actual' && t.headers['Access-Control-Allow-Credentials']).toBe('true');
  });

  it('an empty list allows no origin', () => {
    const empty = compileCors({ enabled: true, allowedOrigins: [] });
    expect(corsDecision(empty, req({ origin: 'https://a.example' }))).toEqual({ kind: 'none' });
    expect(corsDecision(empty, req({ method: 'OPTIONS', origin: 'https://a.example', requestMethod: 'GET' })).kind).toBe('reject');
  });

  it('answers a preflight for an allowed origin with methods, headers and max-age', () => {
    const d = corsDecision(listed, req({ method: 'OPTIONS', origin: 'https://app.example.com', requestMethod: 'post', requestHeaders: 'Content-Type, X-API-Key' }));
    expect(d.kind).toBe('preflight');
    if (d.kind !== 'preflight') return;
    expect(d.status).toBe(204);
    expect(d.headers['Access-Control-Allow-Methods']).toContain('POST');
    expect(d.headers['Access-Control-Allow-Headers']).toBe('content-type, x-api-key');
    expect(d.headers['Access-Control-Max-Age']).toBe('600');
    expect(d.headers['Access-Control-Allow-Credentials']).toBe('true');
    expect(d.headers.Vary).toContain('Origin');
  });

  it('a preflight always allows the headers Vantage reads, plus those it asks for, each once', () => {
    const p = compileCors({ enabled: true, allowedOrigins: ['https://app.example.com'], allowHeaders: ['X-API-Key', 'Content-Type', '', 'X-Session-ID', 'x-api-key'] });
    const bare = corsDecision(p, req({ method: 'OPTIONS', origin: 'https://app.example.com', requestMethod: 'POST' }));
    expect(bare.kind === 'preflight' && bare.headers['Access-Control-Allow-Headers']).toBe('X-API-Key, Content-Type, X-Session-ID');
    const asked = corsDecision(p, req({ method: 'OPTIONS', origin: 'https://app.example.com', requestMethod: 'POST', requestHeaders: 'x-session-id, Connect-Protocol-Version' }));
    expect(asked.kind === 'preflight' && asked.headers['Access-Control-Allow-Headers']).toBe('X-API-Key, Content-Type, X-Session-ID, connect-protocol-version');
  });

  it('rejects preflights for other origins, odd methods and malformed header lists, naming the setting', () => {
    const bad = corsDecision(listed, req({ method: 'OPTIONS', origin: 'https://evil.example', requestMethod: 'GET' }));
    expect(bad.kind).toBe('reject');
    expect(bad.kind === 'reject' && bad.error).toContain('cors_allowed_origins');
    expect(corsDecision(listed, req({ method: 'OPTIONS', origin: 'https://app.example.com', requestMethod: 'TRACE' })).kind).toBe('reject');
    expect(corsDecision(listed, req({ method: 'OPTIONS', origin: 'https://app.example.com', requestMethod: 'GET', requestHeaders: 'x-a\r\nx-b: 1' })).kind).toBe('reject');
  });

  it('never quotes control characters from the Origin back', () => {
    const d = corsDecision(listed, req({ method: 'OPTIONS', origin: 'https://x\r\nSet-Cookie: a=b', requestMethod: 'GET' }));
    expect(d.kind === 'reject' && /[\r\n]/.test(d.error)).toBe(false);
  });

  it('a plain OPTIONS without Access-Control-Request-Method is not a preflight', () => {
    expect(corsDecision(listed, req({ method: 'OPTIONS', origin: 'https://app.example.com' })).kind).toBe('actual');
  });
});

describe('securityHeaders', () => {
  it('sets the four headers on HTTP and adds HSTS on HTTPS only', () => {
    const pairs = (flat: readonly string[]) => Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : [])));
    const http = pairs(securityHeaders({ disabled: false, https: false }));
    expect(http).toEqual({ 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer', 'X-XSS-Protection': '0' });
    const https = pairs(securityHeaders({ disabled: false, https: true }));
    expect(https['Strict-Transport-Security']).toBe(HSTS_VALUE);
    expect(securityHeaders({ disabled: true, https: true })).toEqual([]);
  });

  it('deferHeaders on a response that is not a VantageResponse keeps a header a handler set itself', () => {
    const set = new Map<string, string>([['x-frame-options', 'SAMEORIGIN']]);
    const res = { headersSent: false, hasHeader: (n: string) => set.has(n.toLowerCase()), setHeader: (n: string, v: string) => set.set(n.toLowerCase(), v) };
    deferHeaders(res, securityHeaders({ disabled: false, https: false }));
    expect(set.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(set.get('x-content-type-options')).toBe('nosniff');
  });
});
