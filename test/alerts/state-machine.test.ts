/** The pure alert state machine, driven by a fake clock (plain numbers): every event it can emit and every suppression. */
import { describe, expect, it } from 'vitest';
import { applyRun, initialState, tick, type AlertEvent, type EvalContext, type MonitorAlertState } from '../../src/monitoring/alerts/state-machine.js';
import { parseMonitorOverride, resolveRule, type AlertRule } from '../../src/monitoring/alerts/rules.js';

const DEFAULTS = {
  alert_failure_threshold: 3,
  alert_success_threshold: 2,
  alert_region_quorum: 0,
  alert_reminder_interval_ms: 0,
  alert_max_reminders: 3,
  alert_degraded_latency_ms: 0,
  alert_degraded_window_ms: 300_000,
};
const rule = (o: Partial<AlertRule> = {}): AlertRule => ({ ...resolveRule(DEFAULTS, [], undefined), ...o });
const one: EvalContext = { regions: ['eu'], inMaintenance: false, parentDown: false };

/** Feeds runs ("d" = down, "u" = up) one per second from t0 and collects the events. */
function feed(seq: string, r: AlertRule, ctx: EvalContext = one, start: MonitorAlertState = initialState(), t0 = 1000, region = 'eu', latency = 50) {
  let state = start;
  const events: AlertEvent[] = [];
  let t = t0;
  for (const c of seq) {
    const out = applyRun(state, r, { region, status: c === 'd' ? 'down' : 'up', latencyMs: latency, at: t }, ctx);
    state = out.state;
    events.push(...out.events);
    t += 1000;
  }
  return { state, events, kinds: events.map((e) => e.kind), t };
}

describe('thresholds', () => {
  it('goes down on the third consecutive failure, not before', () => {
    expect(feed('dd', rule()).kinds).toEqual([]);
    const f = feed('ddd', rule());
    expect(f.kinds).toEqual(['down']);
    expect(f.events[0]!.firstFailureAt).toBe(1000);
    expect(f.state.status).toBe('down');
  });
  it('resolves after two passing runs, not one', () => {
    expect(feed('dddu', rule()).kinds).toEqual(['down']);
    expect(feed('ddduu', rule()).kinds).toEqual(['down', 'resolved']);
  });
  it('a failure streak broken by a pass starts over', () => {
    expect(feed('ddudd', rule()).kinds).toEqual([]);
    expect(feed('ddudddd', rule()).kinds).toEqual(['down']);
  });
  it('threshold 1 alerts on the first failure and resolves on the first pass with success_threshold 1', () => {
    expect(feed('dud', rule({ failureThreshold: 1, successThreshold: 1 })).kinds).toEqual(['down', 'resolved', 'down']);
  });
  it('stays down through repeated failures without repeating the alert', () => {
    expect(feed('dddddddddd', rule()).kinds).toEqual(['down']);
  });
});

describe('flapping', () => {
  it('up/down/up inside the thresholds alerts nothing', () => {
    expect(feed('dudududu', rule()).kinds).toEqual([]);
  });
  it('once down, a single pass between failures does not resolve and re-alert', () => {
    expect(feed('dddudududud', rule()).kinds).toEqual(['down']);
  });
});

describe('region quorum', () => {
  const two: EvalContext = { regions: ['eu', 'us'], inMaintenance: false, parentDown: false };
  it('majority of two regions is two: one failing region alone alerts nothing', () => {
    expect(feed('dddddd', rule(), two).kinds).toEqual([]);
  });
  it('quorum 2: both failing → down; one recovering → resolved', () => {
    const r = rule({ regionQuorum: 2 });
    const eu = feed('ddd', r, two, initialState(), 1000, 'eu');
    const us = feed('ddd', r, two, eu.state, eu.t, 'us');
    expect(us.kinds).toEqual(['down']);
    expect(us.events[0]!.failingRegions).toEqual(['eu', 'us']);
    const back = feed('uu', r, two, us.state, us.t, 'eu');
    expect(back.kinds).toEqual(['resolved']);
  });
  it('quorum 1 of three regions: one failing region is enough', () => {
    const three: EvalContext = { regions: ['a', 'b', 'c'], inMaintenance: false, parentDown: false };
    expect(feed('ddd', rule({ regionQuorum: 1 }), three, initialState(), 0, 'b').kinds).toEqual(['down']);
  });
  it('majority of three is two', () => {
    const three: EvalContext = { regions: ['a', 'b', 'c'], inMaintenance: false, parentDown: false };
    const a = feed('ddd', rule(), three, initialState(), 0, 'a');
    expect(a.kinds).toEqual([]);
    expect(feed('ddd', rule(), three, a.state, a.t, 'c').kinds).toEqual(['down']);
  });
  it('a quorum above the region count is capped at the region count', () => {
    expect(feed('ddd', rule({ regionQuorum: 5 })).kinds).toEqual(['down']);
  });
});

describe('reminders', () => {
  it('reminds every interval while down, capped at max_reminders', () => {
    const r = rule({ reminderIntervalMs: 10_000, maxReminders: 2 });
    const down = feed('ddd', r);
    let state = down.state;
    const kinds: string[] = [];
    for (let t = down.t; t < down.t + 100_000; t += 1000) {
      const o = tick(state, r, t, one);
      state = o.state;
      kinds.push(...o.events.map((e) => `${e.kind}${e.reminder ?? ''}`));
    }
    expect(kinds).toEqual(['reminder1', 'reminder2']);
  });
  it('a reminder is due one interval after the alert, not before', () => {
    const r = rule({ reminderIntervalMs: 10_000, maxReminders: 5 });
    const down = feed('ddd', r); // down at t=3000
    expect(tick(down.state, r, 12_999, one).events).toEqual([]);
    expect(tick(down.state, r, 13_000, one).events.map((e) => e.kind)).toEqual(['reminder']);
  });
  it('no reminders with interval 0, and the count starts over with a new incident', () => {
    expect(tick(feed('ddd', rule()).state, rule(), 1e9, one).events).toEqual([]);
    const r = rule({ reminderIntervalMs: 1000, maxReminders: 1 });
    const a = feed('ddd', r);
    const rem = tick(a.state, r, a.t + 5000, one);
    expect(rem.events.map((e) => e.kind)).toEqual(['reminder']);
    const again = feed('uuddd', r, one, rem.state, a.t + 6000);
    expect(again.kinds).toEqual(['resolved', 'down']);
    expect(tick(again.state, r, again.t + 5000, one).events.map((e) => e.kind)).toEqual(['reminder']);
  });
  it('no reminders during maintenance', () => {
    const r = rule({ reminderIntervalMs: 1000, maxReminders: 5 });
    const a = feed('ddd', r);
    expect(tick(a.state, r, a.t + 5000, { ...one, inMaintenance: true }).events).toEqual([]);
  });
});

describe('dependencies and maintenance', () => {
  it('a child is not alerted while its parent is down, and is once the parent is back and it still fails', () => {
    const ctx = { ...one, parentDown: true };
    const f = feed('ddddd', rule(), ctx);
    expect(f.kinds).toEqual([]);
    expect(f.state.status).toBe('up');
    expect(tick(f.state, rule(), f.t, one).events.map((e) => e.kind)).toEqual(['down']);
  });
  it('nothing alerts during maintenance; a target that recovered inside the window alerts nothing after it', () => {
    const m = { ...one, inMaintenance: true };
    const f = feed('ddddduu', rule(), m);
    expect(f.kinds).toEqual([]);
    expect(tick(f.state, rule(), f.t, one).events).toEqual([]);
  });
  it('an incident open when maintenance starts still resolves', () => {
    const a = feed('ddd', rule());
    expect(feed('uu', rule(), { ...one, inMaintenance: true }, a.state, a.t).kinds).toEqual(['resolved']);
  });
});

describe('degraded', () => {
  const r = rule({ degradedLatencyMs: 500, degradedWindowMs: 10_000 });
  it('degraded when the p95 over the window exceeds the limit, recovered when it falls back', () => {
    const slow = feed('uuu', r, one, initialState(), 1000, 'eu', 900);
    expect(slow.kinds).toEqual(['degraded']);
    expect(slow.events[0]!.p95Ms).toBe(900);
    // Fast runs: after the slow samples age out of the 10 s window the p95 falls back under the limit.
    const fast = feed('u'.repeat(12), r, one, slow.state, slow.t, 'eu', 100);
    expect(fast.kinds).toEqual(['recovered']);
  });
  it('needs at least three samples', () => {
    expect(feed('uu', r, one, initialState(), 0, 'eu', 900).kinds).toEqual([]);
  });
  it('one slow run among twenty fast ones does not degrade (p95)', () => {
    let state = initialState();
    const kinds: string[] = [];
    for (let i = 0; i < 40; i++) {
      const o = applyRun(state, rule({ degradedLatencyMs: 500, degradedWindowMs: 60_000 }), { region: 'eu', status: 'up', latencyMs: i === 25 ? 5000 : 80, at: i * 1000 }, one);
      state = o.state;
      kinds.push(...o.events.map((e) => e.kind));
    }
    expect(kinds).toEqual([]);
  });
  it('down takes over from degraded', () => {
    const slow = feed('uuu', r, one, initialState(), 1000, 'eu', 900);
    expect(feed('ddd', r, one, slow.state, slow.t).kinds).toEqual(['recovered', 'down']);
  });
  it('not degraded during maintenance', () => {
    expect(feed('uuuu', r, { ...one, inMaintenance: true }, initialState(), 0, 'eu', 900).kinds).toEqual([]);
  });
});

describe('rules', () => {
  it('monitor override beats group beats defaults', () => {
    const got = resolveRule(DEFAULTS, [{ name: 'db', failure_threshold: 5, success_threshold: 4 }], { group: 'db', failure_threshold: 7 });
    expect(got.failureThreshold).toBe(7);
    expect(got.successThreshold).toBe(4);
    expect(got.regionQuorum).toBeNull();
  });
  it('a bad override names the field and what was expected', () => {
    expect(parseMonitorOverride({ alerts: { failure_threshold: 0 } }).error).toBe('options.alerts.failure_threshold: expected a positive integer');
    expect(parseMonitorOverride({ alerts: { region_quorum: 'most' } }).error).toMatch(/^options\.alerts\.region_quorum: expected "majority" or a positive integer/);
    expect(parseMonitorOverride({ alerts: { nope: 1 } }).error).toMatch(/^options\.alerts/);
    expect(parseMonitorOverride({}).override).toBeUndefined();
  });
  it('state survives a JSON round trip (it is stored)', () => {
    const a = feed('ddd', rule());
    const b = JSON.parse(JSON.stringify(a.state)) as MonitorAlertState;
    expect(feed('uu', rule(), one, b, a.t).kinds).toEqual(['resolved']);
  });
});
