/** The worker's credentials on the worker API: the cluster token, or the server key when no token is set. */
export function authHeaders(cfg: { cluster_token: string; server_key: string }): Record<string, string> {
  const token = cfg.cluster_token !== '' ? cfg.cluster_token : cfg.server_key;
  return token === '' ? {} : { authorization: `Bearer ${token}` };
}
