import { spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeCert, REPO, runScript, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('scripts/generate-tls-cert.sh', () => {
  it('writes a certificate with SANs for the domain, localhost and 127.0.0.1, key 0600', () => {
    const dir = join(tmp.dir, 'c1');
    const r = runScript('generate-tls-cert.sh', [dir, 'lb.example.com', '730']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('tls_cert_file:');
    const x = new X509Certificate(readFileSync(join(dir, 'server.crt')));
    expect(x.subject).toContain('CN=lb.example.com');
    expect(x.subjectAltName).toContain('DNS:lb.example.com');
    expect(x.subjectAltName).toContain('DNS:localhost');
    expect(x.subjectAltName).toContain('IP Address:127.0.0.1');
    const days = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(730);
    expect(statSync(join(dir, 'server.key')).mode & 0o777).toBe(0o600);
    expect(x.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'server.key'), 'utf8')))).toBe(true);
  });

  it('uses the defaults ./certs, lb.vantage.local, 365 days', () => {
    const dir = join(tmp.dir, 'defaults');
    mkdirSync(dir);
    const r = runScript('generate-tls-cert.sh', [], {}, { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const x = new X509Certificate(readFileSync(join(dir, 'certs', 'server.crt')));
    expect(x.subject).toContain('CN=lb.vantage.local');
    expect(Math.round((Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86_400_000)).toBe(365);
  });

  it('refuses to overwrite without FORCE=1, and replaces with it', () => {
    const dir = join(tmp.dir, 'c2');
    makeCert(dir);
    const before = readFileSync(join(dir, 'server.crt'), 'utf8');
    const again = runScript('generate-tls-cert.sh', [dir]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('FORCE=1');
    expect(readFileSync(join(dir, 'server.crt'), 'utf8')).toBe(before);
    const forced = runScript('generate-tls-cert.sh', [dir], { FORCE: '1' });
    expect(forced.status, forced.stderr).toBe(0);
    expect(readFileSync(join(dir, 'server.crt'), 'utf8')).not.toBe(before);
  });

  it('rejects bad arguments with exit 2 and a reason', () => {
    for (const [args, msg] of [
      [[join(tmp.dir, 'x'), 'lb.example.com', '0'], 'days'],
      [[join(tmp.dir, 'x'), 'lb.example.com', 'ten'], 'days'],
      [[join(tmp.dir, 'x'), 'bad domain!', '10'], 'not a valid DNS name'],
      [[join(tmp.dir, 'x'), '-evil', '10'], 'not a valid DNS name'],
      [[join(tmp.dir, 'x'), 'a.b', '10', 'extra'], 'too many arguments'],
    ] as const) {
      const r = runScript('generate-tls-cert.sh', [...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(msg);
    }
    const help = runScript('generate-tls-cert.sh', ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('[cert_dir] [domain] [days]');
  });
});

describe('scripts/download-geoip.sh (argument handling only: no network here)', () => {
  it('without a key: exit 2 naming MAXMIND_LICENSE_KEY', () => {
    const r = runScript('download-geoip.sh', []);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('MAXMIND_LICENSE_KEY');
  });

  it('rejects a malformed key and extra arguments with exit 2', () => {
    expect(runScript('download-geoip.sh', ['bad key; rm -rf /']).status).toBe(2);
    expect(runScript('download-geoip.sh', ['abc']).status).toBe(2);
    expect(runScript('download-geoip.sh', ['abcdef123', 'out', 'extra']).status).toBe(2);
  });

  it('--help prints usage', () => {
    const r = runScript('download-geoip.sh', ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('LICENSE_KEY');
  });

  it('fails clearly (exit 1) when the download cannot be made, never printing the key', () => {
    const out = join(tmp.dir, 'geo');
    const key = 'SecretKey123456';
    // Port 1 on loopback: connection refused, deterministic and offline.
    const r = runScript('download-geoip.sh', [key, out], { MAXMIND_DOWNLOAD_URL: 'http://127.0.0.1:1/geoip' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('download failed');
    expect(r.stdout + r.stderr).not.toContain(key);
    // The key may also come from the environment.
    const r2 = runScript('download-geoip.sh', [], { MAXMIND_LICENSE_KEY: key, MAXMIND_DOWNLOAD_URL: 'http://127.0.0.1:1/geoip' });
    expect(r2.status).toBe(1);
    expect(r2.stdout + r2.stderr).not.toContain(key);
  });

  it('unpacks a GeoLite2 archive served by a mirror URL', async () => {
    const src = join(tmp.dir, 'mirror');
    mkdirSync(join(src, 'GeoLite2-City_20260101'), { recursive: true });
    writeFileSync(join(src, 'GeoLite2-City_20260101', 'GeoLite2-City.mmdb'), 'fake-mmdb');
    spawnSync('tar', ['-czf', join(tmp.dir, 'db.tar.gz'), '-C', src, 'GeoLite2-City_20260101']);
    const body = readFileSync(join(tmp.dir, 'db.tar.gz'));
    let seenKey = '';
    const server = createServer((req, res) => {
      seenKey = new URL(req.url ?? '/', 'http://x').searchParams.get('license_key') ?? '';
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const out = join(tmp.dir, 'geo-ok');
    // Asynchronous spawn: the mirror server runs in this process.
    const child = spawn('bash', [join(REPO, 'scripts/download-geoip.sh'), 'abcdef123456', out], {
      env: { PATH: process.env.PATH, MAXMIND_DOWNLOAD_URL: `http://127.0.0.1:${port}/db?edition_id=GeoLite2-City` },
    });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    server.close();
    expect(code).toBe(0);
    expect(seenKey).toBe('abcdef123456');
    expect(readFileSync(join(out, 'GeoLite2-City.mmdb'), 'utf8')).toBe('fake-mmdb');
  });
});

