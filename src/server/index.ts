export { startServer, type RunningServer, type StartServerOptions } from './server.js';
export type { FallbackHandler } from './dispatch.js';
export type { PipelineSlots, Stage, RequestContext, ManagementRoute } from './pipeline/index.js';
export { HttpError, sendJson } from './errors.js';
export { createKeyChecker, type KeyCheck } from './pipeline/api-key.js';
