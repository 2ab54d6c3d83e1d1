// A route's CORS policy (typed_per_filter_config of envoy.filters.http.cors),
// compiled once. Envoy's CORS filter semantics, plus the Gateway API rule
// for wildcards with credentials: `*` in allowMethods or allowHeaders must
// not be sent when credentials are allowed, so the gateway echoes what the
// preflight asks for instead (Envoy would send the `*`).
import type { CorsPolicy__Output as CorsPolicy } from '../../xds/generated/envoy/extensions/filters/http/cors/v3/CorsPolicy.js';
import { TYPE_PREFIX } from '../../xds/proto/root.js';
import { ConfigError, unpackAny, type AnyMessage } from './decode.js';
import { stringMatcher, type CompiledStringMatch } from './string-match.js';

const CORS_POLICY = `${TYPE_PREFIX}envoy.extensions.filters.http.cors.v3.CorsPolicy`;

/** A comma-separated header value as configured, and whether it lists `*`. */
export interface CorsList {
  value: string;
  wildcard: boolean;
}

export interface CompiledCors {
  allowOrigin: CompiledStringMatch[];
  allowMethods?: CorsList;
  allowHeaders?: CorsList;
  exposeHeaders?: string;
  maxAge?: string;
  allowCredentials: boolean;
  /** A preflight from an origin not allowed goes on to the route (true) or gets an empty 200. */
  forwardNotMatchingPreflights: boolean;
}

function list(value: string | undefined): CorsList | undefined {
  if (!value) return undefined;
  return { value, wildcard: value.split(',').some((v) => v.trim() === '*') };
}

export function compileCors(any: AnyMessage | undefined, where: string): CompiledCors | undefined {
  if (!any) return undefined;
  const w = `${where} cors`;
  const c = unpackAny<CorsPolicy>(any, CORS_POLICY, w);
  if (c.filter_enabled || c.shadow_enabled || c.allow_private_network_access?.value) {
    throw new ConfigError(
      `${w}: filter_enabled, shadow_enabled and allow_private_network_access are not supported`,
    );
  }
  const out: CompiledCors = {
    allowOrigin: (c.allow_origin_string_match ?? []).map((m, i) =>
      stringMatcher(m, `${w} origin ${i}`),
    ),
    allowCredentials: c.allow_credentials?.value === true,
    // Unset: true (Envoy's default); a wrapper present without its value is false.
    forwardNotMatchingPreflights: c.forward_not_matching_preflights
      ? c.forward_not_matching_preflights.value === true
      : true,
  };
  const methods = list(c.allow_methods);
  if (methods) out.allowMethods = methods;
  const headers = list(c.allow_headers);
  if (headers) out.allowHeaders = headers;
  if (c.expose_headers) out.exposeHeaders = c.expose_headers;
  if (c.max_age) out.maxAge = c.max_age;
  return out;
}
