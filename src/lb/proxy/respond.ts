import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

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

/** The same JSON error written on a raw socket (WebSocket upgrade requests), then the socket is closed. */
export function socketJsonError(socket: Duplex, status: number, message: string, extra?: Record<string, unknown>, headers?: Record<string, string>): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(extra ? { error: message, ...extra } : { error: message });
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n`;
  for (const [k, v] of Object.entries(headers ?? {})) head += `${k}: ${v}\r\n`;
  socket.end(`${head}\r\n${body}`);
}
