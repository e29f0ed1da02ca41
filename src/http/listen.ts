import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { handshakeUnfinished } from './http2.js';
import { socketJsonError } from './raw-error.js';

/** Starts listening on `host` ('' = every address) and `port`; rejects with the listen error (EADDRINUSE, …). */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host === '' ? undefined : host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** A host a client can connect to for a listening address (the loopback for the wildcard addresses). */
export function connectableHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/** A host as written in a URL (IPv6 addresses in brackets). */
export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Answers requests the HTTP parser refused with a JSON error on the raw socket: headers not complete within
 * read_header_timeout_seconds (slowloris) → 408, oversized headers → 431, anything else → 400. A TLS connection
 * whose handshake never finished is dropped without an answer.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (handshakeUnfinished(socket)) {
      socket.destroy();
      return;
    }
    const [status, msg] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request not received in time (read_header_timeout_seconds / request_timeout_seconds)']
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'request headers too large']
          : [400, `bad request: ${err.code ?? err.message}`];
    socketJsonError(socket, status, msg);
  });
}
