/**
 * `vantage monitor apply -f monitors.yml [--dry-run] [--prune]`: makes the server's monitors match a file,
 * declaratively (ApplyMonitors). Monitors are identified by name: an entry whose name exists updates that
 * monitor, a new name creates one, and with --prune a monitor the file does not name is deleted. Applying
 * the same file twice changes nothing the second time. The file is validated here with the same rules as
 * `monitor add` before anything is sent; the plan is printed first.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import type { ApplyMonitorsResponse, PlannedMonitor } from '../gen/vantage/v1/monitors_pb.js';
import { describeEntryIssues, entryToInput, MonitorEntriesSchema } from '../config/monitor-entry.js';
import { describeApplyError, validateApplyInputs, type MonitorInputData } from '../api/web/validation.js';
import { monitorInputToProto } from '../api/web/convert.js';
import { clientFor, failure, stdio, toJson, type CommonOptions, type MonitorCliIo } from './monitor.js';

export interface ApplyOptions extends CommonOptions {
  file: string;
  dryRun?: boolean;
  prune?: boolean;
}

/** Names listed per part of the plan; the rest are counted (--json lists every one). */
const LISTED = 20;

/** Reads a monitors file: a YAML (or JSON) list of entries, or a mapping with a `monitors:` list. */
export function readMonitorsFile(path: string, text: string): { ok: true; inputs: MonitorInputData[] } | { ok: false; errors: string[] } {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map((e) => `${path}: ${e.message.split('\n')[0]}`) };
  const top: unknown = doc.toJS();
  const raw = top !== null && typeof top === 'object' && !Array.isArray(top) && 'monitors' in top ? (top as { monitors: unknown }).monitors : top;
  const parsed = MonitorEntriesSchema.safeParse(raw ?? []);
  if (!parsed.success) return { ok: false, errors: describeEntryIssues(parsed.error, raw).map((e) => `${path}: ${e}`) };
  const inputs = parsed.data.map(entryToInput);
  const valid = validateApplyInputs(inputs);
  if (!valid.ok) return { ok: false, errors: valid.errors.map((e) => `${path}: ${describeApplyError(e)}`) };
  return { ok: true, inputs };
}

function section(sign: string, items: readonly PlannedMonitor[], detail: (m: PlannedMonitor) => string = () => ''): string[] {
  const lines = items.slice(0, LISTED).map((m) => `  ${sign} ${m.name}${detail(m)}`);
  if (items.length > LISTED) lines.push(`  ${sign} … and ${items.length - LISTED} more (--json lists every name)`);
  return lines;
}

/** The plan as printed: counts first, then the names per part. */
export function formatPlan(r: ApplyMonitorsResponse, prune: boolean): string {
  const lines = [
    `plan: ${r.created.length} to create, ${r.updated.length} to update, ${r.deleted.length} to delete, ${r.unchanged.length} unchanged (monitors are matched by name)`,
    ...section('+', r.created),
    ...section('~', r.updated, (m) => ` (${m.changedFields.join(', ')})`),
    ...section('-', r.deleted, (m) => ` (${m.id})`),
    ...section('=', r.unchanged),
  ];
  if (!prune && r.kept > 0) lines.push(`${r.kept} monitor(s) on the server are not in the file and are kept (--prune deletes them)`);
  const changes = r.created.length + r.updated.length + r.deleted.length;
  if (!r.applied) lines.push(changes === 0 ? 'dry run: nothing to change' : 'dry run: nothing changed (run without --dry-run to apply)');
  else lines.push(changes === 0 ? 'no changes: the server already matches the file' : `applied: ${r.created.length} created, ${r.updated.length} updated, ${r.deleted.length} deleted`);
  return lines.join('\n');
}

export async function runMonitorApply(o: ApplyOptions, io: MonitorCliIo = stdio): Promise<number> {
  let text: string;
  try {
    text = readFileSync(o.file === '-' ? 0 : o.file, 'utf8');
  } catch (err) {
    io.err(`error: cannot read ${o.file}: ${(err as Error).message}`);
    return 2;
  }
  const file = readMonitorsFile(o.file, text);
  if (!file.ok) {
    for (const e of file.errors) io.err(`error: ${e}`);
    io.err(`${file.errors.length} error(s); nothing was sent to the server`);
    return 2;
  }
  try {
    const res = await clientFor(o).applyMonitors({ monitors: file.inputs.map(monitorInputToProto), prune: Boolean(o.prune), dryRun: Boolean(o.dryRun) });
    io.out(o.json ? toJson(res) : formatPlan(res, Boolean(o.prune)));
    return 0;
  } catch (err) {
    return failure(err, io);
  }
}

export function registerMonitorApply(monitor: Command, common: (c: Command, timeout?: string) => Command): void {
  common(
    monitor
      .command('apply')
      .description(
        'Make the monitors match a file (YAML list of {name, url, type, interval, timeout, assertions, …}), identified by name: ' +
          'creates new names, updates changed ones, and with --prune deletes monitors the file does not name. ' +
          'Prints the plan first; applying the same file again changes nothing.',
      )
      .requiredOption('-f, --file <path>', 'monitors file (YAML or JSON; "-" reads stdin); see docs/monitoring.md#monitor-apply')
      .option('--dry-run', 'print the plan, change nothing')
      .option('--prune', 'delete monitors whose name is not in the file'),
    '120s',
  ).action(async (opts: ApplyOptions) => {
    process.exitCode = await runMonitorApply(opts);
  });
}
