/** Small request/response helpers of the web listener: JSON bodies with a size limit, JSON answers, origins. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

/** Largest JSON body the auth endpoints read. */
export const AUTH_BODY_LIMIT = 16 * 1024;

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a JSON body (content-type application/json) of at most `limit` bytes and validates it with `schema`. */
export async function readJsonBody<T>(req: IncomingMessage, schema: z.ZodType<T>, limit = AUTH_BODY_LIMIT): Promise<T> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new BodyError(415, 'expected content-type: application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyError(413, `request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BodyError(400, 'body: expected a JSON object');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
    throw new BodyError(400, `${field}: ${issue.message}`);
  }
  return parsed.data;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A Connect-protocol error answer (unary JSON error body). */
export function sendConnectError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { code, message });
}

/** The origin of this listener as the browser addressed it: scheme://Host. */
export function selfOrigins(req: IncomingMessage, https: boolean): Set<string> {
  const host = req.headers.host ?? req.headers[':authority'];
  const out = new Set<string>();
  if (typeof host === 'string' && host !== '') out.add(`${https ? 'https' : 'http'}://${host.toLowerCase()}`);
  return out;
}

export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
