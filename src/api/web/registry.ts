/**
 * The Connect services of the web API, in one list. Every listener that serves the web API (the main port's
 * handler, the web port's server.ts) registers exactly these, so a new service is one entry here (and its
 * methods' roles in roles.ts).
 */
import type { ConnectRouter } from '@connectrpc/connect';
import { AlertsService } from '../../gen/vantage/v1/alerts_pb.js';
import { MonitorsService } from '../../gen/vantage/v1/monitors_pb.js';
import { UserService } from '../../gen/vantage/v1/users_pb.js';
import { createAlertsServiceImpl, type AlertsServiceDeps } from './alerts-service.js';
import { createMonitorsServiceImpl, type MonitorsServiceDeps } from './service.js';
import { createUserServiceImpl, type UserServiceDeps } from './users-service.js';
import { DashboardService } from '../../gen/vantage/v1/dashboard_pb.js';
import { FleetService } from '../../gen/vantage/v1/fleet_pb.js';
import { createDashboardServiceImpl } from './dashboard.js';
import type { OverviewCache } from './overview-cache.js';
import { createFleetServiceImpl, type FleetServiceDeps } from './fleet.js';
import { MaintenanceService, StatusPagesService } from '../../gen/vantage/v1/status_pages_pb.js';
import { createMaintenanceServiceImpl, createStatusPagesServiceImpl, type StatusPagesServiceDeps } from './status-pages-service.js';

/**
 * What the web services need from the server; each service takes the part it uses. DashboardService is served
 * when `dashboard` is given, FleetService when `engine` is (a server without the load balancer has no fleet),
 * UserService when `users` is (the web port's listener passes it).
 */
export type WebServicesDeps = MonitorsServiceDeps &
  Partial<Pick<UserServiceDeps, 'users'>> & {
    engine?: FleetServiceDeps['engine'];
    /** The overview shared with the live stream (overview-cache.ts); absent = DashboardService keeps its own. */
    overviewCache?: OverviewCache;
    /** Alerting; absent = AlertsService is not served (alerting not started). */
    alerts?: Omit<AlertsServiceDeps, 'now'>;
    /** Status pages and maintenance windows; absent = StatusPagesService and MaintenanceService are not served. */
    statusPages?: StatusPagesServiceDeps['statusPages'];
    /** Called after a status page or maintenance window changed (the maintenance calendar reloads). */
    onMaintenanceChanged?: () => void;
  };

/** Registers every web service on a Connect router. */
export function registerWebServices(router: ConnectRouter, deps: WebServicesDeps): void {
  router.service(MonitorsService, createMonitorsServiceImpl(deps));
  if (deps.users) router.service(UserService, createUserServiceImpl({ users: deps.users, now: deps.now }));
  if (deps.dashboard) router.service(DashboardService, createDashboardServiceImpl({ ...deps, dashboard: deps.dashboard }));
  if (deps.engine) router.service(FleetService, createFleetServiceImpl({ engine: deps.engine, now: deps.now }));
  if (deps.alerts) router.service(AlertsService, createAlertsServiceImpl({ ...deps.alerts, now: deps.now }));
  if (deps.statusPages) {
    const sp: StatusPagesServiceDeps = { statusPages: deps.statusPages, now: deps.now, ...(deps.onMaintenanceChanged ? { onMaintenanceChanged: deps.onMaintenanceChanged } : {}) };
    router.service(StatusPagesService, createStatusPagesServiceImpl(sp));
    router.service(MaintenanceService, createMaintenanceServiceImpl(sp));
  }
}
