// Header values in Envoy resources may contain %COMMAND% formatters; a
// literal % is written %%. gatefleet's translator escapes every literal %, so
// the gateway accepts escaped values and the one formatter it supports,
// %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%; anything else is rejected.

import { ConfigError } from './decode.js';

export type HeaderValue = string | { kind: 'clientAddress' };

export function parseHeaderValue(value: string, where: string): HeaderValue {
  if (!value.includes('%')) return value;
  if (value === '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%') return { kind: 'clientAddress' };
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    if (value[i + 1] === '%') {
      out += '%';
      i++;
      continue;
    }
    throw new ConfigError(
      `${where}: header value formatter in "${value}" is not supported (write a literal % as %%)`,
    );
  }
  return out;
}
