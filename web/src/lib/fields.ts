/**
 * Where a server validation message belongs on a form. The web services name the field in proto spelling with a
 * dotted path after the message's prefix: "page.groups.0.monitor_ids.0: expected a monitor id",
 * "window.schedule.timezone: …", "channel.settings.url: …", "override_json.failure_threshold: …".
 */

/** A message placed on a form: `field` is the form's field key it belongs to, or null (shown at the form). */
export interface Placed {
  field: string | null;
  message: string;
}

/** The dotted path a message names after `prefix` ("page" → "groups.0.name"), or null when it names none. */
export function fieldPath(message: string, prefix: string): string | null {
  const m = /^(?:\[[a-z_]+\] )?([A-Za-z0-9_.]+)(?:\[\d+\])?:\s/.exec(message);
  if (!m) return null;
  const path = m[1]!;
  if (prefix === '') return path;
  if (path === prefix) return '';
  return path.startsWith(`${prefix}.`) ? path.slice(prefix.length + 1) : null;
}

/**
 * Places `message` at the most specific of the form's field `keys` that its path starts with (whole dotted
 * segments: "groups" takes "groups.0.name", "schedule.start" does not take "schedule.starts_at").
 */
export function placeError(message: string, prefix: string, keys: readonly string[]): Placed {
  const path = fieldPath(message, prefix);
  if (path === null || path === '') return { field: null, message };
  let best: string | null = null;
  for (const k of keys) {
    if ((path === k || path.startsWith(`${k}.`)) && (best === null || k.length > best.length)) best = k;
  }
  return { field: best, message };
}

/** The list index a message names right after `listPath` ("page.groups.2.name: …", "page.groups" → 2), else null. */
export function indexIn(message: string, listPath: string): number | null {
  const path = fieldPath(message, '');
  if (path === null || !path.startsWith(`${listPath}.`)) return null;
  const n = /^(\d+)(?:\.|$)/.exec(path.slice(listPath.length + 1));
  return n ? Number(n[1]) : null;
}
