import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
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
  try {
    const parsed = AgentStateSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (parsed.success) return parsed.data.client_id;
    logger.warn({ file }, 'agent state file is malformed; generating a new client_id');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') logger.warn({ file, err: e }, 'cannot read agent state file; generating a new client_id');
  }
  const id = randomUUID();
  const state: AgentState = { client_id: id, created_at: new Date().toISOString() };
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    await rename(tmp, file);
    logger.info({ client_id: id, file }, 'generated client_id');
  } catch (e) {
    logger.warn({ client_id: id, file, err: e }, 'cannot persist client_id; it will change on restart');
  }
  return id;
}
