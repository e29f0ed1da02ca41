import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { makeCert, tempDir } from './helpers.js';
import { baseConfig, call, MAIN, startServerProcess, waitFor, type ServerProcess } from './server-helpers.js';

const tmp = tempDir('vantage-hardening-');
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  tmp.cleanup();
});

async function start(name: string, extra: Record<string, unknown>): Promise<ServerProcess> {
  const s = await startServerProcess(tmp.dir, baseConfig(tmp.dir, { database: join(tmp.dir, `${name}.db`), ...extra }), name);
  servers.push(s);
  return s;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-xss-protection': '0',
};

describe('security headers (real server process)', () => {
  it('are on management answers, /health, errors and unknown paths; HSTS only on HTTPS', async () => {
    const s = await start('headers', {});
    for (const [path, status] of [
      ['/health', 200],
      ['/clients', 200],
      ['/nope', 404],
    ] as const) {
      const r = await call(s.url, path);
      expect(r.status, path).toBe(status);
      expect(r.headers, path).toMatchObject(SECURITY_HEADERS);
      expect(r.headers['strict-transport-security'], path).toBeUndefined();
    }
    const bad = await call(s.url, '/route', { body: '{bad json' });
    expect(bad.status).toBe(400);
    expect(bad.headers).toMatchObject(SECURITY_HEADERS);
  });

  it('are absent with disable_security_headers: true', async () => {
    const s = await start('noheaders', { disable_security_headers: true });
    const r = await call(s.url, '/health');
    expect(r.status).toBe(200);
    expect(r.headers['x-frame-options']).toBeUndefined();
  });
});

describe('IP allow-list and trusted proxies (real server process)', () => {
  it('refuses addresses outside whitelisted_ips with 403 naming the setting; a spoofed X-Forwarded-For does not help; /health stays open', async () => {
    const s = await start('allow', { whitelisted_ips: ['10.0.0.0/8', '2001:db8::/32'] });
    const r = await call(s.url, '/clients');
    expect(r.status).toBe(403);
    expect(r.json.error).toContain('whitelisted_ips');
    expect(r.json.error).toContain('127.0.0.1');
    const spoofed = await call(s.url, '/clients', { headers: { 'x-forwarded-for': '10.1.2.3', 'x-real-ip': '10.1.2.3', forwarded: 'for=10.1.2.3' } });
    expect(spoofed.status).toBe(403);
    expect((await call(s.url, '/health')).status).toBe(200);
  });

  it('allows loopback when listed, also through an IPv4-mapped IPv6 socket address', async () => {
    const s = await start('allow-mapped', { host: '::', whitelisted_ips: ['127.0.0.1/32'] });
    // On a dual-stack socket the peer 127.0.0.1 appears as ::ffff:127.0.0.1.
    const r = await call(`http://127.0.0.1:${s.port}`, '/clients');
    expect(r.status).toBe(200);
  });

  it('believes X-Forwarded-For only from trusted_proxies, and only the hop the proxy appended', async () => {
    const s = await start('proxies', { whitelisted_ips: ['10.0.0.0/8'], trusted_proxies: ['127.0.0.1'] });
    expect((await call(s.url, '/clients', { headers: { 'x-forwarded-for': '10.9.9.9' } })).status).toBe(200);
    expect((await call(s.url, '/clients', { headers: { 'x-forwarded-for': '203.0.113.5' } })).status).toBe(403);
    // The client prepended an allowed address; the proxy appended the real one.
    expect((await call(s.url, '/clients', { headers: { 'x-forwarded-for': '10.9.9.9, 203.0.113.5' } })).status).toBe(403);
    expect((await call(s.url, '/clients')).status).toBe(403);
  });

  it('an invalid CIDR stops startup with exit 2 naming the key and entry', () => {
    const r = spawnSync(process.execPath, [MAIN, 'server', '--port', '0', '--database', join(tmp.dir, 'x.db'), '--monitoring-enabled', 'false', '--whitelisted-ips', '10.0.0.0/8,10.0.0.0/33'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('whitelisted_ips');
    expect(r.stderr).toContain('whitelisted_ips[1]');
    expect(r.stderr).toContain('"10.0.0.0/33"');
  });
});

describe('rate limiting (real server process)', () => {
  it('answers 429 with Retry-After and RateLimit-* after the burst; spoofed X-Forwarded-For does not reset the bucket', async () => {
    const s = await start('rate', { rate_limit_per_minute: 1, rate_limit_burst: 3 });
    const ok = await call(s.url, '/clients');
    expect(ok.status).toBe(200);
    expect(ok.headers['ratelimit-limit']).toBe('3');
    expect(ok.headers['ratelimit-remaining']).toBe('2');
    await call(s.url, '/clients');
    await call(s.url, '/clients', { headers: { 'x-forwarded-for': '198.51.100.1' } });
    for (const xff of [undefined, '198.51.100.2', '10.0.0.1, 198.51.100.3']) {
      const r = await call(s.url, '/clients', { headers: xff ? { 'x-forwarded-for': xff } : {} });
      expect(r.status, String(xff)).toBe(429);
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(r.headers['ratelimit-remaining']).toBe('0');
      expect(r.json.error).toContain('rate_limit_per_minute');
    }
    // /health is not rate limited.
    expect((await call(s.url, '/health')).status).toBe(200);
  });

  it('exempts agents with server_key, but limits wrong keys (429 before 403) and api_keys', async () => {
    const s = await start('rate-keys', { rate_limit_per_minute: 1, rate_limit_burst: 2, server_key: 'agent-key-0123456789abcdef0123456789', api_keys: ['integration-key-0123456789abcdef012345'] });
    const agent = { 'x-api-key': 'agent-key-0123456789abcdef0123456789' };
    for (let i = 0; i < 10; i++) expect((await call(s.url, '/clients', { headers: agent })).status).toBe(200);
    const wrong = { 'x-api-key': 'wrong' };
    expect((await call(s.url, '/clients', { headers: wrong })).status).toBe(403);
    expect((await call(s.url, '/clients', { headers: wrong })).status).toBe(403);
    expect((await call(s.url, '/clients', { headers: wrong })).status).toBe(429);
    // The integration key shares the (now empty) per-IP bucket.
    expect((await call(s.url, '/clients', { headers: { 'x-api-key': 'integration-key-0123456789abcdef012345' } })).status).toBe(429);
    // Agents still pass.
    expect((await call(s.url, '/clients', { headers: agent })).status).toBe(200);
  });

  it('limits agents too with rate_limit_exempt_agents: false', async () => {
    const s = await start('rate-noexempt', { rate_limit_per_minute: 1, rate_limit_burst: 1, server_key: 'k-0123456789abcdef0123456789abcdef', rate_limit_exempt_agents: false });
    const agent = { 'x-api-key': 'k-0123456789abcdef0123456789abcdef' };
    expect((await call(s.url, '/clients', { headers: agent })).status).toBe(200);
    expect((await call(s.url, '/clients', { headers: agent })).status).toBe(429);
  });
});

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

describe('slow clients (real server process)', () => {
  it('closes a slowloris connection trickling one header byte a second, with 408, while serving others', async () => {
    const s = await start('slowloris', { read_header_timeout_seconds: 2 });
    const sock = await rawConnect(s.port);
    let received = '';
    let closedAt = 0;
    sock.on('data', (d: Buffer) => (received += d.toString()));
    sock.on('close', () => (closedAt = Date.now()));
    sock.on('error', () => {});
    const started = Date.now();
    const header = 'GET /clients HTTP/1.1\r\nHost: localhost\r\nX-Slow: ' + 'a'.repeat(100);
    let i = 0;
    const trickle = setInterval(() => {
      if (sock.destroyed || i >= header.length) return;
      sock.write(header[i++]!);
    }, 1000);
    try {
      // Meanwhile the server answers normal requests.
      expect((await call(s.url, '/health')).status).toBe(200);
      await waitFor(() => closedAt > 0, 'the slow connection to be closed', 15_000);
    } finally {
      clearInterval(trickle);
      sock.destroy();
    }
    const elapsed = closedAt - started;
    expect(elapsed).toBeGreaterThanOrEqual(1500);
    expect(elapsed).toBeLessThan(6000);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(received).toContain('read_header_timeout_seconds');
    expect((await call(s.url, '/health')).status).toBe(200);
  });

  it('closes a connection that sends nothing', async () => {
    const s = await start('idle', { read_header_timeout_seconds: 1 });
    const sock = await rawConnect(s.port);
    sock.on('error', () => {});
    const closed = new Promise<number>((r) => sock.on('close', () => r(Date.now())));
    const t0 = Date.now();
    const at = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
    sock.destroy();
    expect(at).toBeGreaterThan(0);
    expect(at - t0).toBeLessThan(5000);
  });
});

describe('Host header validation (real server process)', () => {
  it('refuses an invalid Host with 400 and never echoes it', async () => {
    const s = await start('host', {});
    for (const host of ['evil.example/x', 'evil.example:99999', 'a@b', '<script>']) {
      const r = await call(s.url, '/clients', { headers: { host } });
      expect(r.status, host).toBe(400);
      expect(r.json.field).toBe('host');
      expect(r.text).not.toContain(host);
    }
    expect((await call(s.url, '/clients', { headers: { host: 'lb.example.com:8080' } })).status).toBe(200);
  });
});

describe('TLS (real server process)', () => {
  it('serves HTTPS with HSTS; SIGHUP re-reads the certificate without dropping an open connection', async () => {
    const a = makeCert(join(tmp.dir, 'ca'), 'a.test.local');
    const b = makeCert(join(tmp.dir, 'cb'), 'b.test.local');
    const cert = join(tmp.dir, 'live.crt');
    const key = join(tmp.dir, 'live.key');
    copyFileSync(a.cert, cert);
    copyFileSync(a.key, key);
    const s = await start('tls', { tls_cert_file: cert, tls_key_file: key });
    expect(s.url.startsWith('https://')).toBe(true);
    const r = await call(s.url, '/health');
    expect(r.status).toBe(200);
    expect(r.headers['strict-transport-security']).toContain('max-age=');

    const subjectOfNewHandshake = () =>
      new Promise<string>((resolve, reject) => {
        const t = tlsConnect({ port: s.port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'localhost' }, () => {
          resolve(t.getPeerX509Certificate()?.subject ?? '');
          t.end();
        });
        t.on('error', reject);
      });
    expect(await subjectOfNewHandshake()).toContain('a.test.local');

    // An open keep-alive connection made before the reload.
    const open = tlsConnect({ port: s.port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((r) => open.once('secureConnect', () => r()));
    let buf = '';
    open.on('data', (d: Buffer) => (buf += d.toString()));
    const ask = async () => {
      buf = '';
      open.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await waitFor(() => /\r\n\r\n\{.*\}$/s.test(buf), 'a response on the open connection');
      return buf;
    };
    expect(await ask()).toMatch(/^HTTP\/1\.1 200/);

    copyFileSync(b.cert, cert);
    copyFileSync(b.key, key);
    s.child.kill('SIGHUP');
    await waitFor(async () => (await subjectOfNewHandshake()).includes('b.test.local'), 'the new certificate after SIGHUP');
    expect(await ask()).toMatch(/^HTTP\/1\.1 200/);

    // A mismatched pair is refused; the running certificate stays.
    copyFileSync(a.key, key);
    s.child.kill('SIGHUP');
    await waitFor(() => /config reload rejected.*tls_key_file/.test(s.output()), 'the rejected reload in the log');
    expect(await subjectOfNewHandshake()).toContain('b.test.local');
    open.destroy();
  });

  it('a certificate that cannot be read stops startup naming the setting', async () => {
    await expect(start('tls-bad', { tls_cert_file: join(tmp.dir, 'missing.crt'), tls_key_file: join(tmp.dir, 'missing.key') })).rejects.toThrow(/tls_cert_file/);
  });
});

describe('config reload on SIGHUP (real server process)', () => {
  it('applies allow-list, rate limits, keys and tiers without restart; an invalid file keeps the running config', async () => {
    const name = 'reload';
    const base = baseConfig(tmp.dir, { database: join(tmp.dir, `${name}.db`) });
    const s = await start(name, {});
    expect((await call(s.url, '/clients')).status).toBe(200);
    const routeUnknown = await call(s.url, '/route', { body: { tier: 'xlarge' } });
    expect(routeUnknown.status).toBe(400);

    const reload = async (cfg: Record<string, unknown>, until: () => Promise<boolean>, what: string) => {
      s.writeConfig({ ...base, ...cfg });
      s.child.kill('SIGHUP');
      await waitFor(until, what);
    };

    await reload({ whitelisted_ips: ['10.0.0.0/8'] }, async () => (await call(s.url, '/clients')).status === 403, 'the allow-list to apply');
    await reload({ server_key: 'new-key-0123456789abcdef0123456789ab' }, async () => (await call(s.url, '/clients')).status === 401, 'the key to apply');
    expect((await call(s.url, '/clients', { headers: { 'x-api-key': 'new-key-0123456789abcdef0123456789ab' } })).status).toBe(200);
    const tiers = [
      { name: 'small', vcpu: 1, memory_gb: 1, storage_gb: 5 },
      { name: 'xlarge', vcpu: 64, memory_gb: 512, storage_gb: 1000 },
    ];
    await reload({ tiers }, async () => (await call(s.url, '/route', { body: { tier: 'xlarge' } })).status === 503, 'the new tier');

    // Invalid: a value out of range. Rejected with the reason; the previous config (tiers) stays.
    s.writeConfig({ ...base, tiers, rate_limit_burst: 0, whitelisted_ips: ['10.0.0.0/8'] });
    s.child.kill('SIGHUP');
    await waitFor(() => /config reload rejected.*rate_limit_burst/.test(s.output()), 'the rejection in the log');
    expect((await call(s.url, '/clients')).status).toBe(200);
    expect((await call(s.url, '/route', { body: { tier: 'xlarge' } })).status).toBe(503);
    // Broken YAML is rejected too.
    writeFileSync(s.configFile, 'port: [unclosed\n');
    s.child.kill('SIGHUP');
    await waitFor(() => /config reload rejected.*YAML/.test(s.output()), 'the YAML rejection in the log');
    expect((await call(s.url, '/clients')).status).toBe(200);

    // log_level: successful requests are logged at debug only.
    const mark = s.output().length;
    await reload({ tiers, log_level: 'debug' }, async () => {
      await call(s.url, '/clients');
      return /"path":"\/clients","status":200,[^\n]*"msg":"request"/.test(s.output().slice(mark));
    }, 'debug request logs after the log_level reload');

    await reload({ tiers, rate_limit_per_minute: 1, rate_limit_burst: 1 }, async () => (await call(s.url, '/clients')).status === 429, 'the new rate limit');
    // The server is still alive and serving.
    expect((await call(s.url, '/health')).status).toBe(200);
  });
});
