import type { ServerResponse } from 'node:http';

/** A JSON error answer `{"error": message, ...extra}` with an explicit length; optional extra headers. */
export function sendJsonError(
  res: ServerResponse,
  status: number,
  message: string,
  extra?: Record<string, unknown>,
  headers?: Record<string, string>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(extra ? { error: message, ...extra } : { error: message });
  const h: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  };
  res.writeHead(status, h);
  res.end(body);
}
