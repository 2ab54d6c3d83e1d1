// Builders for the Kubernetes objects end-to-end tests feed the controller.
type Obj = Record<string, unknown>;

export const gatewayClass = (): Obj => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GatewayClass',
  metadata: { name: 'gatefleet' },
  spec: { controllerName: 'gatefleet.io/gateway-controller' },
});

export function gateway(
  name: string,
  listeners: Obj[],
  namespace = 'default',
  extra: Obj = {},
): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace },
    spec: { gatewayClassName: 'gatefleet', listeners, ...extra },
  };
}

export function httpListener(port: number, name = 'http', hostname?: string): Obj {
  return {
    name,
    port,
    protocol: 'HTTP',
    ...(hostname ? { hostname } : {}),
    allowedRoutes: { namespaces: { from: 'All' } },
  };
}

export function route(name: string, spec: Obj, namespace = 'default'): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec,
  };
}

/** A Service with one port and an EndpointSlice pointing at local ports. */
export function service(
  name: string,
  targetPorts: number[],
  opts: { namespace?: string; appProtocol?: string; port?: number; ready?: boolean } = {},
): Obj[] {
  const namespace = opts.namespace ?? 'default';
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace },
      spec: {
        ports: [
          {
            name: 'http',
            port: opts.port ?? 80,
            ...(opts.appProtocol ? { appProtocol: opts.appProtocol } : {}),
          },
        ],
      },
    },
    ...targetPorts.map((p, i) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-${i}`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: p }],
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: opts.ready ?? true } }],
    })),
  ];
}
