/**
 * The Connect services of the web API, in one list. Every listener that serves the web API (the main port's
 * handler, the web port's server.ts) registers exactly these, so a new service is one entry here (and its
 * methods' roles in roles.ts).
 */
import type { ConnectRouter } from '@connectrpc/connect';
import { MonitorsService } from '../../gen/vantage/v1/monitors_pb.js';
import { UserService } from '../../gen/vantage/v1/users_pb.js';
import { createMonitorsServiceImpl, type MonitorsServiceDeps } from './service.js';
import { createUserServiceImpl, type UserServiceDeps } from './users-service.js';

/** What the web services need from the server; each service takes the part it uses. */
export type WebServicesDeps = MonitorsServiceDeps & Partial<Pick<UserServiceDeps, 'users'>>;

/** Registers every web service on a Connect router. */
export function registerWebServices(router: ConnectRouter, deps: WebServicesDeps): void {
  router.service(MonitorsService, createMonitorsServiceImpl(deps));
  if (deps.users) router.service(UserService, createUserServiceImpl({ users: deps.users, now: deps.now }));
}
