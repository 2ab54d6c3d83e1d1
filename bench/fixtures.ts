// Generated inputs for benchmarks: N HTTPRoutes spread over 100 namespaces
// and 20 Gateways (each with an HTTP and an HTTPS listener), one Service with
// an EndpointSlice of three endpoints per route, a mix of matches and filters.
import { BENCH_CERT, BENCH_KEY } from './bench-cert.js';

export interface FixtureOptions {
  routes: number;
  namespaces?: number;
  gateways?: number;
  controllerName?: string;
}

export const GATEFLEET_CONTROLLER = 'gatefleet.io/gateway-controller';

export function generateCluster(opts: FixtureOptions): Record<string, unknown>[] {
  const nsCount = opts.namespaces ?? 100;
  const gwCount = opts.gateways ?? 20;
  const objs: Record<string, unknown>[] = [];
  objs.push({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: 'bench' },
    spec: { controllerName: opts.controllerName ?? GATEFLEET_CONTROLLER },
  });
  objs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'infra' } });
  for (let n = 0; n < nsCount; n++) {
    objs.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: `team-${n}`, labels: { 'bench/tenant': 'true' } },
    });
  }
  objs.push(tlsSecret('infra', 'wildcard-cert'));
  for (let g = 0; g < gwCount; g++) {
    objs.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: `gw-${g}`, namespace: 'infra', generation: 1 },
      spec: {
        gatewayClassName: 'bench',
        listeners: [
          {
            name: 'http',
            port: 8080,
            protocol: 'HTTP',
            hostname: `*.gw${g}.example.com`,
            allowedRoutes: {
              namespaces: {
                from: 'Selector',
                selector: { matchLabels: { 'bench/tenant': 'true' } },
              },
            },
          },
          {
            name: 'https',
            port: 8443,
            protocol: 'HTTPS',
            hostname: `*.gw${g}.example.com`,
            tls: { certificateRefs: [{ name: 'wildcard-cert' }] },
            allowedRoutes: { namespaces: { from: 'All' } },
          },
        ],
      },
    });
  }
  for (let i = 0; i < opts.routes; i++) objs.push(...routeObjects(i, nsCount, gwCount));
  return objs;
}

export function routeObjects(
  i: number,
  nsCount = 100,
  gwCount = 20,
  variant = 0,
): Record<string, unknown>[] {
  const ns = `team-${i % nsCount}`;
  const g = i % gwCount;
  const svc = `svc-${i}`;
  return [
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: `route-${i}`,
        namespace: ns,
        generation: 1 + variant,
        creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 86400))
          .toISOString()
          .replace('.000', ''),
      },
      spec: {
        parentRefs: [{ name: `gw-${g}`, namespace: 'infra' }],
        hostnames: [`app${i}.gw${g}.example.com`],
        rules: [
          {
            matches: [
              {
                path: { type: 'PathPrefix', value: `/api/v${(i % 3) + 1}` },
                headers: [{ name: 'x-tenant', value: `t${i}-${variant}` }],
              },
              { path: { type: 'Exact', value: '/healthz' }, method: 'GET' },
            ],
            filters: [
              {
                type: 'RequestHeaderModifier',
                requestHeaderModifier: { set: [{ name: 'x-route', value: `r${i}` }] },
              },
            ],
            backendRefs: [
              { name: svc, port: 80, weight: 90 },
              { name: svc, port: 81, weight: 10 },
            ],
            timeouts: { request: '10s' },
          },
          {
            filters: [
              {
                type: 'ResponseHeaderModifier',
                responseHeaderModifier: { add: [{ name: 'x-served-by', value: 'bench' }] },
              },
            ],
            backendRefs: [{ name: svc, port: 80 }],
          },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: svc, namespace: ns },
      spec: {
        ports: [
          { name: 'http', port: 80 },
          { name: 'canary', port: 81 },
        ],
      },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${svc}-abc`,
        namespace: ns,
        labels: { 'kubernetes.io/service-name': svc },
      },
      addressType: 'IPv4',
      ports: [
        { name: 'http', port: 8080 },
        { name: 'canary', port: 8081 },
      ],
      endpoints: [1, 2, 3].map((e) => ({
        addresses: [`10.${(i >> 8) & 255}.${i & 255}.${e}`],
        conditions: { ready: true },
      })),
    },
  ];
}

/** A fixed self-signed test certificate for `*.example.com` (test data, not a secret). */
function tlsSecret(namespace: string, name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    stringData: { 'tls.crt': BENCH_CERT, 'tls.key': BENCH_KEY },
  };
}
