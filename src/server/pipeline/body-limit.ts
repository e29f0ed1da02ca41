import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors.js';
import type { Stage } from './types.js';

function tooLarge(max: number): HttpError {
  return new HttpError(413, `request body exceeds max_request_body_bytes (${max} bytes)`, { field: 'body', drain: true });
}

/**
 * Reads a request body, refusing more than `max` bytes: a declared Content-Length above the limit is refused
 * before anything is read, and a chunked body is cut off as soon as it grows past the limit (413; the rest is
 * discarded up to a cap so the client can read the answer, then the connection is dropped).
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) return Promise.reject(tooLarge(max));
  if (declared === '0' || (declared === undefined && req.headers['transfer-encoding'] === undefined)) {
    return Promise.resolve(Buffer.alloc(0));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Three listeners, removed only on overflow: after 'end' or 'error' the request is finished with them.
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.off('end', onEnd);
        chunks.length = 0;
        reject(tooLarge(max));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    req.on('data', onData);
    req.on('end', onEnd);
    req.once('error', reject);
  });
}

/** Body limit (max_request_body_bytes): reads the body of 'json' and 'none' routes into ctx.body. */
export function bodyLimit(maxBytes: number): Stage {
  return (ctx, next) => {
    if (ctx.route.body === 'stream') return next();
    return readBody(ctx.req, maxBytes).then((body) => {
      ctx.body = body;
      return next();
    });
  };
}
