import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_FIELDS } from '../../src/config/client.js';
import { loadClientConfig, loadServerConfig } from '../../src/config/load.js';
import { SERVER_FIELDS } from '../../src/config/server.js';
import { defaultsYaml } from '../../src/cli/config-command.js';
import { REPO, runScript, tempDir } from './helpers.js';

const mode = (p: string) => statSync(p).mode & 0o777;

describe('deploy/*.example.yml', () => {
  it('are exactly what `vantage config defaults` prints (regenerate them when the config tables change)', () => {
    expect(readFileSync(join(REPO, 'deploy/server.example.yml'), 'utf8')).toBe(defaultsYaml(SERVER_FIELDS, 'server.yml'));
    expect(readFileSync(join(REPO, 'deploy/client.example.yml'), 'utf8')).toBe(defaultsYaml(CLIENT_FIELDS, 'client.yml'));
  });

  it('load without warnings and equal the built-in defaults', () => {
    const s = loadServerConfig({ file: join(REPO, 'deploy/server.example.yml') });
    expect(s.warnings).toEqual([]);
    expect(s.config).toEqual(loadServerConfig({}).config);
    const c = loadClientConfig({ file: join(REPO, 'deploy/client.example.yml') });
    expect(c.warnings).toEqual([]);
    expect(c.config).toEqual(loadClientConfig({}).config);
  });
});

function unitDirectives(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(\w+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    expect(eq, `not a directive: ${line}`).toBeGreaterThan(0);
    const key = `${section}.${line.slice(0, eq)}`;
    m.set(key, [...(m.get(key) ?? []), line.slice(eq + 1)]);
  }
  return m;
}

describe('deploy/systemd units', () => {
  for (const unit of ['vantage-server.service', 'vantage-agent.service']) {
    it(`${unit} is hardened and restarts on failure`, () => {
      const d = unitDirectives(readFileSync(join(REPO, 'deploy/systemd', unit), 'utf8'));
      const one = (k: string) => d.get(k)?.at(-1);
      expect(one('Service.NoNewPrivileges')).toBe('true');
      expect(one('Service.ProtectSystem')).toBe('strict');
      expect(one('Service.ReadWritePaths')).toBe('/var/lib/vantage');
      expect(one('Service.Restart')).toBe('on-failure');
      expect(one('Service.User')).toBe('vantage');
      expect(one('Service.ProtectHome')).toBe('true');
      expect(one('Service.PrivateTmp')).toBe('true');
      expect(one('Service.ExecStart')).toMatch(/^\/usr\/local\/bin\/vantage (server|agent) --config \/etc\/vantage\/(server|client)\.yml$/);
      expect(one('Install.WantedBy')).toBe('multi-user.target');
      // Node's JIT cannot run with MemoryDenyWriteExecute.
      expect(d.has('Service.MemoryDenyWriteExecute')).toBe(false);
    });
  }

  it('the server reloads with SIGHUP and gets longer than shutdown_timeout_seconds to stop', () => {
    const d = unitDirectives(readFileSync(join(REPO, 'deploy/systemd/vantage-server.service'), 'utf8'));
    expect(d.get('Service.ExecReload')?.[0]).toBe('/bin/kill -HUP $MAINPID');
    expect(Number.parseInt(d.get('Service.TimeoutStopSec')?.[0] ?? '0', 10)).toBeGreaterThan(SERVER_FIELDS.shutdown_timeout_seconds.default);
  });

  it('systemd-analyze finds no unknown or malformed directives (when systemd-analyze is installed)', () => {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0) return; // not installed: the parser test above still ran
    for (const unit of ['vantage-server.service', 'vantage-agent.service']) {
      const r = spawnSync('systemd-analyze', ['verify', join(REPO, 'deploy/systemd', unit)], { encoding: 'utf8' });
      const problems = (r.stdout + r.stderr)
        .split('\n')
        .filter((l) => /Unknown (key|section)|Failed to parse|Invalid|Missing '='/i.test(l));
      expect(problems, unit).toEqual([]);
    }
  });
});

describe('scripts/install.sh into a temporary DESTDIR', () => {
  const tmp = tempDir('vantage-install-');
  const dest = join(tmp.dir, 'root');
  let out = '';
  beforeAll(() => {
    if (!existsSync(join(REPO, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const r = runScript('install.sh', [], { DESTDIR: dest }, { timeoutMs: 120_000 });
    out = r.stdout + r.stderr;
    if (r.status !== 0) throw new Error(`install.sh failed (${r.status}): ${out}`);
  }, 150_000);
  afterAll(() => tmp.cleanup());

  it('installs the package, the command and the units under the prefix', () => {
    expect(existsSync(join(dest, 'usr/local/lib/vantage/dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(dest, 'usr/local/lib/vantage/node_modules/better-sqlite3'))).toBe(true);
    // devDependencies are pruned.
    expect(existsSync(join(dest, 'usr/local/lib/vantage/node_modules/vitest'))).toBe(false);
    const bin = join(dest, 'usr/local/bin/vantage');
    expect(mode(bin)).toBe(0o755);
    expect(readFileSync(bin, 'utf8')).toContain('/usr/local/lib/vantage/dist/cli/main.js');
    for (const unit of ['vantage-server.service', 'vantage-agent.service']) {
      expect(readFileSync(join(dest, 'etc/systemd/system', unit), 'utf8')).toBe(readFileSync(join(REPO, 'deploy/systemd', unit), 'utf8'));
    }
  });

  it('creates config 0700/0600 and data 0700 with paths pointing at the data dir', () => {
    expect(mode(join(dest, 'etc/vantage'))).toBe(0o700);
    expect(mode(join(dest, 'etc/vantage/server.yml'))).toBe(0o600);
    expect(mode(join(dest, 'etc/vantage/client.yml'))).toBe(0o600);
    expect(mode(join(dest, 'var/lib/vantage'))).toBe(0o700);
    expect(loadServerConfig({ file: join(dest, 'etc/vantage/server.yml') }).config.database).toBe('/var/lib/vantage/vantage.db');
    expect(loadClientConfig({ file: join(dest, 'etc/vantage/client.yml') }).config.state_dir).toBe('/var/lib/vantage');
  });

  it('the installed package runs and accepts the installed config', () => {
    const main = join(dest, 'usr/local/lib/vantage/dist/cli/main.js');
    const v = spawnSync(process.execPath, [main, '--version'], { encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const chk = spawnSync(process.execPath, [main, 'config', 'check', join(dest, 'etc/vantage/server.yml')], { encoding: 'utf8' });
    expect(chk.status, chk.stderr).toBe(0);
  });

  it('prints the systemctl commands and creates no user in DESTDIR mode', () => {
    expect(out).toContain('systemctl daemon-reload');
    expect(out).toContain('systemctl enable --now vantage-server');
    expect(out).toContain('systemctl enable --now vantage-agent');
    expect(out).not.toContain('(created)');
  });

  it('keeps an edited config on reinstall, replaces it with --force-config', () => {
    const cfg = join(dest, 'etc/vantage/server.yml');
    writeFileSync(cfg, 'port: 9999\n');
    const again = runScript('install.sh', ['--no-deps'], { DESTDIR: dest }, { timeoutMs: 120_000 });
    expect(again.status, again.stderr).toBe(0);
    expect(readFileSync(cfg, 'utf8')).toBe('port: 9999\n');
    expect(mode(cfg)).toBe(0o600);
    const forced = runScript('install.sh', ['--no-deps', '--force-config'], { DESTDIR: dest }, { timeoutMs: 120_000 });
    expect(forced.status, forced.stderr).toBe(0);
    expect(readFileSync(cfg, 'utf8')).toContain('database: /var/lib/vantage/vantage.db');
    // --no-deps kept the dependencies of the first install.
    expect(existsSync(join(dest, 'usr/local/lib/vantage/node_modules/better-sqlite3'))).toBe(true);
  });

  it('honours PREFIX, SYSCONFDIR, DATADIR and VANTAGE_USER in the units and wrapper', () => {
    const d2 = join(tmp.dir, 'root2');
    const r = runScript('install.sh', ['--no-deps'], { DESTDIR: d2, PREFIX: '/opt/vt', SYSCONFDIR: '/srv/conf', DATADIR: '/srv/data', VANTAGE_USER: 'lb' }, { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const unit = readFileSync(join(d2, 'etc/systemd/system/vantage-server.service'), 'utf8');
    expect(unit).toContain('ExecStart=/opt/vt/bin/vantage server --config /srv/conf/server.yml');
    expect(unit).toContain('ReadWritePaths=/srv/data');
    expect(unit).toContain('User=lb');
    expect(unit).not.toContain('/var/lib/vantage');
    expect(readFileSync(join(d2, 'opt/vt/bin/vantage'), 'utf8')).toContain('/opt/vt/lib/vantage/dist/cli/main.js');
    expect(mode(join(d2, 'srv/conf'))).toBe(0o700);
    expect(mode(join(d2, 'srv/data'))).toBe(0o700);
  });

  it('rejects bad arguments and settings with exit 2', () => {
    expect(runScript('install.sh', ['--bogus'], { DESTDIR: join(tmp.dir, 'x') }).status).toBe(2);
    expect(runScript('install.sh', [], { DESTDIR: join(tmp.dir, 'x'), PREFIX: 'relative/path' }).status).toBe(2);
    expect(runScript('install.sh', [], { DESTDIR: join(tmp.dir, 'x'), VANTAGE_USER: 'Bad User' }).status).toBe(2);
    const help = runScript('install.sh', ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('DESTDIR');
  });
});
