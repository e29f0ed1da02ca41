import type { IncomingMessage } from 'node:http';
import { DRAIN_CAP_BYTES, HttpError } from '../errors.js';
import { hasRequestBody } from '../http2.js';
import type { Stage } from '../pipeline.js';

function tooLarge(max: number): HttpError {
  return new HttpError(413, `request body exceeds max_request_body_bytes (${max} bytes)`, { field: 'body', drain: true });
}

/**
 * Reads a request body, refusing more than `max` bytes: a declared Content-Length above the limit is refused
 * before anything is read; a chunked body stops being kept as soon as it grows past the limit, the rest is
 * discarded (up to DRAIN_CAP_BYTES, then the connection is dropped) and the 413 goes out once it has arrived,
 * so a client that writes its whole body before reading still reads the answer.
 *
 * `done` is called once: with the body, or with the error (the 413, or the request stream's error). A
 * callback, not a promise: this runs for every management request, and the pipeline continues from it.
 */
export function readBody(req: IncomingMessage, max: number, done: (err: unknown, body?: Buffer) => void): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) return done(tooLarge(max));
  if (declared === '0' || (declared === undefined && !hasRequestBody(req))) { // HTTP/2: no Transfer-Encoding
    return done(undefined, EMPTY);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const finish = (err: unknown, body?: Buffer): void => {
    if (settled) return;
    settled = true;
    done(err, body);
  };
  // Three listeners, removed only on overflow: after 'end' or 'error' the request is finished with them.
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > max) {
      req.off('data', onData);
      req.off('end', onEnd);
      chunks.length = 0;
      // Read and discard the rest before answering: a client still writing its body would otherwise hit a
      // reset (EPIPE/ECONNRESET) before it reads the 413. Past DRAIN_CAP_BYTES the answer goes out at once
      // and the connection is dropped after it.
      let extra = 0;
      const drained = () => {
        req.off('data', onExtra);
        req.off('end', drained);
        finish(tooLarge(max));
      };
      const onExtra = (c: Buffer) => {
        extra += c.length;
        if (extra > DRAIN_CAP_BYTES) drained();
      };
      req.on('data', onExtra);
      req.on('end', drained);
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', finish); // not `once`: no wrapper per request; the request is finished after an error anyway
}

/** A shared empty body (never written to). */
const EMPTY = Buffer.alloc(0);

/**
 * Body limit (max_request_body_bytes): reads the body of 'json' and 'none' routes into ctx.body, then
 * continues the pipeline from the read's callback (or stops it with the 413 or the stream's error).
 */
export function bodyLimit(maxBytes: number): Stage {
  return (ctx, next) => {
    if (ctx.route.body === 'stream') return next();
    readBody(ctx.req, maxBytes, (err, body) => {
      if (err !== undefined) return next(err ?? new Error('request body stream failed'));
      ctx.body = body!;
      next();
    });
  };
}
