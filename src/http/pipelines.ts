import type { Logger } from 'pino';
import { apiKeyStage } from '../auth/api-key.js';
import { bodyLimit } from './stages/body-limit.js';
import { crashHandler } from './stages/crash.js';
import { requestLog } from './stages/request-log.js';
import type { PipelineSlots } from './slots.js';
import { compose, type RequestContext } from './pipeline.js';
import { validateInput } from './stages/validate-input.js';

export type { PipelineSlots } from './slots.js';
export * from './pipeline.js';

export interface PipelineConfig {
  max_request_body_bytes: number;
  server_key: string;
  api_keys: readonly string[];
}

const runHandler = (ctx: RequestContext): void | Promise<void> => ctx.handler!(ctx);

/**
 * The management API pipeline (DESIGN.md "Request pipelines"): crash containment (the error handler around
 * all of it) → security headers → request log → body limit → timeout → input validation → IP allow-list →
 * rate limit → API key → handler.
 */
export function managementPipeline(cfg: PipelineConfig, logger: Logger, slots: PipelineSlots = {}) {
  return compose(
    [
      slots.securityHeaders,
      requestLog(logger),
      bodyLimit(cfg.max_request_body_bytes),
      slots.timeout,
      validateInput(),
      slots.allowList,
      slots.rateLimit,
      slots.apiKey !== undefined ? slots.apiKey : apiKeyStage(cfg),
    ],
    runHandler,
    crashHandler(logger),
  );
}

/** The /health pipeline: crash containment and security headers only (no auth, no rate limit). */
export function healthPipeline(logger: Logger, slots: PipelineSlots = {}) {
  const methodCheck = validateInput();
  return compose(
    [slots.securityHeaders],
    (ctx) => {
      if (ctx.handler === undefined) return methodCheck(ctx, () => undefined);
      return ctx.handler(ctx);
    },
    crashHandler(logger),
  );
}
