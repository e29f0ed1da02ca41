import { readFileSync } from 'node:fs';
import { parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { CLIENT_FIELDS, CLIENT_FLAG_ALIASES, ClientConfigSchema, type ClientConfig } from './client.js';
import { coerce, envName, flagName, type FieldTable } from './fields.js';
import { SERVER_FIELDS, SERVER_FLAG_ALIASES, SERVER_SEED_ENV, ServerConfigSchema, type ServerConfig } from './server.js';
import { closest } from './suggest.js';
import { MONITOR_ENTRY_KEYS } from './monitor-entry.js';
import { MAINTENANCE_ENTRY_KEYS, STATUS_PAGE_ENTRY_KEYS } from './status-pages.js';

/** A configuration that cannot be used. `issues` are one line each, naming the file/variable/flag and the key. */
export class ConfigError extends Error {
  constructor(
    readonly issues: string[],
    /** Non-fatal remarks gathered before the failure (unknown keys), which often explain it. */
    readonly warnings: string[] = [],
  ) {
    super(issues.join('\n'));
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** Path of the YAML file; undefined = defaults + environment + flags only. */
  file?: string | undefined;
  /** Environment to read `VANTAGE_*` variables from (default: none). */
  env?: Record<string, string | undefined>;
  /** CLI flag values by config key (strings are coerced like environment values). */
  flags?: Record<string, unknown>;
}

export interface Loaded<T> {
  config: T;
  /** Unknown keys and other non-fatal remarks, one line each. */
  warnings: string[];
}

interface Kind<T> {
  /** What the file is (`server.yml`, `client.yml`), whatever it is called; messages name the real file. */
  label: string;
  fields: FieldTable;
  schema: z.ZodType<T>;
  aliases: Record<string, string>;
  /** Environment variables the seeds name without the VANTAGE_ prefix, by config key (VANTAGE_<KEY> wins). */
  seedEnv?: Record<string, string>;
  /** The other kind of file, to recognise one given in its place. */
  other: { label: string; fields: FieldTable; use: (file: string) => string };
}

const SERVER: Kind<ServerConfig> = {
  label: 'server.yml',
  fields: SERVER_FIELDS,
  schema: ServerConfigSchema as z.ZodType<ServerConfig>,
  aliases: SERVER_FLAG_ALIASES,
  seedEnv: SERVER_SEED_ENV,
  other: { label: 'client.yml', fields: CLIENT_FIELDS, use: (f) => `check it with \`vantage config check --client ${f}\`, run it with \`vantage agent -c ${f}\`` },
};
const CLIENT: Kind<ClientConfig> = {
  label: 'client.yml',
  fields: CLIENT_FIELDS,
  schema: ClientConfigSchema as z.ZodType<ClientConfig>,
  aliases: CLIENT_FLAG_ALIASES,
  other: { label: 'server.yml', fields: SERVER_FIELDS, use: (f) => `check it without --client (\`vantage config check ${f}\`), run it with \`vantage server -c ${f}\`` },
};

/**
 * A file of the other kind given in place of this one (client.yml to `config check` without --client, or to
 * `vantage server`): more of its keys belong only to the other kind than only to this one, at least two.
 * Returns the message saying so, or null.
 */
function otherKindMessage<T>(k: Kind<T>, file: string, keys: readonly string[]): string | null {
  const otherOnly = keys.filter((key) => key in k.other.fields && !(key in k.fields));
  const ownOnly = keys.filter((key) => key in k.fields && !(key in k.other.fields));
  if (otherOnly.length < 2 || otherOnly.length <= ownOnly.length) return null;
  const sample = otherOnly.slice(0, 4).join(', ') + (otherOnly.length > 4 ? ', …' : '');
  return (
    `${file}: this looks like a ${k.other.label}, not a ${k.label}: ${otherOnly.length} of its keys are ${k.other.label} keys (${sample})` +
    `${ownOnly.length > 0 ? ` and ${ownOnly.length} ${ownOnly.length === 1 ? 'is a' : 'are'} ${k.label} key${ownOnly.length === 1 ? '' : 's'}` : ''}; ${k.other.use(file)}`
  );
}

export const loadServerConfig = (opts: LoadOptions = {}): Loaded<ServerConfig> => load(SERVER, opts);
export const loadClientConfig = (opts: LoadOptions = {}): Loaded<ClientConfig> => load(CLIENT, opts);

type Source = { kind: 'file' } | { kind: 'env'; name: string } | { kind: 'flag'; name: string };

function load<T>(k: Kind<T>, opts: LoadOptions): Loaded<T> {
  const warnings: string[] = [];
  const raw: Record<string, unknown> = {};
  const sources = new Map<string, Source>();
  const known = Object.keys(k.fields);

  const label = opts.file ?? k.label;
  if (opts.file !== undefined) {
    const fromFile = readYaml(opts.file);
    const wrongKind = otherKindMessage(k, opts.file, Object.keys(fromFile));
    if (wrongKind !== null) throw new ConfigError([wrongKind]);
    for (const [key, value] of Object.entries(fromFile)) {
      if (!(key in k.fields)) {
        const hint = key in k.other.fields ? undefined : closest(key, known);
        const why = key in k.other.fields ? ` — it is a ${k.other.label} key` : hint ? ` — did you mean "${hint}"?` : '';
        warnings.push(`${label}: unknown key "${key}" ignored${why}`);
        continue;
      }
      raw[key] = value;
      sources.set(key, { kind: 'file' });
    }
  }

  const env = opts.env ?? {};
  for (const [key, field] of Object.entries(k.fields)) {
    const seedName = k.seedEnv?.[key];
    const name = env[envName(key)] === undefined && seedName !== undefined && env[seedName] !== undefined ? seedName : envName(key);
    const v = env[name];
    if (v === undefined) continue;
    raw[key] = coerce(field.kind, v);
    sources.set(key, { kind: 'env', name });
  }

  for (const [flagKey, value] of Object.entries(opts.flags ?? {})) {
    if (value === undefined) continue;
    const key = k.aliases[flagKey] ?? flagKey;
    const field = k.fields[key];
    if (!field) continue;
    raw[key] = typeof value === 'string' ? coerce(field.kind, value) : value;
    sources.set(key, { kind: 'flag', name: flagName(key) });
  }

  const parsed = k.schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => formatIssue(label, issue, raw, sources)), warnings);
  }
  return { config: parsed.data, warnings };
}

/** One YAML parse error as one line: the message with its position, without the code frame it introduces. */
export function yamlErrorText(file: string, e: YAMLError): string {
  const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?\s*$/, '').replace(/:\s*$/, '');
  const pos = e.linePos?.[0];
  return `${file}: YAML syntax error${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${message}`;
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([`${file}: cannot read: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`]);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => yamlErrorText(file, e)));
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError([`${file}: expected a mapping of keys to values at the top level`]);
  }
  return value as Record<string, unknown>;
}

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p as string];
  }
  return cur;
}

/** A URL's password is never echoed back (`postgres://v:***@db/x`). */
const maskUrlPassword = (s: string): string => s.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s"]*:)[^@/\s"]*@/gi, '$1***@');

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = maskUrlPassword(JSON.stringify(v));
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function formatIssue(label: string, issue: z.core.$ZodIssue, raw: Record<string, unknown>, sources: Map<string, Source>): string {
  const top = String(issue.path[0] ?? '');
  const src = sources.get(top);
  const where = src?.kind === 'env' || src?.kind === 'flag' ? src.name : label;
  const p = pathText(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const known = top === 'monitors' ? MONITOR_ENTRY_KEYS : top === 'status_pages' ? STATUS_PAGE_ENTRY_KEYS : top === 'maintenance' ? MAINTENANCE_ENTRY_KEYS : ['name', 'vcpu', 'memory_gb', 'storage_gb', 'gpu', 'gpu_memory_gb'];
    return issue.keys
      .map((key) => {
        const hint = closest(key, known);
        return `${where}: ${p}: unknown key "${key}"${hint ? ` — did you mean "${hint}"?` : ''}`;
      })
      .join('\n');
  }
  const msg = issue.message.startsWith('expected') ? issue.message : `expected ${issue.message.replace(/^Invalid input: expected /, '')}`;
  return `${where}: ${p}: ${msg}, got ${show(valueAt(raw, issue.path))}`;
}
