// The fleet provisioner's inputs that do not come from the IR: what the chart
// tells the controller (GATEFLEET_GATEWAY_IMAGE, GATEFLEET_GATEWAY_XDS, ...)
// and the client-certificate issuer, plus the fixed choices every generated
// object shares (ports, paths, drain timing, the stable error codes).

export interface ProvisionerSettings {
  /** The gatefleet gateway image (GATEFLEET_GATEWAY_IMAGE). */
  gatewayImage: string;
  /** Pull policy of `gatewayImage` (GATEFLEET_GATEWAY_IMAGE_PULL_POLICY); not applied to other images. */
  imagePullPolicy?: string;
  /** The Envoy image for `dataPlane: envoy` fleets (DEFAULT_ENVOY_IMAGE unless configured). */
  envoyImage: string;
  /** host:port of the controller's xDS Service (GATEFLEET_GATEWAY_XDS). */
  xdsAddress: string;
  /** Name in the controller's serving certificate; default: the host of `xdsAddress`. */
  xdsServerName?: string;
  /** The controller's namespace: labels every generated object, so two installations never prune each other. */
  controllerNamespace: string;
}

export interface ClientCertificatePems {
  'ca.crt': string;
  'tls.crt': string;
  'tls.key': string;
}

export interface ClientCertificates {
  /**
   * PEMs for a node group's xDS client certificate Secret, or 'keep' when the
   * existing Secret (its data passed in, decoded) is still valid.
   */
  issue(
    nodeGroup: string,
    existing?: Record<string, string>,
  ): Promise<ClientCertificatePems | 'keep'>;
}

/** Envoy release used for `dataPlane: envoy` when the chart names none (a pinned, published tag). */
export const DEFAULT_ENVOY_IMAGE = 'envoyproxy/envoy:v1.36.13';

/** The one server-side-apply field manager of every object the provisioner writes. */
export const FIELD_MANAGER = 'gatefleet';

/**
 * Pod-internal ports. The admin port answers the kubelet's probes, so it binds
 * all interfaces (the gatefleet gateway) or is reached through a readiness
 * listener (Envoy, whose admin stays on 127.0.0.1); no Service ever exposes
 * either. When a Gateway listener already uses one of these ports the next
 * free port above it is taken (see pickPort), so a listener never collides.
 */
export const ADMIN_PORT = 15000;
export const ENVOY_READY_PORT = 15021;

/** Where the node group's xDS client certificate Secret is mounted (whole directory: rotation reaches the pod). */
export const CLIENT_CERT_DIR = '/etc/gatefleet/xds-client';
/** Where Envoy's bootstrap ConfigMap is mounted. */
export const ENVOY_CONFIG_DIR = '/etc/envoy';
export const ENVOY_BOOTSTRAP_FILE = 'bootstrap.yaml';

/** GATEFLEET_DRAIN_SECONDS given to gatefleet gateways (its own default). */
export const DRAIN_SECONDS = 20;
/**
 * preStop sleep: the pod keeps accepting while Services and load balancers
 * stop sending to it; SIGTERM (and the gateway's drain) follows.
 */
export const PRE_STOP_SLEEP_SECONDS = 5;
/** Above preStop + drain, with room for the gateway's own kill margin (drain + 5 s). */
export const TERMINATION_GRACE_SECONDS = PRE_STOP_SLEEP_SECONDS + DRAIN_SECONDS + 10;

/** The image's user (Dockerfile.gateway: USER 65532:65532); Envoy runs as it too. */
export const RUN_AS_USER = 65532;

/** Requests (no FleetConfig field sets them yet): the HPA's CPU target is relative to them. */
export const CONTAINER_REQUESTS = { cpu: '100m', memory: '128Mi' } as const;
/** HorizontalPodAutoscaler target: average CPU utilisation of the requests, in percent. */
export const HPA_CPU_UTILIZATION = 75;

/** Stable codes of the problems a reconcile reports (proposed for controller/errors.ts). */
export const ProvisionCode = {
  /** No Gateway object to own a fleet's objects (not in the cache yet, or deleted): fleet skipped. */
  NoOwner: 'GF_PROVISION_NO_OWNER',
  /** An object with the generated name exists and is not gatefleet's: left alone. */
  NameTaken: 'GF_PROVISION_NAME_TAKEN',
  /** Two node groups map to the same object name (a hash collision): the later one is skipped. */
  NameCollision: 'GF_PROVISION_NAME_COLLISION',
  /** The API server refused an apply. */
  ApplyFailed: 'GF_PROVISION_APPLY_FAILED',
  /** Deleting an object no fleet needs failed. */
  PruneFailed: 'GF_PROVISION_PRUNE_FAILED',
  /** Listing owned objects failed (pruning skipped this round). */
  ListFailed: 'GF_PROVISION_LIST_FAILED',
  /** The client-certificate issuer failed for a node group: its objects are not applied. */
  CertificateFailed: 'GF_PROVISION_CERTIFICATE_FAILED',
  /** A requested spec.addresses value that no generated Service can ask for. */
  AddressUnfulfilled: 'GF_PROVISION_ADDRESS_UNFULFILLED',
} as const;

export type ProvisionCodeValue = (typeof ProvisionCode)[keyof typeof ProvisionCode];

/** The first port at or above `base` that no listener of the node group uses. */
export function pickPort(base: number, used: ReadonlySet<number>): number {
  let p = base;
  while (used.has(p)) p++;
  return p;
}
