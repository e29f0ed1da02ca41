/** The tcp check's target: tcp://host:port. It has no options. Pure: no I/O. */
import { urlHost, validPort } from '../definition.js';

export const tcpOptions = {};

export interface TcpTarget {
  type: 'tcp';
  host: string;
  port: number;
}

export function tcpTarget(u: URL): TcpTarget {
  if (u.protocol !== 'tcp:') throw new Error('tcp checks need a tcp://host:port URL');
  const host = urlHost(u);
  const port = Number(u.port);
  if (host === '') throw new Error('tcp URL has no host');
  if (u.port === '' || !validPort(port)) throw new Error('tcp URL needs a port 1-65535');
  return { type: 'tcp', host, port };
}
