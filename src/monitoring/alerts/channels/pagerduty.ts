/**
 * PagerDuty Events API v2: down/degraded/reminder → `trigger`, resolved/recovered → `resolve`, with the incident id
 * as `dedup_key` (PagerDuty folds repeats of one incident into one alert). `base_url` defaults to PagerDuty's.
 */
import { z } from 'zod';
import { json, post, subjectOf, type ChannelDriver } from './types.js';

export const PagerDutySettings = z
  .object({
    routing_key: z.string({ error: 'expected the integration (routing) key' }).min(1, { error: 'expected the integration (routing) key' }),
    base_url: z.url({ error: 'expected an http(s) URL' }).default('https://events.pagerduty.com'),
    severity: z.enum(['critical', 'error', 'warning', 'info'], { error: 'expected critical, error, warning or info' }).default('critical'),
  })
  .strict();

export const pagerduty: ChannelDriver<z.output<typeof PagerDutySettings>> = {
  type: 'pagerduty',
  settings: PagerDutySettings,
  secretKeys: ['routing_key'],
  send(s, n, ctx) {
    const resolve = n.event === 'resolved' || n.event === 'recovered';
    const body = {
      routing_key: s.routing_key,
      event_action: resolve ? 'resolve' : 'trigger',
      dedup_key: n.incidentId,
      ...(resolve
        ? {}
        : {
            payload: {
              summary: `${subjectOf(n)}: ${n.reason}`.slice(0, 1024),
              source: n.monitorName,
              severity: n.event === 'degraded' ? 'warning' : s.severity,
              timestamp: new Date(n.at).toISOString(),
              custom_details: { monitorId: n.monitorId, incidentId: n.incidentId, idempotencyKey: n.idempotencyKey },
            },
          }),
    };
    return post(new URL('/v2/enqueue', s.base_url).toString(), JSON.stringify(body), json, ctx.timeoutMs);
  },
};
