/**
 * Static serving of the built front end (dist/web, vite's outDir): files under `/assets/` have hashed names
 * and are cached immutably for a year; index.html is `no-cache`. A `.br` or `.gz` sibling is served when the
 * client accepts that encoding. A GET for an unknown path that is not an API path serves index.html, so the
 * front end's routes (/monitors/…, /setup) load the app. The build uses relative asset URLs (vite base './'),
 * so one build serves any mount point: index.html is sent with `<base href="…">` set to where it is mounted
 * (/ on the web port, dashboard_path on the main port), which the front end also reads for its API and routes.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Paths never answered with the SPA's index.html (APIs answer 404 JSON instead). */
const API_PATHS = /^\/(api|vantage\.v1\.[A-Za-z]+|status|badge)(\/|$)/;

const IMMUTABLE = 'public, max-age=31536000, immutable';

function fileAt(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const full = normalize(join(root, decoded));
  if (full !== root && !full.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  try {
    return statSync(full).isFile() ? full : null;
  } catch {
    return null;
  }
}

function accepts(req: IncomingMessage, encoding: string): boolean {
  const header = String(req.headers['accept-encoding'] ?? '');
  return header.split(',').some((part) => {
    const [name, ...params] = part.trim().split(';');
    if (name?.trim().toLowerCase() !== encoding) return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

function send(req: IncomingMessage, res: ServerResponse, file: string, cacheControl: string): void {
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  let body = file;
  let encoding: string | null = null;
  for (const [enc, ext] of [['br', '.br'], ['gzip', '.gz']] as const) {
    if (!accepts(req, enc)) continue;
    try {
      if (statSync(file + ext).isFile()) {
        body = file + ext;
        encoding = enc;
        break;
      }
    } catch {
      // no precompressed sibling
    }
  }
  const size = statSync(body).size;
  const headers: Record<string, string | number> = { 'content-type': type, 'cache-control': cacheControl, 'content-length': size, vary: 'Accept-Encoding' };
  if (encoding) headers['content-encoding'] = encoding;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(body).on('error', () => res.destroy()).pipe(res);
}

const BASE_TAG = /<base\s+href="[^"]*"\s*\/?>/i;
const indexCache = new Map<string, { mtimeMs: number; size: number; html: string }>();

/** index.html with its <base href> set to `base` (read again when the file changes: a rebuild needs no restart). */
function indexHtml(file: string, base: string): Buffer {
  const st = statSync(file);
  let cached = indexCache.get(file);
  if (cached === undefined || cached.mtimeMs !== st.mtimeMs || cached.size !== st.size) {
    cached = { mtimeMs: st.mtimeMs, size: st.size, html: readFileSync(file, 'utf8') };
    indexCache.set(file, cached);
  }
  const tag = `<base href="${base.replace(/[^A-Za-z0-9._~/-]/g, '')}">`;
  let html: string;
  if (BASE_TAG.test(cached.html)) html = cached.html.replace(BASE_TAG, tag);
  else if (/<head[^>]*>/i.test(cached.html)) html = cached.html.replace(/<head[^>]*>/i, (h) => h + tag);
  else html = /^<!doctype html>/i.test(cached.html) ? cached.html.replace(/^<!doctype html>/i, (d) => d + tag) : tag + cached.html;
  return Buffer.from(html, 'utf8');
}

function sendIndex(req: IncomingMessage, res: ServerResponse, file: string, base: string): void {
  const body = indexHtml(file, base);
  res.writeHead(200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-cache', 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Serves `root` (absolute) for a request whose path within the mount is `path`; `base` is the mount's own path
 * as the browser sees it (ends with /). Returns false when the request is not a static one (not GET/HEAD, or an
 * API path).
 */
export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, path: string, base = '/'): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (API_PATHS.test(path)) return false;
  const file = path === '/' ? null : fileAt(root, path);
  if (file !== null && !file.endsWith(`${sep}index.html`)) {
    send(req, res, file, path.startsWith('/assets/') ? IMMUTABLE : 'no-cache');
    return true;
  }
  // A missing hashed asset is a 404, not the app (a stale index.html would otherwise loop on it).
  if (path.startsWith('/assets/')) return false;
  const index = fileAt(root, '/index.html');
  if (index === null) return false;
  sendIndex(req, res, index, base);
  return true;
}
