/**
 * The Connect services of the web API, in one list. Every listener that serves the web API (the main port's
 * handler today, the dashboard's web port) registers exactly these, so a new service is one entry here.
 */
import type { ConnectRouter } from '@connectrpc/connect';
import { AlertsService } from '../../gen/vantage/v1/alerts_pb.js';
import { MonitorsService } from '../../gen/vantage/v1/monitors_pb.js';
import { createAlertsServiceImpl, type AlertsServiceDeps } from './alerts-service.js';
import { createMonitorsServiceImpl, type MonitorsServiceDeps } from './service.js';

/** What the web services need from the server; each service takes the part it uses. */
export type WebServicesDeps = MonitorsServiceDeps & {
  /** Alerting; absent = AlertsService is not served (alerting not started). */
  alerts?: Omit<AlertsServiceDeps, 'now'>;
};

/** Registers every web service on a Connect router. */
export function registerWebServices(router: ConnectRouter, deps: WebServicesDeps): void {
  router.service(MonitorsService, createMonitorsServiceImpl(deps));
  if (deps.alerts) router.service(AlertsService, createAlertsServiceImpl({ ...deps.alerts, now: deps.now }));
}
