/**
 * Where the dashboard is mounted: the server writes `<base href>` into index.html ('/' on the web port,
 * dashboard_path such as '/ui/' on the main port), so one build works under either root. The API calls, the
 * live stream and the router's paths are all taken relative to it.
 */
function mountPath(): string {
  try {
    const p = new URL(document.baseURI).pathname;
    return p.endsWith('/') ? p : p.slice(0, p.lastIndexOf('/') + 1);
  } catch {
    return '/';
  }
}

/** The mount, starting and ending with '/'. */
export const BASE_PATH = mountPath();

/** An app path ('/api/auth/session', '/monitors/1') as a URL path under the mount ('/ui/api/auth/session'). */
export function underBase(path: string): string {
  return path.startsWith('/') ? BASE_PATH + path.slice(1) : path;
}

/** A URL path of the page ('/ui/monitors/1') as the app's path ('/monitors/1'). */
export function appPath(urlPath: string): string {
  if (BASE_PATH === '/' || !urlPath.startsWith(BASE_PATH)) return urlPath;
  return '/' + urlPath.slice(BASE_PATH.length);
}
