/** The dashboard's pages: path pattern, nav title, minimum role, and how to render it. */
import { lazy, Suspense, type ReactNode } from 'react';
import type { Role, Session } from '../lib/api';
import { atLeast } from '../lib/roles';
import { OverviewPage } from './Overview';
import { MonitorsPage } from './Monitors';
import { MonitorDetailPage } from './MonitorDetail';
import { FleetPage } from './Fleet';
import { AuditPage, UsersPage, WorkersPage } from './Admin';
import { IncidentDetailPage, IncidentsPage } from './Incidents';
import { ChannelsPage } from './Channels';
import { StatusPagesPage } from './StatusPages';

// The maintenance page carries the window maths (cron-parser, luxon): loaded only when it is opened.
const MaintenancePage = lazy(() => import('./Maintenance').then((m) => ({ default: m.MaintenancePage })));

export interface PageProps {
  session: Session;
  params: Record<string, string>;
  query: URLSearchParams;
}
export interface PageDef {
  path: string;
  title: string;
  nav: boolean;
  minRole: Role;
  render: (p: PageProps) => ReactNode;
}

export const pages: PageDef[] = [
  { path: '/', title: 'Overview', nav: true, minRole: 'viewer', render: () => <OverviewPage /> },
  { path: '/monitors', title: 'Monitors', nav: true, minRole: 'viewer', render: (p) => <MonitorsPage {...p} /> },
  { path: '/monitors/:id', title: 'Monitor', nav: false, minRole: 'viewer', render: (p) => <MonitorDetailPage key={p.params.id} {...p} /> },
  { path: '/fleet', title: 'Fleet', nav: true, minRole: 'viewer', render: () => <FleetPage /> },
  { path: '/incidents', title: 'Incidents', nav: true, minRole: 'viewer', render: (p) => <IncidentsPage {...p} /> },
  { path: '/incidents/:id', title: 'Incident', nav: false, minRole: 'viewer', render: (p) => <IncidentDetailPage key={p.params.id} {...p} /> },
  { path: '/status-pages', title: 'Status pages', nav: true, minRole: 'viewer', render: (p) => <StatusPagesPage {...p} /> },
  {
    path: '/maintenance',
    title: 'Maintenance',
    nav: true,
    minRole: 'viewer',
    render: (p) => (
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <MaintenancePage {...p} />
      </Suspense>
    ),
  },
  { path: '/alerts', title: 'Alert channels', nav: true, minRole: 'viewer', render: (p) => <ChannelsPage {...p} /> },
  { path: '/workers', title: 'Workers', nav: true, minRole: 'viewer', render: () => <WorkersPage /> },
  { path: '/users', title: 'Users', nav: true, minRole: 'admin', render: (p) => <UsersPage {...p} /> },
  { path: '/audit', title: 'Audit log', nav: true, minRole: 'viewer', render: () => <AuditPage /> },
];


/** Matches a path against the page patterns (":name" segments become params). */
export function findPage(path: string, role: Role): { def: PageDef; params: Record<string, string> } | null {
  const parts = path.split('/').filter(Boolean);
  for (const def of pages) {
    const pat = def.path.split('/').filter(Boolean);
    if (pat.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = pat.every((seg, i) => {
      if (seg.startsWith(':')) {
        params[seg.slice(1)] = decodeURIComponent(parts[i]!);
        return true;
      }
      return seg === parts[i];
    });
    if (ok && atLeast(role, def.minRole)) return { def, params };
  }
  return null;
}
