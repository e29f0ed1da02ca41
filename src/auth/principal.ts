/**
 * Who a request acts as, decided once per request by an authenticator (api-key.ts for the management and web
 * APIs, worker-token.ts for the worker API). Each authenticator declares the principal kind it produces by adding
 * an entry to `PrincipalKinds` (TypeScript declaration merging, see api-key.ts), so a new identity (a session, a
 * worker certificate) is a new file here and nothing in this file changes.
 */
export interface PrincipalKinds {
  /** No credential is configured for this API, so every caller is let in. */
  open: { readonly kind: 'open' };
}

export type Principal = PrincipalKinds[keyof PrincipalKinds];

/** The principal of a request to an API with no credential configured. */
export const OPEN: Principal = Object.freeze({ kind: 'open' });
