import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';

/**
 * Response headers that pipeline stages add to every answer (security headers, RateLimit-*), kept as flat
 * `[name, value, name, value, …]` lists and merged into the response head only when it is written.
 *
 * Why: Node writes a head fastest when `writeHead()` gets one flat array and nothing was set before with
 * `setHeader()`; a single `setHeader()` call switches the response to a slower path that re-validates and
 * re-stores every header. Setting eight headers one by one cost more than the routing decision itself.
 *
 * `VantageResponse` is the `ServerResponse` class of the main server (`createServer({ ServerResponse })`). Its
 * `writeHead()` (also reached implicitly by `write()`/`end()` without one) appends the deferred headers,
 * skipping any name the handler set itself, so a handler's own value always wins. For any other response
 * (HTTP/2 compatibility responses, plain `ServerResponse` in tests) `deferHeaders()` falls back to
 * `setHeader()` for names not already set, which gives the same result.
 */
export type FlatHeaders = readonly string[];

export class VantageResponse<Req extends IncomingMessage = IncomingMessage> extends ServerResponse<Req> {
  /** Deferred header lists (null when none); appended to the head in order. */
  deferred: FlatHeaders[] | null = null;
  /** True once setHeader/appendHeader was used on this response. */
  private touched = false;
  /**
   * Called once when the response closes, before its 'close' listeners, with `closeData`: the request router's
   * per-request accounting without allocating a listener per request.
   */
  closeHook: ((res: this, data: unknown) => void) | null = null;
  closeData: unknown = undefined;

  /** EventEmitter's emit(event, ...args): the arguments after `event` are passed on through `arguments`. */
  override emit(event: string | symbol): boolean {
    if (event === 'close' && this.closeHook !== null) {
      const hook = this.closeHook;
      this.closeHook = null;
      hook(this, this.closeData);
    }
    // `arguments` passed on as is: no rest array built and spread again for every event of every response.
    // eslint-disable-next-line prefer-rest-params
    return ServerResponse.prototype.emit.apply(this, arguments as unknown as [string | symbol, ...unknown[]]);
  }

  override setHeader(name: string, value: number | string | readonly string[]): this {
    this.touched = true;
    return super.setHeader(name, value);
  }

  override appendHeader(name: string, value: string | readonly string[]): this {
    this.touched = true;
    return super.appendHeader(name, value);
  }

  override writeHead(statusCode: number, reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    const lists = this.deferred;
    if (lists === null) return super.writeHead(statusCode, reason as string, headers);
    this.deferred = null;
    const own = typeof reason === 'string' ? headers : reason;
    if (Array.isArray(own) && !this.touched) {
      // Fast path: one flat list for Node, the handler's names first.
      const merged = own.slice() as OutgoingHttpHeader[];
      for (const list of lists) {
        for (let i = 0; i < list.length; i += 2) {
          if (!flatHas(own, list[i]!)) merged.push(list[i]!, list[i + 1]!);
        }
      }
      return typeof reason === 'string' ? super.writeHead(statusCode, reason, merged) : super.writeHead(statusCode, merged);
    }
    for (const list of lists) {
      for (let i = 0; i < list.length; i += 2) {
        const name = list[i]!;
        if (!this.hasHeader(name) && !headersHave(own, name)) super.setHeader(name, list[i + 1]!);
      }
    }
    return super.writeHead(statusCode, reason as string, headers);
  }
}

/** True when the flat header list names `name` (case-insensitive). */
function flatHas(list: readonly OutgoingHttpHeader[], name: string): boolean {
  for (let i = 0; i < list.length; i += 2) {
    const n = list[i];
    if (typeof n === 'string' && n.length === name.length && n.toLowerCase() === name.toLowerCase()) return true;
  }
  return false;
}

function headersHave(own: OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined, name: string): boolean {
  if (own === undefined) return false;
  if (Array.isArray(own)) return flatHas(own, name);
  const lower = name.toLowerCase();
  for (const k in own) if (k.toLowerCase() === lower) return true;
  return false;
}

/** The part of a response `deferHeaders` needs (ServerResponse, Http2ServerResponse). */
export interface HeaderTarget {
  readonly headersSent: boolean;
  hasHeader(name: string): boolean;
  setHeader(name: string, value: string): unknown;
}

/**
 * Adds `list` ([name, value, …]) to the response head unless the handler sets the same name: deferred to
 * `writeHead()` on a VantageResponse, set at once (for names not yet set) on any other response. The list is
 * kept by reference, so it must not be changed afterwards (share frozen lists).
 */
export function deferHeaders(res: HeaderTarget, list: FlatHeaders): void {
  if (list.length === 0 || res.headersSent) return;
  if (res instanceof VantageResponse) {
    if (res.deferred === null) res.deferred = [list];
    else res.deferred.push(list);
    return;
  }
  for (let i = 0; i < list.length; i += 2) {
    if (!res.hasHeader(list[i]!)) res.setHeader(list[i]!, list[i + 1]!);
  }
}
