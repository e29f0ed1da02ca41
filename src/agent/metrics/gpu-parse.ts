/**
 * Parser for `nvidia-smi --query-gpu=index,name,uuid,utilization.gpu,memory.total,memory.used,
 * memory.free,temperature.gpu,power.draw --format=csv,noheader,nounits` output.
 */

/** The query string the agent passes to nvidia-smi; the parser expects exactly these columns. */
export const NVIDIA_SMI_QUERY =
  'index,name,uuid,utilization.gpu,memory.total,memory.used,memory.free,temperature.gpu,power.draw';

/** One GPU reading. `null` means unknown (`[N/A]`, `[Not Supported]`, …), never 0. */
export interface GpuReading {
  readonly index: number;
  readonly name: string;
  readonly uuid: string;
  readonly utilizationPct: number | null;
  readonly memoryTotalMiB: number | null;
  readonly memoryUsedMiB: number | null;
  readonly memoryFreeMiB: number | null;
  readonly temperatureC: number | null;
  readonly powerDrawW: number | null;
}

/** Thrown when a line is not a GPU record (driver error text, wrong column count). */
export class NvidiaSmiParseError extends Error {
  override readonly name = 'NvidiaSmiParseError';
}

const TRAILING_COLUMNS = 7; // uuid … power.draw
const MIN_COLUMNS = 2 + TRAILING_COLUMNS;

/**
 * Parses one numeric field. Bracketed placeholders (`[N/A]`, `[Not Supported]`,
 * `[Unknown Error]`, `[GPU is lost]`, …), `N/A` and empty fields are unknown.
 * A trailing unit (`%`, `MiB`, `W`, `C`) is tolerated so csv output with units parses too.
 */
export function parseGpuNumber(field: string): number | null {
  const s = field.trim();
  if (s === '' || s.startsWith('[') || /^n\/?a$/i.test(s)) return null;
  const m = /^(-?\d+(?:\.\d+)?)\s*(?:%|MiB|W|C)?$/.exec(s);
  if (m === null) return null;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : null;
}

/** Parses one CSV record; a GPU name containing commas is re-joined. */
export function parseGpuLine(line: string): GpuReading {
  const cols = line.split(',');
  if (cols.length < MIN_COLUMNS) {
    throw new NvidiaSmiParseError(`expected ${MIN_COLUMNS} columns, got ${cols.length}: ${line.slice(0, 200)}`);
  }
  const index = Number((cols[0] ?? '').trim());
  if (!Number.isInteger(index) || index < 0) {
    throw new NvidiaSmiParseError(`bad GPU index in: ${line.slice(0, 200)}`);
  }
  const tail = cols.slice(cols.length - TRAILING_COLUMNS).map((c) => c.trim());
  const name = cols
    .slice(1, cols.length - TRAILING_COLUMNS)
    .join(',')
    .trim();
  const [uuid = '', util = '', total = '', used = '', free = '', temp = '', power = ''] = tail;
  return {
    index,
    name,
    uuid,
    utilizationPct: parseGpuNumber(util),
    memoryTotalMiB: parseGpuNumber(total),
    memoryUsedMiB: parseGpuNumber(used),
    memoryFreeMiB: parseGpuNumber(free),
    temperatureC: parseGpuNumber(temp),
    powerDrawW: parseGpuNumber(power),
  };
}

/** True for the header line of `--format=csv` (with header). */
function isHeader(line: string): boolean {
  return /^\s*index\s*,/.test(line);
}

/**
 * Parses a whole output. Blank lines and a header are skipped; "No devices were found"
 * gives an empty list. Any other non-record line (driver failure text) throws.
 */
export function parseNvidiaSmiCsv(text: string): GpuReading[] {
  const out: GpuReading[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || isHeader(line)) continue;
    if (/^No devices were found/i.test(line)) continue;
    out.push(parseGpuLine(line));
  }
  return out;
}
