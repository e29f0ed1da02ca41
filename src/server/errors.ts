import type { ServerResponse } from 'node:http';

/** An error that becomes an HTTP response `{"error": message, "field"?: field, ...extra}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly opts: {
      field?: string;
      headers?: Record<string, string | number>;
      extra?: Record<string, unknown>;
      /** Close the connection after answering (the request body was not fully read). */
      close?: boolean;
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
  const text = JSON.stringify(body);
  if (headers) for (const k of Object.keys(headers)) res.setHeader(k, headers[k]!);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Writes an HttpError as its JSON response. */
export function sendHttpError(res: ServerResponse, err: HttpError): void {
  const body: Record<string, unknown> = { error: err.message };
  if (err.opts.field !== undefined) body.field = err.opts.field;
  if (err.opts.extra) Object.assign(body, err.opts.extra);
  const headers: Record<string, string | number> = { ...err.opts.headers };
  if (err.opts.close) headers.connection = 'close';
  sendJson(res, err.status, body, headers);
}
