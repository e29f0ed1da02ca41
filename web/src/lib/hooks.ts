/** Data hooks: one Connect call with loading/error state, and the live stream (GET /api/live, SSE). */
import { underBase } from './base.js';
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Loaded<T> {
  data: T | null;
  error: string;
  loading: boolean;
  reload: () => void;
}

/** Runs `fn` when `deps` change (and on reload()); keeps the last data while reloading. */
export function useLoad<T>(fn: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(true);
  const [n, setN] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setLoading(true);
    fn()
      .then((d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError('');
      })
      .catch((e: unknown) => {
        if (mine === seq.current) setError(e instanceof Error ? e.message : String(e));
      })
      .finally(() => {
        if (mine === seq.current) setLoading(false);
      });
  }, [...deps, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { data, error, loading, reload };
}

type Listener = (data: unknown) => void;
const listeners = new Map<string, Set<Listener>>();
let source: EventSource | null = null;

function ensureSource(): void {
  if (source !== null) return;
  source = new EventSource(underBase('/api/live'), { withCredentials: true });
  for (const ev of ['overview', 'fleet', 'result', 'incidents']) {
    source.addEventListener(ev, (m) => {
      const data: unknown = JSON.parse((m as MessageEvent<string>).data);
      for (const l of listeners.get(ev) ?? []) l(data);
    });
  }
  // `incidents` only says "something changed". A change made before this stream (re)connected sent its event to
  // nobody, so each open counts as one: the page re-reads what it shows.
  source.addEventListener('open', () => {
    for (const ev of SIGNAL_EVENTS) for (const l of listeners.get(ev) ?? []) l(null);
  });
}

/** Events that carry no state of their own, only a signal to re-read. */
const SIGNAL_EVENTS = ['incidents'] as const;

/** Subscribes to one live event type while the component is mounted (one EventSource for the whole page). */
export function useLive<T>(event: 'overview' | 'fleet' | 'result' | 'incidents', onEvent: (data: T) => void): void {
  const ref = useRef(onEvent);
  ref.current = onEvent;
  useEffect(() => {
    ensureSource();
    const l: Listener = (d) => ref.current(d as T);
    const set = listeners.get(event) ?? new Set();
    set.add(l);
    listeners.set(event, set);
    return () => {
      set.delete(l);
      if ([...listeners.values()].every((s) => s.size === 0) && source) {
        source.close();
        source = null;
      }
    };
  }, [event]);
}
