import { Option, type Command } from 'commander';
import type { FieldTable } from '../config/fields.js';

/** Adds one `--kebab-key` option per config key, with its doc and default in the help text. */
export function addConfigOptions(cmd: Command, fields: FieldTable, aliases: Record<string, string> = {}): Command {
  for (const [key, field] of Object.entries(fields)) {
    const flag = `--${key.replace(/_/g, '-')}`;
    const def = JSON.stringify(field.default);
    const spec = field.kind === 'bool' ? `${flag} [bool]` : `${flag} ${field.arg ?? '<value>'}`;
    cmd.addOption(new Option(spec, `${field.doc} (default: ${def})`).hideHelp(false));
  }
  for (const [alias, key] of Object.entries(aliases)) {
    const field = fields[key];
    cmd.addOption(new Option(`--${alias} ${field?.arg ?? '<value>'}`, `alias of --${key.replace(/_/g, '-')}`));
  }
  return cmd;
}

const camel = (key: string): string => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Picks the config-key flags out of commander's parsed options (camelCase) back into config keys. */
export function flagsFromOptions(opts: Record<string, unknown>, fields: FieldTable, aliases: Record<string, string> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const alias of Object.keys(aliases)) if (opts[camel(alias)] !== undefined) out[alias] = opts[camel(alias)];
  for (const key of Object.keys(fields)) if (opts[camel(key)] !== undefined) out[key] = opts[camel(key)];
  return out;
}

/**
 * Accepts Go-style single-dash long flags as the Opsen binaries did (`-config server.yml -port 9000`):
 * `-name` with two or more letters becomes `--name`; single-letter flags are left alone.
 */
export function normaliseArgv(argv: readonly string[]): string[] {
  return argv.map((a, i) => (i >= 2 && /^-[a-z][a-z0-9_-]+(=.*)?$/i.test(a) ? `-${a}` : a));
}
