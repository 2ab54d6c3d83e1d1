// render: one node group of the IR (+ settings, placement, client
// certificate) → the Kubernetes objects it runs on, in apply order:
// ServiceAccount, ConfigMap, Secret, Service, Deployment, and a
// HorizontalPodAutoscaler when the fleet has autoscaling bounds. Pure and
// deterministic: the provisioner hashes the output to skip unchanged applies.
//
// Decisions (contracts the tests hold):
// - Namespace and owners (placeFleet): a Gateway's own fleet lives in the
//   Gateway's namespace, owned by it (controller: true). A merged fleet may
//   gather Gateways of several namespaces (mergeInto is a cluster-wide name);
//   its objects live in the namespace of its first Gateway by
//   `<namespace>/<name>` (the one whose parameters the fleet runs with) and are
//   owned by every member Gateway of that namespace: an ownerReference cannot
//   cross namespaces, and garbage collection removes the objects once all of
//   those owners are gone (the provisioner then places the fleet in the next
//   namespace and prunes the old objects; the Service address changes).
//   blockOwnerDeletion is false: deleting a Gateway never waits on its pods,
//   and the controller needs no permission on gateways/finalizers.
// - Infrastructure labels and annotations go on every object and on the pod
//   template (Gateway API: "every resource created in response to this
//   Gateway"). Changing them therefore rolls the pods.
// - ConfigMap, gatefleet data plane: the gateway's static settings as
//   GATEFLEET_* variables (envFrom): xDS address and server name, fleet,
//   shard, admin address, drain time, the client certificate files, and
//   listening on all interfaces (requested Gateway addresses are the
//   Service's, not the pod's). The gateway keeps no routing configuration of its own; everything else comes
//   over xDS. Envoy data plane: `bootstrap.yaml`.
// - The pods read the ConfigMap and the certificate at start, so the pod
//   template carries a hash of both (gatefleet.io/config-hash): a change or a
//   rotated certificate rolls the Deployment. The Secret is still mounted as
//   a whole directory (no subPath) so its files are always current.
// - Service: type from the fleet; one port per listener port of the node
//   group, never the admin or readiness port; selects the node group's pods.
//   Every shard gets its own Service (each shard is reachable on its own,
//   e.g. a DMZ shard's address). A node group without listeners gets no
//   Service (a Service needs a port); the provisioner keeps an existing one
//   so a transient listener problem does not give away its address.
// - Requested addresses (Gateway spec.addresses, IPAddress): the first
//   non-empty value goes to the fleet's first node group's Service, as
//   spec.loadBalancerIP for LoadBalancer (deprecated upstream, still what
//   cloud providers and MetalLB read) or spec.clusterIP otherwise (which is
//   immutable: the provisioner recreates the Service to change it). A Service
//   takes one such address, so further values are reported unfulfilled (as is
//   every value when the first node group has no Service); an empty value
//   asks for any address and needs nothing.
// - Deployment: spec.replicas from the node group (0 while it has no
//   listener: the gateway would never be ready), omitted when a
//   HorizontalPodAutoscaler (autoscaling/v2, CPU utilisation, the fleet's
//   minReplicas/maxReplicas) owns it; every shard gets its own HPA.
import { stringify } from 'yaml';
import type { KubeObject } from '../providers/kube/kinds.js';
import type { Fleet, NodeGroup } from '../ir/types.js';
import { addressRequest } from './addresses.js';
import { envoyBootstrap } from './envoy-bootstrap.js';
import {
  Annotation,
  clientSecretName,
  objectAnnotations,
  objectLabels,
  objectName,
  selectorLabels,
  shortHash,
  sortedRecord,
} from './names.js';
import {
  ADMIN_PORT,
  CLIENT_CERT_DIR,
  CONTAINER_REQUESTS,
  DRAIN_SECONDS,
  ENVOY_BOOTSTRAP_FILE,
  ENVOY_CONFIG_DIR,
  ENVOY_READY_PORT,
  HPA_CPU_UTILIZATION,
  PRE_STOP_SLEEP_SECONDS,
  RUN_AS_USER,
  TERMINATION_GRACE_SECONDS,
  pickPort,
  type ClientCertificatePems,
  type ProvisionerSettings,
} from './settings.js';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

export interface FleetPlacement {
  namespace: string;
  owners: OwnerReference[];
}

export type GatewayLookup = (namespace: string, name: string) => KubeObject | undefined;

/** Where a fleet's objects live and who owns them; a problem when no owning Gateway is known. */
export function placeFleet(
  fleet: Fleet,
  gatewayOf: GatewayLookup,
): FleetPlacement | { problem: string } {
  const first = fleet.gateways[0];
  if (!first) return { problem: `fleet ${fleet.name} has no Gateway` };
  const namespace = first.namespace;
  const merged = fleet.gateways.length > 1 || fleet.name !== `${first.namespace}/${first.name}`;
  const owners: OwnerReference[] = [];
  for (const g of fleet.gateways) {
    if (g.namespace !== namespace) continue;
    const uid = gatewayOf(g.namespace, g.name)?.metadata?.uid;
    if (!uid) continue;
    owners.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      name: g.name,
      uid,
      controller: !merged,
      blockOwnerDeletion: false,
    });
  }
  if (owners.length === 0) {
    return {
      problem: `no Gateway object of fleet ${fleet.name} in namespace ${namespace} is known yet`,
    };
  }
  return { namespace, owners };
}

export interface NodeGroupInput {
  fleet: Fleet;
  group: NodeGroup;
  settings: ProvisionerSettings;
  placement: FleetPlacement;
  clientCertificate: ClientCertificatePems;
}

export interface UnfulfilledAddress {
  value: string;
  reason: string;
}

export interface RenderedNodeGroup {
  /** The name every object of the node group carries (the Secret adds `-xds-client`). */
  name: string;
  namespace: string;
  /** In apply order. */
  objects: KubeObject[];
  /** Requested addresses this node group's Service cannot ask for (first node group only). */
  unfulfilledAddresses: UnfulfilledAddress[];
}

export function hasAutoscaling(fleet: Fleet): boolean {
  return fleet.deployment.minReplicas !== undefined && fleet.deployment.maxReplicas !== undefined;
}

export function renderNodeGroup(input: NodeGroupInput): RenderedNodeGroup {
  const { fleet, group, settings, placement } = input;
  const name = objectName(fleet, group);
  const secretName = clientSecretName(name);
  const labels = objectLabels(fleet, group, settings.controllerNamespace);
  const annotations = objectAnnotations(fleet, group);
  const metadata = (objName: string) => ({
    name: objName,
    namespace: placement.namespace,
    labels,
    annotations,
    ownerReferences: placement.owners,
  });
  const listenerPorts = new Set(group.listeners.map((l) => l.port));
  const adminPort = pickPort(ADMIN_PORT, listenerPorts);
  const readyPort = pickPort(ENVOY_READY_PORT, new Set([...listenerPorts, adminPort]));
  const envoy = fleet.deployment.dataPlane === 'envoy';
  const files = {
    ca: `${CLIENT_CERT_DIR}/ca.crt`,
    cert: `${CLIENT_CERT_DIR}/tls.crt`,
    key: `${CLIENT_CERT_DIR}/tls.key`,
  };

  const configData: Record<string, string> = envoy
    ? {
        [ENVOY_BOOTSTRAP_FILE]: stringify(
          envoyBootstrap({
            nodeGroup: group.name,
            xdsAddress: settings.xdsAddress,
            ...(settings.xdsServerName ? { xdsServerName: settings.xdsServerName } : {}),
            adminPort,
            readyPort,
            caFile: files.ca,
            certFile: files.cert,
            keyFile: files.key,
          }),
          { lineWidth: 0, aliasDuplicateObjects: false },
        ),
      }
    : sortedRecord({
        GATEFLEET_XDS: settings.xdsAddress,
        GATEFLEET_FLEET: fleet.name,
        ...(group.shard ? { GATEFLEET_SHARD: group.shard } : {}),
        GATEFLEET_ADMIN: `0.0.0.0:${adminPort}`,
        GATEFLEET_DRAIN_SECONDS: String(DRAIN_SECONDS),
        // The Gateway's addresses are the Service's; the pod listens on all.
        GATEFLEET_LISTEN_ANY_ADDRESS: 'true',
        GATEFLEET_XDS_CA: files.ca,
        GATEFLEET_XDS_CERT: files.cert,
        GATEFLEET_XDS_KEY: files.key,
        ...(settings.xdsServerName ? { GATEFLEET_XDS_SERVER_NAME: settings.xdsServerName } : {}),
      });
  const cert = input.clientCertificate;
  const secretData = {
    'ca.crt': Buffer.from(cert['ca.crt']).toString('base64'),
    'tls.crt': Buffer.from(cert['tls.crt']).toString('base64'),
    'tls.key': Buffer.from(cert['tls.key']).toString('base64'),
  };
  const configHash = shortHash(JSON.stringify([configData, secretData]), 16);

  const objects: KubeObject[] = [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: metadata(name),
      // The gateway never talks to the API server.
      automountServiceAccountToken: false,
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(name), data: configData },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: metadata(secretName),
      type: 'kubernetes.io/tls',
      data: secretData,
    },
  ];

  const isFirstGroup = fleet.nodeGroups[0]?.name === group.name;
  const { wanted, extra } = isFirstGroup
    ? addressRequest(fleet.infrastructure.addresses)
    : { wanted: undefined, extra: [] };
  const requested = wanted === undefined ? [] : [wanted, ...extra];
  const unfulfilledAddresses: UnfulfilledAddress[] = [];
  if (group.listeners.length > 0) {
    const type = fleet.deployment.serviceType;
    for (const value of extra)
      unfulfilledAddresses.push({
        value,
        reason: `a Service takes one requested address; ${wanted} is requested for Service ${placement.namespace}/${name}`,
      });
    const addressField =
      wanted === undefined
        ? {}
        : type === 'LoadBalancer'
          ? { loadBalancerIP: wanted }
          : { clusterIP: wanted };
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata(name),
      spec: {
        type,
        selector: selectorLabels(group),
        ports: group.listeners.map((l) => ({
          name: l.name,
          port: l.port,
          targetPort: l.port,
          protocol: 'TCP',
        })),
        ...addressField,
      },
    });
  } else {
    for (const value of requested)
      unfulfilledAddresses.push({
        value,
        reason: `node group ${group.name} has no listener, so no Service to ask for it`,
      });
  }

  const autoscaled = hasAutoscaling(fleet);
  const podLabels = labels;
  const podAnnotations = sortedRecord({ ...annotations, [Annotation.ConfigHash]: configHash });
  const container = envoy
    ? envoyContainer(fleet, group, settings, readyPort)
    : gatefleetContainer(fleet, group, settings, name, adminPort);
  const volumes: Record<string, unknown>[] = [
    // 0440 with the pod's fsGroup: only the gateway's user reads the private key.
    { name: 'xds-client', secret: { secretName, defaultMode: 0o440 } },
    ...(envoy ? [{ name: 'envoy-config', configMap: { name } }] : []),
    { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
  ];
  objects.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(name),
    spec: {
      // A node group without listeners runs no pods: a gateway with nothing to serve never
      // becomes ready, and a pod that is never ready holds up whatever waits for the namespace.
      ...(autoscaled ? {} : { replicas: group.listeners.length > 0 ? group.replicas : 0 }),
      selector: { matchLabels: selectorLabels(group) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels: podLabels, annotations: podAnnotations },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUN_AS_USER,
            runAsGroup: RUN_AS_USER,
            fsGroup: RUN_AS_USER,
            seccompProfile: { type: 'RuntimeDefault' },
            // Listener ports below 1024 bind without root or NET_BIND_SERVICE (a safe sysctl).
            sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
          },
          containers: [container],
          volumes,
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selectorLabels(group) },
            },
          ],
        },
      },
    },
  });
  if (autoscaled) {
    objects.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: metadata(name),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: fleet.deployment.minReplicas,
        maxReplicas: fleet.deployment.maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: HPA_CPU_UTILIZATION },
            },
          },
        ],
      },
    });
  }
  return { name, namespace: placement.namespace, objects, unfulfilledAddresses };
}

const containerSecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

const nodeIdEnv = {
  name: 'GATEFLEET_NODE_ID',
  valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
};

function listenerPorts(group: NodeGroup): Record<string, unknown>[] {
  return group.listeners.map((l) => ({ name: l.name, containerPort: l.port, protocol: 'TCP' }));
}

function gatefleetContainer(
  fleet: Fleet,
  group: NodeGroup,
  settings: ProvisionerSettings,
  configMap: string,
  adminPort: number,
): Record<string, unknown> {
  const image = fleet.deployment.image ?? settings.gatewayImage;
  const pullPolicy =
    fleet.deployment.image === undefined && settings.imagePullPolicy
      ? { imagePullPolicy: settings.imagePullPolicy }
      : {};
  return {
    name: 'gateway',
    image,
    ...pullPolicy,
    // The image's entrypoint is `node dist/cli/main.js gateway`; it reads GATEFLEET_*.
    envFrom: [{ configMapRef: { name: configMap } }],
    env: [nodeIdEnv],
    ports: [...listenerPorts(group), { name: 'admin', containerPort: adminPort, protocol: 'TCP' }],
    readinessProbe: {
      httpGet: { path: '/ready', port: adminPort },
      periodSeconds: 5,
      failureThreshold: 2,
    },
    livenessProbe: {
      httpGet: { path: '/healthz', port: adminPort },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      failureThreshold: 3,
    },
    lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
    resources: { requests: { ...CONTAINER_REQUESTS } },
    securityContext: containerSecurityContext,
    volumeMounts: [
      { name: 'xds-client', mountPath: CLIENT_CERT_DIR, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

function envoyContainer(
  fleet: Fleet,
  group: NodeGroup,
  settings: ProvisionerSettings,
  readyPort: number,
): Record<string, unknown> {
  // Envoy's admin port stays on 127.0.0.1 (see envoy-bootstrap.ts): no container port for it.
  return {
    name: 'envoy',
    image: fleet.deployment.image ?? settings.envoyImage,
    // The binary itself, not the image's entrypoint script (which may switch users).
    command: ['envoy'],
    args: [
      '-c',
      `${ENVOY_CONFIG_DIR}/${ENVOY_BOOTSTRAP_FILE}`,
      // node.id: the pod name ($(VAR) is expanded by the kubelet from env).
      '--service-node',
      '$(GATEFLEET_NODE_ID)',
    ],
    env: [nodeIdEnv],
    ports: [...listenerPorts(group), { name: 'ready', containerPort: readyPort, protocol: 'TCP' }],
    readinessProbe: {
      httpGet: { path: '/ready', port: readyPort },
      periodSeconds: 5,
      failureThreshold: 2,
    },
    // Envoy binds its static listeners once the first xDS fetch completes or times out (15 s).
    livenessProbe: {
      tcpSocket: { port: readyPort },
      initialDelaySeconds: 20,
      periodSeconds: 10,
      failureThreshold: 3,
    },
    lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
    resources: { requests: { ...CONTAINER_REQUESTS } },
    securityContext: containerSecurityContext,
    volumeMounts: [
      { name: 'xds-client', mountPath: CLIENT_CERT_DIR, readOnly: true },
      { name: 'envoy-config', mountPath: ENVOY_CONFIG_DIR, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}
