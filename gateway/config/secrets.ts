// SDS Secret → a TLS secure context, built once per secret version.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Secret__Output as Secret } from '../../xds/generated/envoy/extensions/transport_sockets/tls/v3/Secret.js';
import { ConfigError } from './decode.js';

export interface CompiledSecret {
  name: string;
  context: SecureContext;
  /** The PEM it was built from, for a server's default context (clients without SNI). */
  pem: { cert: string; key: string };
}

export function compileSecret(s: Secret): CompiledSecret {
  const where = `Secret ${s.name ?? ''}`;
  if (s.type !== 'tls_certificate')
    throw new ConfigError(`${where}: only tls_certificate secrets are supported`);
  const cert = s.tls_certificate?.certificate_chain?.inline_string;
  const key = s.tls_certificate?.private_key?.inline_string;
  if (!cert || !key) {
    throw new ConfigError(`${where}: certificate_chain and private_key must be inline strings`);
  }
  try {
    return { name: s.name ?? '', context: createSecureContext({ cert, key }), pem: { cert, key } };
  } catch (e) {
    throw new ConfigError(`${where}: ${(e as Error).message}`);
  }
}

const withCa = new WeakMap<CompiledSecret, Map<string, SecureContext>>();

/**
 * The secret's context that also verifies client certificates against `ca`
 * (a chain with client validation), built once per secret and CA bundle.
 */
export function contextWithCa(secret: CompiledSecret, ca: string | undefined): SecureContext {
  if (ca === undefined) return secret.context;
  let byCa = withCa.get(secret);
  if (!byCa) withCa.set(secret, (byCa = new Map()));
  let ctx = byCa.get(ca);
  if (!ctx) byCa.set(ca, (ctx = createSecureContext({ ...secret.pem, ca })));
  return ctx;
}
