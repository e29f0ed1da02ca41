import { ServerConfigSchema, type ServerConfig } from '../../src/config/server.js';

/** A fully defaulted server config with some keys overridden. */
export function loadServerConfigForTest(over: Partial<ServerConfig> = {}): ServerConfig {
  return ServerConfigSchema.parse(over);
}
