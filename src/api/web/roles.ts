/**
 * Role enforcement of every web Connect method, in one table (method → minimum role), applied once by a
 * Connect interceptor on every listener that serves the web services (the web port and the main port).
 * A method missing from the table falls back on its name: read methods (Get*, List*, Explain*, Overview*,
 * Watch*, Stream*, Search*) need viewer, anything else admin, so a new service is closed until listed here.
 */
import { Code, ConnectError, createContextKey, type Interceptor } from '@connectrpc/connect';
import type { WebPrincipal } from '../../auth/session.js';
import { roleAtLeast, type Role } from '../../store/users.js';

/** The caller of a web Connect method, set by the listener before the call (null: nobody authenticated). */
export const kPrincipal = createContextKey<WebPrincipal | null>(null);

/** `<package.Service>/<Method>` → the least role that may call it. */
export const METHOD_ROLES: Readonly<Record<string, Role>> = {
  'vantage.v1.MonitorsService/CreateMonitor': 'editor',
  'vantage.v1.MonitorsService/UpdateMonitor': 'editor',
  'vantage.v1.MonitorsService/DeleteMonitor': 'editor',
  'vantage.v1.MonitorsService/ApplyMonitors': 'editor',
  'vantage.v1.MonitorsService/GetMonitor': 'viewer',
  'vantage.v1.MonitorsService/ListMonitors': 'viewer',
  'vantage.v1.MonitorsService/ListResults': 'viewer',
  'vantage.v1.MonitorsService/GetMetrics': 'viewer',
  'vantage.v1.MonitorsService/GetUptime': 'viewer',
  'vantage.v1.MonitorsService/ListWorkers': 'viewer',
  'vantage.v1.MonitorsService/ListAuditEvents': 'viewer',
  // Every signed-in user manages its own profile and password.
  'vantage.v1.UserService/GetProfile': 'viewer',
  'vantage.v1.UserService/ChangePassword': 'viewer',
  'vantage.v1.UserService/ListUsers': 'admin',
  'vantage.v1.UserService/CreateUser': 'admin',
  'vantage.v1.UserService/UpdateUser': 'admin',
  'vantage.v1.UserService/DeleteUser': 'admin',
  // Alert channels, rules and incidents: editors manage them (the contract: "editor … changes monitors and alerts").
  'vantage.v1.AlertsService/PutChannel': 'editor',
  'vantage.v1.AlertsService/DeleteChannel': 'editor',
  'vantage.v1.AlertsService/TestChannel': 'editor',
  'vantage.v1.AlertsService/SetRule': 'editor',
  'vantage.v1.AlertsService/AcknowledgeIncident': 'editor',
  'vantage.v1.AlertsService/CreateIncident': 'editor',
  'vantage.v1.AlertsService/UpdateIncident': 'editor',
  // Status pages and maintenance windows: editors manage them, viewers read them.
  'vantage.v1.StatusPagesService/ListPages': 'viewer',
  'vantage.v1.StatusPagesService/GetPage': 'viewer',
  'vantage.v1.StatusPagesService/PutPage': 'editor',
  'vantage.v1.StatusPagesService/DeletePage': 'editor',
  'vantage.v1.MaintenanceService/ListWindows': 'viewer',
  'vantage.v1.MaintenanceService/PutWindow': 'editor',
  'vantage.v1.MaintenanceService/DeleteWindow': 'editor',
};

const READ_METHOD = /^(Get|List|Explain|Overview|Watch|Stream|Search)/;

/** The least role that may call `service`/`method` (table first, then the name rule). */
export function requiredRole(service: string, method: string): Role {
  return METHOD_ROLES[`${service}/${method}`] ?? (READ_METHOD.test(method) ? 'viewer' : 'admin');
}

/** Refuses a call whose principal's role is below the method's (Connect permission_denied). */
export const roleInterceptor: Interceptor = (next) => async (req) => {
  const principal = req.contextValues.get(kPrincipal);
  if (principal === null) throw new ConnectError('not signed in', Code.Unauthenticated);
  const need = requiredRole(req.service.typeName, req.method.name);
  if (!roleAtLeast(principal.role, need)) {
    throw new ConnectError(`${req.method.name} needs the ${need} role; you have ${principal.role}`, Code.PermissionDenied);
  }
  return next(req);
};
