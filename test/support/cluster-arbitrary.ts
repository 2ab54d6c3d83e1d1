// fast-check arbitraries for translator input: a small cluster's worth of
// Gateway API and core objects, realistic enough that routes attach, listeners
// conflict and fleets form, mixed with arbitrary schema-valid specs.
import fc from 'fast-check';
import { crdSpecSchema, NAMES, NAMESPACES, schemaArb } from './schema-arbitrary.js';

const CONTROLLER = 'gatefleet.io/gateway-controller';
const meta = (namespaced: boolean) =>
  fc.record({
    name: fc.constantFrom(...NAMES),
    ...(namespaced ? { namespace: fc.constantFrom(...NAMESPACES) } : {}),
    generation: fc.integer({ min: 1, max: 5 }),
    creationTimestamp: fc.constantFrom('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
    labels: fc.dictionary(fc.constantFrom('team', 'tier'), fc.constantFrom('a', 'b'), {
      maxKeys: 2,
    }),
  });

const GW = 'gateway.networking.k8s.io/v1';
const gatewayClass = fc.record({
  apiVersion: fc.constant(GW),
  kind: fc.constant('GatewayClass'),
  metadata: meta(false),
  spec: fc.record({ controllerName: fc.constantFrom(CONTROLLER, CONTROLLER, 'other.io/x') }),
});
const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);
/** Realistic listeners: few ports and hostnames, so conflicts and isolation happen. */
const listener = fc.record(
  {
    name: pick('http', 'https', 'l3'),
    port: pick(80, 443, 8080),
    protocol: pick('HTTP', 'HTTP', 'HTTPS', 'TCP'),
    hostname: pick('example.com', '*.example.com', 'a.example.com'),
    allowedRoutes: fc.record(
      {
        namespaces: fc.record(
          {
            from: pick('Same', 'All', 'Selector'),
            selector: fc.constant({ matchLabels: { team: 'a' } }),
          },
          { requiredKeys: ['from'] },
        ),
      },
      { requiredKeys: [] },
    ),
    tls: fc.constant({ certificateRefs: [{ name: 'a' }] }),
  },
  { requiredKeys: ['name', 'port', 'protocol'] },
);
const realisticGatewaySpec = fc.record({
  gatewayClassName: pick('gc', 'gc', 'a'),
  listeners: fc.array(listener, { minLength: 1, maxLength: 3 }),
});
const filter = fc.oneof(
  fc.constant({
    type: 'RequestHeaderModifier',
    requestHeaderModifier: { set: [{ name: 'x', value: '1' }] },
  }),
  fc.constant({ type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['server'] } }),
  fc.constant({ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }),
  fc.constant({
    type: 'URLRewrite',
    urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/x' } },
  }),
  fc.constant({
    type: 'RequestMirror',
    requestMirror: { backendRef: { name: 'svc', port: 80 }, percent: 50 },
  }),
  fc.constant({ type: 'CORS', cors: { allowOrigins: ['*'] } }),
  fc.constant({ type: 'ExtensionRef', extensionRef: { group: 'x.io', kind: 'F', name: 'f' } }),
);
const rule = fc.record(
  {
    matches: fc.array(
      fc.record(
        {
          path: fc.record({
            type: pick('Exact', 'PathPrefix', 'RegularExpression'),
            value: pick('/', '/a', '/a/', '/a/b', '/['),
          }),
          headers: fc.array(fc.record({ name: pick('X-A', 'x-a', 'b'), value: pick('1', '2') }), {
            maxLength: 2,
          }),
          method: pick('GET', 'POST'),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 2 },
    ),
    filters: fc.array(filter, { maxLength: 2 }),
    backendRefs: fc.array(
      fc.record(
        {
          name: pick(...NAMES),
          namespace: pick(...NAMESPACES),
          port: pick(80, 8080, 9000),
          weight: pick(0, 1, 3),
        },
        { requiredKeys: ['name', 'port'] },
      ),
      { maxLength: 3 },
    ),
    timeouts: fc.record({ request: pick('1s', '0s', 'bogus') }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const realisticRouteSpec = fc.record(
  {
    parentRefs: fc.array(
      fc.oneof(
        fc.record({ name: pick('gw', 'gw', 'a'), namespace: pick(...NAMESPACES) }),
        fc.record(
          {
            name: pick(...NAMES),
            namespace: pick(...NAMESPACES),
            sectionName: pick('http', 'https'),
            port: pick(80, 443),
          },
          { requiredKeys: ['name'] },
        ),
      ),
      { minLength: 1, maxLength: 2 },
    ),
    hostnames: fc.array(pick('example.com', 'a.example.com', '*.example.com', 'other.org'), {
      maxLength: 2,
    }),
    rules: fc.array(rule, { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: ['parentRefs', 'rules'] },
);
const gateway = fc.record({
  apiVersion: fc.constant(GW),
  kind: fc.constant('Gateway'),
  metadata: meta(true).map((m) => ({ ...m, name: m.name === 'b' ? 'gw' : m.name })),
  spec: fc.oneof(
    realisticGatewaySpec,
    realisticGatewaySpec,
    schemaArb(crdSpecSchema('gateway.networking.k8s.io_gateways.yaml')),
  ),
});
const httpRoute = fc.record({
  apiVersion: fc.constant(GW),
  kind: fc.constant('HTTPRoute'),
  metadata: meta(true),
  spec: fc.oneof(
    realisticRouteSpec,
    realisticRouteSpec,
    schemaArb(crdSpecSchema('gateway.networking.k8s.io_httproutes.yaml')),
  ),
});
const grant = fc.record({
  apiVersion: fc.constant(GW),
  kind: fc.constant('ReferenceGrant'),
  metadata: meta(true),
  spec: schemaArb(crdSpecSchema('gateway.networking.k8s.io_referencegrants.yaml')),
});
const service = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('Service'),
  metadata: meta(true),
  spec: fc.record({
    ports: fc.array(
      fc.record(
        {
          name: fc.constantFrom('http', 'h2', ''),
          port: fc.constantFrom(80, 8080, 9000),
          protocol: fc.constantFrom('TCP', 'UDP'),
          appProtocol: fc.constantFrom('http', 'kubernetes.io/h2c', 'kubernetes.io/ws', 'grpc'),
        },
        { requiredKeys: ['port'] },
      ),
      { maxLength: 3 },
    ),
  }),
});
const slice = fc.record({
  apiVersion: fc.constant('discovery.k8s.io/v1'),
  kind: fc.constant('EndpointSlice'),
  metadata: fc.record({
    name: fc.constantFrom('s1', 's2'),
    namespace: fc.constantFrom(...NAMESPACES),
    labels: fc.record({ 'kubernetes.io/service-name': fc.constantFrom(...NAMES) }),
  }),
  addressType: fc.constantFrom('IPv4', 'FQDN'),
  ports: fc.array(
    fc.record({ name: fc.constantFrom('http', ''), port: fc.constantFrom(80, 3000) }),
    {
      maxLength: 2,
    },
  ),
  endpoints: fc.array(
    fc.record({
      addresses: fc.array(fc.constantFrom('10.0.0.1', '10.0.0.2'), { minLength: 1, maxLength: 2 }),
      conditions: fc.record(
        { ready: fc.boolean(), serving: fc.boolean(), terminating: fc.boolean() },
        { requiredKeys: [] },
      ),
    }),
    { maxLength: 3 },
  ),
});
const namespace = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('Namespace'),
  metadata: fc.record({
    name: fc.constantFrom(...NAMESPACES),
    labels: fc.dictionary(fc.constantFrom('team', 'tier'), fc.constantFrom('a', 'b'), {
      maxKeys: 2,
    }),
  }),
});
const secret = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('Secret'),
  metadata: meta(true),
  type: fc.constantFrom('kubernetes.io/tls', 'Opaque'),
  stringData: fc.record({ 'tls.crt': fc.constantFrom('garbage', ''), 'tls.key': fc.constant('x') }),
});

/** A cluster's worth of objects, each (kind, namespace, name) at most once. */
export const objects = fc
  .array(
    fc.oneof(
      gatewayClass,
      gateway,
      gateway,
      httpRoute,
      httpRoute,
      httpRoute,
      grant,
      service,
      slice,
      namespace,
      secret,
    ),
    {
      minLength: 6,
      maxLength: 24,
      size: 'large',
    },
  )
  .map((objs) => {
    // Most clusters have gatefleet's class; some also have others of the pool.
    objs.unshift({
      apiVersion: GW,
      kind: 'GatewayClass',
      metadata: { name: 'gc' },
      spec: { controllerName: CONTROLLER },
    } as (typeof objs)[number]);
    const seen = new Set<string>();
    return objs.filter((o) => {
      const m = o.metadata as { name: string; namespace?: string };
      const id = `${o.kind}/${m.namespace ?? ''}/${m.name}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  });
