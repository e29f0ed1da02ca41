import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error that becomes an HTTP response `{"error": message, "field"?: field, ...extra}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly opts: {
      field?: string;
      headers?: Record<string, string | number>;
      extra?: Record<string, unknown>;
      /**
       * The request body was not (fully) read: after answering, discard what the client still sends (so it
       * can read the answer instead of hitting a reset), up to a cap, then drop the connection.
       */
      drain?: boolean;
    } = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Writes a JSON response with an explicit Content-Length. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string | number>,
): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** Writes an already serialised JSON body (`text` must be valid JSON) with an explicit Content-Length. */
export function sendJsonText(
  res: ServerResponse,
  status: number,
  text: string,
  headers?: Record<string, string | number>,
): void {
  // A flat [name, value, …] list is Node's cheapest header form (see response.ts).
  const list = ['content-type', JSON_TYPE, 'content-length', String(Buffer.byteLength(text))];
  if (headers) for (const k in headers) list.push(k, String(headers[k]));
  res.writeHead(status, list);
  res.end(text);
}

/** Writes an HttpError as its JSON response. */
export function sendHttpError(res: ServerResponse, err: HttpError): void {
  const body: Record<string, unknown> = { error: err.message };
  if (err.opts.field !== undefined) body.field = err.opts.field;
  if (err.opts.extra) Object.assign(body, err.opts.extra);
  sendJson(res, err.status, body, err.opts.headers);
}

/** Most bytes of an unread request body discarded after an early answer before the connection is dropped. */
export const DRAIN_CAP_BYTES = 1 << 20;

/** Discards the rest of a request body after an early answer; a client sending more than `cap` is cut off. */
export function discardBody(req: IncomingMessage, cap = DRAIN_CAP_BYTES): void {
  if (req.complete) return;
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > cap) req.socket.destroy();
  });
  req.resume();
}
