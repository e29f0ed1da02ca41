import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';

/** The agent's state file (`<state_dir>/agent.json`). */
export const AgentStateSchema = z.object({
  client_id: z.string().min(1).max(128),
  created_at: z.string().optional(),
});
export type AgentState = z.output<typeof AgentStateSchema>;

export const STATE_FILE = 'agent.json';

/** `state_dir`, else /var/lib/vantage for root and ~/.vantage for anyone else. */
export function resolveStateDir(configured: string, uid: number = process.getuid?.() ?? -1, home = homedir()): string {
  if (configured !== '') return configured;
  return uid === 0 ? '/var/lib/vantage' : join(home, '.vantage');
}

/**
 * The client id: the configured one; else the one kept in the state file; else a new UUID,
 * written to the state file (atomically, mode 0600) so restarts keep the identity. When the
 * state directory is not writable the new id is used for this run only, with a warning.
 */
export async function resolveClientId(configured: string, stateDir: string, logger: Logger): Promise<string> {
  if (configured !== '') return configured;
  const file = join(stateDir, STATE_FILE);
  const existing = await readState(file, logger);
  if (existing.id !== null) return existing.id;
  const id = randomUUID();
  const state: AgentState = { client_id: id, created_at: new Date().toISOString() };
  const tmp = `${file}.${process.pid}.${id.slice(0, 8)}.tmp`;
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    if (existing.malformed) await rename(tmp, file);
    else {
      // link() fails when the file exists, so of two agents starting together the first one's id wins.
      try {
        await link(tmp, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const winner = await readState(file, logger);
        if (winner.id !== null) return winner.id;
        await rename(tmp, file);
      }
    }
    logger.info({ client_id: id, file }, 'generated client_id');
  } catch (e) {
    logger.warn({ client_id: id, file, err: e }, 'cannot persist client_id; it will change on restart');
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  return id;
}

/** Where a dry run's client id came from; `new` is random and saved nowhere. */
export interface PeekedClientId {
  id: string;
  source: 'config' | 'state' | 'new';
  file: string;
}

/**
 * The client id as `resolveClientId` would find it, without creating or writing anything (a dry run): the
 * configured one, else the one in the state file, else a random id that is not saved.
 */
export async function peekClientId(configured: string, stateDir: string, logger: Logger): Promise<PeekedClientId> {
  const file = join(stateDir, STATE_FILE);
  if (configured !== '') return { id: configured, source: 'config', file };
  const existing = await readState(file, logger);
  return existing.id !== null ? { id: existing.id, source: 'state', file } : { id: randomUUID(), source: 'new', file };
}

async function readState(file: string, logger: Logger): Promise<{ id: string | null; malformed: boolean }> {
  try {
    const parsed = AgentStateSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (parsed.success) return { id: parsed.data.client_id, malformed: false };
    logger.warn({ file }, 'agent state file is malformed; generating a new client_id');
    return { id: null, malformed: true };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { id: null, malformed: false };
    if (e instanceof SyntaxError) {
      logger.warn({ file }, 'agent state file is malformed; generating a new client_id');
      return { id: null, malformed: true };
    }
    logger.warn({ file, err: e }, 'cannot read agent state file; generating a new client_id');
    return { id: null, malformed: false };
  }
}
