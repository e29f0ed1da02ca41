export { startServer, type RunningServer, type StartServerOptions } from './server.js';
export type { FallbackHandler } from '../http/dispatch.js';
export type { ManagementStages, Stage, RequestContext, ManagementRoute } from '../http/pipelines.js';
export { HttpError, sendJson } from '../http/errors.js';
export { createKeyChecker, type KeyCheck } from '../auth/api-key.js';
