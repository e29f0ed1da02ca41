/**
 * A small history-API router: the current path and query, and navigate() without a page load. Paths are the
 * app's ('/monitors/1'); the URL carries them under the dashboard's mount (lib/base.ts, e.g. '/ui/monitors/1').
 */
import { useEffect, useState } from 'react';
import { appPath, underBase } from './base.js';

/** The href of an app path, for links (`<a href={href('/monitors/1')}>`). */
export const href = underBase;

export interface Location {
  path: string;
  query: URLSearchParams;
}

const read = (): Location => ({ path: appPath(window.location.pathname), query: new URLSearchParams(window.location.search) });
const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  const url = underBase(to);
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  for (const l of listeners) l();
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const on = () => setLoc(read());
    listeners.add(on);
    window.addEventListener('popstate', on);
    return () => {
      listeners.delete(on);
      window.removeEventListener('popstate', on);
    };
  }, []);
  return loc;
}
