import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * A JSON error `{"error": message, ...extra}` written on a raw socket, then the socket is closed: for requests
 * that never reach a response object (client errors such as a header timeout, refused WebSocket upgrades). The
 * status line uses the standard reason phrase; the answer always carries `connection: close`, and `headers`
 * are added after it.
 */
export function socketJsonError(socket: Duplex, status: number, message: string, extra?: Record<string, unknown>, headers?: Record<string, string | number>): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(extra ? { error: message, ...extra } : { error: message });
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n`;
  if (headers) for (const k in headers) if (k !== 'connection') head += `${k}: ${headers[k]}\r\n`;
  socket.end(`${head}\r\n${body}`);
}
