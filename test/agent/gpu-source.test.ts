import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ExecGpuSource, LoopGpuSource } from '../../src/agent/metrics/gpu.js';
import type { GpuSource } from '../../src/agent/metrics/gpu.js';
import { captureLogger, FIXTURES, waitFor } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vantage-gpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sources: GpuSource[] = [];
afterEach(() => sources.splice(0).forEach((s) => s.stop()));

let n = 0;
/**
 * Writes a fake nvidia-smi: prints `fixture` once (or every -lms period while looping),
 * appends a line to `<script>.starts` per start, and can exit with an error instead.
 */
function fakeSmi(opts: { fixture?: string; exitCode?: number; message?: string; loops?: number; thenHang?: boolean } = {}): string {
  const path = join(dir, `nvidia-smi-${n++}`);
  const src = opts.fixture === undefined ? '/dev/null' : join(FIXTURES, opts.fixture);
  const body = opts.exitCode !== undefined
    ? `echo "${opts.message ?? 'failed'}"; exit ${opts.exitCode}`
    : `ms=""; prev=""
for a in "$@"; do [ "$prev" = "-lms" ] && ms="$a"; prev="$a"; done
if [ -z "$ms" ]; then cat "${src}"; exit 0; fi
i=0
while [ "${opts.loops ?? -1}" -lt 0 ] || [ "$i" -lt "${opts.loops ?? -1}" ]; do cat "${src}"; i=$((i+1)); sleep $(awk "BEGIN{print $ms/1000}"); done
${opts.thenHang === true ? 'exec sleep 60' : 'exit 3'}`;
  writeFileSync(path, `#!/bin/sh\necho x >> "${path}.starts"\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
const starts = (script: string): number =>
  existsSync(`${script}.starts`) ? readFileSync(`${script}.starts`, 'utf8').trim().split('\n').length : 0;

describe('ExecGpuSource (one nvidia-smi call per sample)', () => {
  it('reads and parses every GPU', async () => {
    const s = new ExecGpuSource({ binary: fakeSmi({ fixture: 'nvidia-smi-multi-gpu-na.csv' }), intervalMs: 1000, retryMs: 300_000, logger: captureLogger().logger });
    const gpus = await s.read();
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3]);
    expect(gpus[2]?.utilizationPct).toBeNull();
    expect(s.enabled).toBe(true);
  });

  it('a missing binary disables GPUs with one log line and retries only after retryMs', async () => {
    let clock = 0;
    const path = join(dir, 'later-nvidia-smi');
    const { logger, lines } = captureLogger();
    const s = new ExecGpuSource({ binary: path, intervalMs: 1000, retryMs: 300_000, logger, now: () => clock });
    expect(await s.read()).toEqual([]);
    expect(s.enabled).toBe(false);
    for (let i = 0; i < 5; i++) {
      clock += 1000;
      expect(await s.read()).toEqual([]);
    }
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/GPUs disabled: .*not found/);
    // The driver gets installed; nothing happens until the retry period has passed.
    const real = fakeSmi({ fixture: 'query-idle.csv' });
    writeFileSync(path, readFileSync(real));
    chmodSync(path, 0o755);
    clock += 200_000;
    expect(await s.read()).toEqual([]);
    expect(starts(path)).toBe(0);
    clock += 100_000;
    expect((await s.read()).map((g) => g.name)).toEqual(['NVIDIA H200']);
    expect(s.enabled).toBe(true);
    expect(lines.some((l) => l.msg === 'GPUs enabled')).toBe(true);
  });

  it('a driver error disables GPUs with the driver message', async () => {
    const { logger, lines } = captureLogger();
    const s = new ExecGpuSource({
      binary: fakeSmi({ exitCode: 9, message: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." }),
      intervalMs: 1000,
      retryMs: 300_000,
      logger,
    });
    expect(await s.read()).toEqual([]);
    expect(s.enabled).toBe(false);
    expect(lines.find((l) => l.level === 40)?.reason).toMatch(/couldn't communicate/);
  });

  it('"No devices were found" means zero GPUs, not an error', async () => {
    const path = join(dir, 'nodev');
    writeFileSync(path, '#!/bin/sh\necho "No devices were found"\n');
    chmodSync(path, 0o755);
    const s = new ExecGpuSource({ binary: path, intervalMs: 1000, retryMs: 1000, logger: captureLogger().logger });
    expect(await s.read()).toEqual([]);
    expect(s.enabled).toBe(true);
  });
});

describe('LoopGpuSource (one long-lived nvidia-smi -lms)', () => {
  it('keeps the freshest reading per GPU from one process', async () => {
    const script = fakeSmi({ fixture: 'nvidia-smi-multi-gpu-na.csv' });
    const s = new LoopGpuSource({ binary: script, intervalMs: 100, retryMs: 300_000, logger: captureLogger().logger });
    sources.push(s);
    const first = await s.read();
    expect(first.map((g) => g.index)).toEqual([0, 1, 2, 3]);
    expect(first[3]).toMatchObject({ utilizationPct: 37, temperatureC: null, powerDrawW: null });
    await waitFor(async () => (await s.read()).length === 4 && starts(script) === 1, 2000, 'readings');
    expect(starts(script)).toBe(1); // one process, not one per read
  });

  it('a process that dies disables GPUs, then restarts once the retry period passes', async () => {
    let clock = 0;
    const script = fakeSmi({ fixture: 'query-idle.csv', loops: 1 });
    const { logger, lines } = captureLogger();
    const s = new LoopGpuSource({ binary: script, intervalMs: 100, retryMs: 60_000, logger, now: () => clock });
    sources.push(s);
    expect(await s.read()).toHaveLength(1);
    await waitFor(() => !s.enabled, 5000, 'the process to exit');
    expect(await s.read()).toEqual([]);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    expect(starts(script)).toBe(1);
    clock += 60_000;
    expect(await s.read()).toHaveLength(1);
    expect(starts(script)).toBe(2);
  });

  it('a missing binary disables GPUs without throwing', async () => {
    const { logger, lines } = captureLogger();
    const s = new LoopGpuSource({ binary: join(dir, 'absent'), intervalMs: 100, retryMs: 60_000, logger });
    sources.push(s);
    expect(await s.read()).toEqual([]);
    await waitFor(() => !s.enabled, 2000, 'disable');
    expect(lines.find((l) => l.level === 40)?.msg).toMatch(/not found/);
  });

  it('driver error text on stdout disables GPUs', async () => {
    const { logger } = captureLogger();
    const s = new LoopGpuSource({ binary: fakeSmi({ fixture: 'nvidia-smi-driver-error.txt' }), intervalMs: 100, retryMs: 60_000, logger });
    sources.push(s);
    expect(await s.read()).toEqual([]);
    expect(s.enabled).toBe(false);
  });

  it('drops readings that went stale', async () => {
    let clock = 0;
    // The process prints once, then stays alive without printing (a hung driver).
    const s = new LoopGpuSource({ binary: fakeSmi({ fixture: 'query-idle.csv', loops: 1, thenHang: true }), intervalMs: 100, retryMs: 60_000, logger: captureLogger().logger, now: () => clock });
    sources.push(s);
    expect(await s.read()).toHaveLength(1);
    clock += 4_999;
    expect(await s.read()).toHaveLength(1);
    clock += 2;
    expect(await s.read()).toEqual([]);
    expect(s.enabled).toBe(true);
  });
});
