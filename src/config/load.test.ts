import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadClientConfig, loadServerConfig } from './load.js';
import { DEFAULT_TIERS } from './tiers.js';

const dir = mkdtempSync(join(tmpdir(), 'vantage-config-'));
let n = 0;
function yamlFile(text: string): string {
  const p = join(dir, `c${n++}.yml`);
  writeFileSync(p, text);
  return p;
}
function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

// The server.yml of the seed README, verbatim (every key shown with its default).
const SEED_SERVER_YML = `
port: 8080
host: 0.0.0.0
database: /opt/opsen/opsen.db
stale_minutes: 5
log_level: info  # debug, info, warn, error, fatal
json_logging: false
server_key: ""
api_keys: []
whitelisted_ips: []
rate_limit_per_minute: 60
rate_limit_burst: 120
max_request_body_bytes: 10485760  # 10MB
request_timeout_seconds: 30
read_header_timeout_seconds: 10
tls_cert_file: ""
tls_key_file: ""
tls_insecure_skip_verify: false
enable_cors: false
cors_allowed_origins: []
proxy_endpoints: []
proxy_sse_flush_interval_ms: -1
geoip_db_path: ""
sticky_header: ""
sticky_affinity_enabled: true
pending_allocation_timeout_seconds: 120
tier_field_name: "tier"
tier_header: "X-Tier"
db_max_open_conns: 25
db_max_idle_conns: 5
db_conn_max_lifetime: 300
cleanup_interval_seconds: 60
shutdown_timeout_seconds: 30
health_check_enabled: true
health_check_type: "tcp"
health_check_interval_seconds: 10
health_check_timeout_seconds: 2
health_check_path: "/health"
health_check_unhealthy_threshold: 3
health_check_healthy_threshold: 2
tiers:
  - name: small
    vcpu: 1
    memory_gb: 1.0
    storage_gb: 5
  - name: medium
    vcpu: 2
    memory_gb: 4.0
    storage_gb: 20
  - name: gpu-inference  # GPU example
    vcpu: 8
    memory_gb: 32.0
    storage_gb: 100
    gpu: 1
    gpu_memory_gb: 16.0
`;

const SEED_CLIENT_YML = `
server_url: http://lb.example.com:8080
server_key: ""
endpoint_url: ""
window_minutes: 15
report_interval_seconds: 60
disk_path: /
client_id: ""
hostname: ""
skip_geolocation: false
geoip_db_path: ""
log_level: info
insecure_tls: false
`;

describe('server config', () => {
  it("accepts the seed's server.yml unchanged, without warnings", () => {
    const { config, warnings } = loadServerConfig({ file: yamlFile(SEED_SERVER_YML) });
    expect(warnings).toEqual([]);
    expect(config.database).toBe('/opt/opsen/opsen.db');
    expect(config.tiers.map((t) => t.name)).toEqual(['small', 'medium', 'gpu-inference']);
    expect(config.tiers[0]).toEqual({ name: 'small', vcpu: 1, memory_gb: 1, storage_gb: 5, gpu: 0, gpu_memory_gb: 0 });
    expect(config.default_tier).toBe('small');
    expect(config.health_check_type).toBe('tcp');
  });

  it('fills every default when given nothing, with the seed tier table', () => {
    const { config } = loadServerConfig();
    expect(config.port).toBe(8080);
    expect(config.rate_limit_per_minute).toBe(60);
    expect(config.rate_limit_burst).toBe(120);
    expect(config.pending_allocation_timeout_seconds).toBe(120);
    expect(config.proxy_sse_flush_interval_ms).toBe(-1);
    expect(config.tier_header).toBe('X-Tier');
    expect(config.tiers).toEqual(DEFAULT_TIERS);
    expect(config.default_tier).toBe('small');
    expect(config.worker_port).toBe(8081);
    expect(config.stats_retention_days).toBe(7);
  });

  it('applies YAML, then environment, then flags (later wins)', () => {
    const file = yamlFile('port: 9000\nstale_minutes: 7\nlog_level: warn\n');
    const env = { VANTAGE_PORT: '9100', VANTAGE_STALE_MINUTES: '8', VANTAGE_API_KEYS: 'a,b', VANTAGE_ENABLE_CORS: 'yes' };
    const { config } = loadServerConfig({ file, env, flags: { port: '9200' } });
    expect(config.port).toBe(9200);
    expect(config.stale_minutes).toBe(8);
    expect(config.log_level).toBe('warn');
    expect(config.api_keys).toEqual(['a', 'b']);
    expect(config.enable_cors).toBe(true);
  });

  it('maps the seed short flag -stale to stale_minutes', () => {
    expect(loadServerConfig({ flags: { stale: '10' } }).config.stale_minutes).toBe(10);
  });

  it('warns about an unknown key and names the closest known key', () => {
    const file = yamlFile('rate_limit_per_minit: 5\n');
    const { warnings, config } = loadServerConfig({ file });
    expect(warnings).toEqual([`${file}: unknown key "rate_limit_per_minit" ignored — did you mean "rate_limit_per_minute"?`]);
    expect(config.rate_limit_per_minute).toBe(60);
  });

  it('names the key, what was expected and what was given for an invalid value', () => {
    const file = yamlFile('rate_limit_per_minute: abc\n');
    expect(issuesOf(() => loadServerConfig({ file }))).toEqual([`${file}: rate_limit_per_minute: expected a positive integer, got "abc"`]);
    expect(issuesOf(() => loadServerConfig({ env: { VANTAGE_PORT: '70000' } }))).toEqual([
      'VANTAGE_PORT: port: expected an integer from 0 to 65535, got 70000',
    ]);
    expect(issuesOf(() => loadServerConfig({ flags: { health_check_type: 'udp' } }))).toEqual([
      '--health-check-type: health_check_type: expected one of "tcp", "http", got "udp"',
    ]);
  });

  it('database: a SQLite path or a well-formed postgres:// URL; anything else names the key', () => {
    expect(loadServerConfig({ env: { VANTAGE_DATABASE: 'postgres://v:secret@db.internal:5432/vantage' } }).config.database).toBe(
      'postgres://v:secret@db.internal:5432/vantage',
    );
    expect(loadServerConfig({ flags: { database: 'postgresql://db/vantage' } }).config.database).toBe('postgresql://db/vantage');
    expect(loadServerConfig({ flags: { database: './data/x.db' } }).config.database).toBe('./data/x.db');
    const expected = 'expected a SQLite file path or a postgres://user:pass@host:port/database URL';
    expect(issuesOf(() => loadServerConfig({ flags: { database: 'postgres://db:99999/vantage' } }))).toEqual([
      `--database: database: ${expected}, got "postgres://db:99999/vantage"`,
    ]);
    expect(issuesOf(() => loadServerConfig({ env: { VANTAGE_DATABASE: 'postgres://db' } }))).toEqual([`VANTAGE_DATABASE: database: ${expected}, got "postgres://db"`]);
    expect(issuesOf(() => loadServerConfig({ flags: { database: 'postgres://v:s3cret@db:99999/vantage' } }))).toEqual([
      `--database: database: ${expected}, got "postgres://v:***@db:99999/vantage"`,
    ]);
    const file = yamlFile('database: mysql://db/x\n');
    expect(issuesOf(() => loadServerConfig({ file }))).toEqual([`${file}: database: ${expected}, got "mysql://db/x"`]);
  });

  it('rejects an invalid CIDR naming the entry', () => {
    const file = yamlFile('whitelisted_ips: ["10.0.0.0/8", "300.1.1.1/8"]\n');
    const issues = issuesOf(() => loadServerConfig({ file }));
    expect(issues).toEqual([`${file}: whitelisted_ips[1]: expected a CIDR range such as "10.0.0.0/8" or an IP address, got "300.1.1.1/8"`]);
  });

  it('accepts IPv6 CIDRs and bare addresses', () => {
    const { config } = loadServerConfig({ file: yamlFile('whitelisted_ips: ["2001:db8::/32", "127.0.0.1", "::1"]\n') });
    expect(config.whitelisted_ips).toHaveLength(3);
  });

  it('rejects tier typos, duplicate names and an unknown default_tier', () => {
    const file = yamlFile('tiers:\n  - {name: a, vcpu: 1, memory: 1, storage_gb: 1}\n');
    const typo = issuesOf(() => loadServerConfig({ file }));
    expect(typo).toContain(`${file}: tiers[0]: unknown key "memory" — did you mean "memory_gb"?`);
    expect(typo).toContain(`${file}: tiers[0].memory_gb: expected a non-negative number, got nothing`);
    const dupFile = yamlFile('tiers:\n  - {name: a, vcpu: 1, memory_gb: 1, storage_gb: 1}\n  - {name: a, vcpu: 2, memory_gb: 1, storage_gb: 1}\n');
    const dup = issuesOf(() => loadServerConfig({ file: dupFile }));
    expect(dup[0]?.startsWith(`${dupFile}: tiers[1].name: expected unique tier names`)).toBe(true);
    const def = issuesOf(() => loadServerConfig({ flags: { default_tier: 'huge' } }));
    expect(def[0]).toBe('--default-tier: default_tier: expected one of the configured tiers (small, medium, large, gpu-inference, gpu-training), got "huge"');
  });

  it('uses the named default_tier', () => {
    expect(loadServerConfig({ flags: { default_tier: 'large' } }).config.default_tier).toBe('large');
  });

  it('requires tls_cert_file and tls_key_file together', () => {
    const issues = issuesOf(() => loadServerConfig({ flags: { tls_cert_file: '/x.crt' } }));
    expect(issues[0]).toMatch(/tls_key_file: expected both tls_cert_file and tls_key_file, or neither/);
  });

  it('reports a missing file and YAML syntax errors naming the real file once, without a dangling colon', () => {
    expect(issuesOf(() => loadServerConfig({ file: join(dir, 'nope.yml') }))).toEqual([`${join(dir, 'nope.yml')}: cannot read: no such file`]);
    const bad = yamlFile('port: 1\nlog_level: a: b\n');
    expect(issuesOf(() => loadServerConfig({ file: bad }))).toEqual([
      `${bad}: YAML syntax error at line 2, column 12: Nested mappings are not allowed in compact mappings`,
    ]);
    const flow = yamlFile('port: [1\n');
    const [first] = issuesOf(() => loadServerConfig({ file: flow }));
    expect(first?.startsWith(`${flow}: YAML syntax error at line 2, column 1: `)).toBe(true);
    expect(first?.split(flow)).toHaveLength(2); // the file is named once
    expect(first).not.toMatch(/:\s*$/);
    const list = yamlFile('- a\n- b\n');
    expect(issuesOf(() => loadServerConfig({ file: list }))).toEqual([`${list}: expected a mapping of keys to values at the top level`]);
  });

  it('names the file as given, e.g. typo.yml, never server.yml', () => {
    const typo = join(dir, 'typo.yml');
    writeFileSync(typo, 'stale_minuts: 3\nport: x\n');
    let err: ConfigError | undefined;
    try {
      loadServerConfig({ file: typo });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.warnings).toEqual([`${typo}: unknown key "stale_minuts" ignored — did you mean "stale_minutes"?`]);
    expect(err?.issues).toEqual([`${typo}: port: expected an integer from 0 to 65535, got "x"`]);
    expect([...(err?.warnings ?? []), ...(err?.issues ?? [])].join('\n')).not.toContain('server.yml');
  });

  it('recognises a client.yml given as a server.yml and says how to use it', () => {
    const file = yamlFile('server_url: http://lb:8080\nendpoint_url: http://10.0.0.5:11000\nserver_key: k\nreport_interval_seconds: 30\n');
    expect(issuesOf(() => loadServerConfig({ file }))).toEqual([
      `${file}: this looks like a client.yml, not a server.yml: 3 of its keys are client.yml keys (server_url, endpoint_url, report_interval_seconds); ` +
        `check it with \`vantage config check --client ${file}\`, run it with \`vantage agent -c ${file}\``,
    ]);
  });

  it('warns that a lone client.yml key in a server.yml belongs to the other file instead of guessing a typo', () => {
    const file = yamlFile('port: 9000\nserver_url: http://lb:8080\n');
    expect(loadServerConfig({ file }).warnings).toEqual([`${file}: unknown key "server_url" ignored — it is a client.yml key`]);
  });

  it('treats an empty file as all defaults', () => {
    expect(loadServerConfig({ file: yamlFile('') }).config.port).toBe(8080);
  });
});

describe('client config', () => {
  it("accepts the seed's client.yml unchanged", () => {
    const { config, warnings } = loadClientConfig({ file: yamlFile(SEED_CLIENT_YML) });
    expect(warnings).toEqual([]);
    expect(config.server_url).toBe('http://lb.example.com:8080');
    expect(config.window_minutes).toBe(15);
    expect(config.latitude).toBeNull();
    expect(config.region).toBe('global');
    expect(config.max_concurrent_checks).toBe(32);
  });

  it('maps the seed short flags -server and -window', () => {
    const { config } = loadClientConfig({ flags: { server: 'http://lb:9000', window: '20' } });
    expect(config.server_url).toBe('http://lb:9000');
    expect(config.window_minutes).toBe(20);
  });

  it('keeps latitude 0 as a real coordinate and requires both coordinates', () => {
    expect(loadClientConfig({ file: yamlFile('latitude: 0\nlongitude: 0\n') }).config.latitude).toBe(0);
    expect(issuesOf(() => loadClientConfig({ file: yamlFile('latitude: 10\n') }))[0]).toMatch(/longitude: expected latitude and longitude together/);
    expect(issuesOf(() => loadClientConfig({ env: { VANTAGE_LATITUDE: '91', VANTAGE_LONGITUDE: '0' } }))[0]).toBe(
      'VANTAGE_LATITUDE: latitude: expected a number from -90 to 90, or empty for unknown, got 91',
    );
  });

  it('recognises a server.yml given as a client.yml', () => {
    const file = yamlFile('port: 9000\nworker_port: 9001\ntiers: []\nserver_key: k\n');
    const [issue] = issuesOf(() => loadClientConfig({ file }));
    expect(issue).toMatch(/: this looks like a server\.yml, not a client\.yml: 3 of its keys are server\.yml keys \(port, worker_port, tiers\); check it without --client/);
  });

  it('rejects a server_url that is not an http(s) URL', () => {
    expect(issuesOf(() => loadClientConfig({ flags: { server_url: 'lb:8080' } }))[0]).toBe(
      '--server-url: server_url: expected an http:// or https:// URL, got "lb:8080"',
    );
  });
});
