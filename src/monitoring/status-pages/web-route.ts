/**
 * The web listener's route shape (src/api/web/server.ts, fixed in the web contract): a handler returns true when
 * it answered. Repeated here, structurally identical, so status pages build before that listener lands; status
 * pages are public and ignore the principal.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type WebRouteLike = (req: IncomingMessage, res: ServerResponse, principal: unknown) => boolean | Promise<boolean>;
