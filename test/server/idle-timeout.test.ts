import { connect } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { ServerConfigSchema } from '../../src/config/server.js';
import { tempDir, testServerConfig, waitFor } from './helpers.js';

const silent = pino({ level: 'silent' });

describe('idle_timeout_seconds (Opsen key): idle keep-alive connections are closed', () => {
  const started: Array<{ s: RunningServer; cleanup: () => void }> = [];
  afterEach(async () => {
    for (const { s, cleanup } of started.splice(0)) {
      await s.close({ timeoutMs: 1000 });
      cleanup();
    }
  });

  it('defaults to 120 s, and closes a keep-alive connection idle for that long', async () => {
    expect(ServerConfigSchema.parse({}).idle_timeout_seconds).toBe(120);
    const t = tempDir();
    const config = testServerConfig(t.dir, { idle_timeout_seconds: 1 });
    const s = await startServer(config, { logger: silent });
    started.push({ s, cleanup: t.cleanup });

    const socket = connect(s.port, '127.0.0.1');
    let answer = '';
    let closed = false;
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    await waitFor(() => answer.includes('"status"'), 'the /health answer');
    expect(answer.toLowerCase()).toContain('keep-alive: timeout=1');
    // Nothing more is sent: the server closes the connection after the idle timeout (not the 65 s it used).
    await waitFor(() => closed, 'the server closed the idle connection', 5_000);
  });
});
