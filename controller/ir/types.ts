// The intermediate representation (IR): what each gateway fleet must serve,
// independent of Kubernetes and of Envoy. The translator produces it; the xDS
// stage turns it into Envoy resources; the provisioners read `Fleet` to decide
// which gateway processes or Deployments to run.
//
// Contract: every list is sorted deterministically and every name is stable
// for identical input, so serialising the IR gives byte-identical output.

export interface IR {
  fleets: Fleet[];
}

export interface NamespacedName {
  namespace: string;
  name: string;
}

/** One set of gateway instances that scale and fail together. */
export interface Fleet {
  /**
   * Stable fleet name: `<namespace>/<gateway>` for a Gateway's own fleet,
   * `merged:<name>` for Gateways whose FleetConfig merges them.
   */
  name: string;
  /** The Gateways whose listeners this fleet serves. */
  gateways: NamespacedName[];
  infrastructure: FleetInfrastructure;
  deployment: FleetDeployment;
  /** xDS node groups: one per shard, or exactly one for a fleet without shards. */
  nodeGroups: NodeGroup[];
}

/** How the fleet's instances run (from FleetConfig, with gatefleet's defaults). */
export interface FleetDeployment {
  /** Instances per node group unless the shard sets its own. */
  replicas: number;
  /** Autoscaling bounds, when set. */
  minReplicas?: number;
  maxReplicas?: number;
  serviceType: 'LoadBalancer' | 'NodePort' | 'ClusterIP';
  /** The gateway image; the provisioner's default when absent. */
  image?: string;
  dataPlane: 'gatefleet' | 'envoy';
}

export interface FleetInfrastructure {
  /** From `spec.infrastructure.labels`, to be set on every generated object. */
  labels: Record<string, string>;
  /** From `spec.infrastructure.annotations`. */
  annotations: Record<string, string>;
  /** From `spec.addresses`: the addresses the fleet must be reachable on. */
  addresses: FleetAddress[];
}

export interface FleetAddress {
  type: 'IPAddress';
  /** Empty when the Gateway asked for an address of this type without a value. */
  value: string;
}

/** What one xDS node group (a fleet, or one shard of it) receives. */
export interface NodeGroup {
  /**
   * The node group key gateways present in their xDS node (`node.cluster`):
   * the fleet name, or `<fleet>#<shard>`.
   */
  name: string;
  /** The shard this group is, for a sharded fleet. */
  shard?: string;
  /** Instances to run for this group. */
  replicas: number;
  listeners: Listener[];
  clusters: Cluster[];
  secrets: TlsSecret[];
}

/** One listening port. */
export interface Listener {
  /** Stable name, `<protocol>-<port>` in lower case. */
  name: string;
  port: number;
  protocol: 'HTTP' | 'HTTPS';
  /** HTTP ports have exactly one chain; HTTPS ports one per Gateway listener. */
  filterChains: FilterChain[];
}

export interface FilterChain {
  /** Stable name; also the name of its route table. */
  name: string;
  /** SNI names that select this chain; empty means any. */
  serverNames: string[];
  /** Names of the TlsSecrets to present (HTTPS only). */
  certificates: string[];
  /** `<namespace>/<gateway>/<listener>` of the Gateway listeners served here. */
  sources: string[];
  virtualHosts: VirtualHost[];
  /** Client certificate validation (HTTPS; the Gateway's spec.tls.frontend for this port). */
  clientValidation?: ClientValidation;
}

export interface ClientValidation {
  /** PEM CA certificates a client certificate must chain to (every valid caCertificateRef). */
  caCertificates: string;
  /**
   * AllowValidOnly: a client certificate is required and must verify.
   * AllowInsecureFallback: one is requested, but any (or none) is accepted.
   */
  mode: 'AllowValidOnly' | 'AllowInsecureFallback';
}

export interface VirtualHost {
  /** Stable name, unique in its chain. */
  name: string;
  /** `*` (any host), an exact host, or a `*.suffix` wildcard. */
  domain: string;
  /** In precedence order: the first route that matches a request wins. */
  routes: Route[];
}

export interface RouteSource {
  namespace: string;
  name: string;
  rule: number;
  ruleName?: string;
  match: number;
}

export interface Route {
  /** Stable name: `<namespace>/<route>/rule/<i>/match/<j>`. */
  name: string;
  source: RouteSource;
  match: RouteMatch;
  /** Filters applied before the action (request side) and to the response. */
  requestHeaders?: HeaderModifier;
  responseHeaders?: HeaderModifier;
  urlRewrite?: UrlRewrite;
  cors?: CorsPolicy;
  action: RouteAction;
}

export interface PathMatch {
  type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  /** PathPrefix values have no trailing `/` except the root prefix `/`. */
  value: string;
}

export interface StringMatch {
  type: 'Exact' | 'RegularExpression';
  /** Header names are lower case; query parameter names keep their case. */
  name: string;
  value: string;
}

export interface RouteMatch {
  path: PathMatch;
  headers: StringMatch[];
  queryParams: StringMatch[];
  method?: string;
}

export interface HeaderValue {
  name: string;
  value: string;
}

export interface HeaderModifier {
  set: HeaderValue[];
  add: HeaderValue[];
  remove: string[];
}

export type PathRewrite =
  | { type: 'ReplaceFullPath'; value: string }
  | { type: 'ReplacePrefixMatch'; prefix: string; value: string };

export interface UrlRewrite {
  hostname?: string;
  path?: PathRewrite;
}

export interface CorsPolicy {
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  allowCredentials: boolean;
  maxAgeSeconds: number;
}

export type RouteAction = ForwardAction | RedirectAction | DirectResponseAction;

export interface ForwardAction {
  type: 'Forward';
  /** Weighted backends; at least one with a positive weight. */
  backends: WeightedBackend[];
  mirrors: Mirror[];
  /** Whole request timeout in milliseconds; 0 disables it. */
  requestTimeoutMs?: number;
  /** Timeout of each request to a backend in milliseconds; 0 disables it. */
  backendRequestTimeoutMs?: number;
  retry?: RetryPolicy;
}

export interface WeightedBackend {
  /** The cluster to send to; absent when the backendRef is invalid (answered with 500). */
  cluster?: string;
  weight: number;
  /** Why the backend is invalid, when it is. */
  invalid?: string;
  requestHeaders?: HeaderModifier;
  responseHeaders?: HeaderModifier;
}

export interface Mirror {
  cluster: string;
  /** Share of requests mirrored, 0–100 (fractions allowed). */
  percent: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt. */
  attempts: number;
  /** HTTP status codes that trigger a retry. */
  codes: number[];
  backoffMs?: number;
}

export interface RedirectAction {
  type: 'Redirect';
  scheme: 'http' | 'https';
  /** Absent: keep the request's host. */
  hostname?: string;
  /** The port for the Location header; omitted there when it is the scheme's default. */
  port: number;
  path?: PathRewrite;
  statusCode: 301 | 302 | 303 | 307 | 308;
}

export interface DirectResponseAction {
  type: 'DirectResponse';
  status: number;
  /** Why gatefleet answers directly, for operators reading the config. */
  reason: string;
}

/** A Kubernetes Service port, resolved to its endpoints. */
export interface Cluster {
  /** `<namespace>/<service>/<port>`. */
  name: string;
  service: NamespacedName & { port: number };
  protocol: 'http1' | 'h2c' | 'websocket';
  endpoints: Endpoint[];
  /** TLS to the backend, from the BackendTLSPolicy that targets the Service port. */
  tls?: UpstreamTls;
}

/**
 * How a gateway originates TLS to a cluster's endpoints. The certificate must
 * chain to `caCertificates` (or to the system's roots when `systemRoots`),
 * and must name `sni` — unless `subjectAltNames` is set: then one of those
 * must match and `sni` is only sent, never checked.
 */
export interface UpstreamTls {
  /** The BackendTLSPolicy, `<namespace>/<name>`. */
  policy: string;
  sni: string;
  /** PEM bundle; empty when only the system roots are trusted. */
  caCertificates: string;
  systemRoots: boolean;
  subjectAltNames: { type: 'Hostname' | 'URI'; value: string }[];
  /**
   * The TlsSecret (in the node group's secrets) presented as the client
   * certificate: the fleet's Gateway spec.tls.backend.clientCertificateRef.
   */
  clientCertificate?: string;
}

export interface Endpoint {
  address: string;
  port: number;
  /** `ready` endpoints take traffic; `terminating` ones only when none is ready. */
  state: 'ready' | 'terminating';
}

export interface TlsSecret {
  /** `<namespace>/<secret>`. */
  name: string;
  certificateChain: string;
  privateKey: string;
}
