// Schemas for what no CRD describes: ObjectMeta (every kind's `metadata`),
// and the core kinds gatefleet reads (Namespace, Service, EndpointSlice,
// Secret, ConfigMap) plus CustomResourceDefinition. Written as structural schemas so they
// go through the same conversion as the CRDs'. The core kinds' schemas check
// required fields and types only; fields they do not list are allowed.

type Json = Record<string, unknown>;

const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const DNS1035_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
const QUALIFIED_NAME =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
const LABEL_VALUE = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';

const str: Json = { type: 'string' };
const int: Json = { type: 'integer' };
const bool: Json = { type: 'boolean' };
const nullable = (s: Json): Json => ({ ...s, nullable: true });
const list = (items: Json): Json => ({ type: 'array', items });
const stringMap: Json = { type: 'object', additionalProperties: str };
const anything: Json = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const open = (properties: Json, required?: string[]): Json => ({
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
  properties,
  ...(required ? { required } : {}),
});

export type NameFormat = 'subdomain' | 'label' | 'dns1035';

/** ObjectMeta: a name is required, and names, labels and annotations are checked as the API server does. */
export function objectMeta(names: NameFormat): Json {
  const name: Json =
    names === 'subdomain'
      ? { type: 'string', minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN }
      : {
          type: 'string',
          minLength: 1,
          maxLength: 63,
          pattern: names === 'label' ? DNS1123_LABEL : DNS1035_LABEL,
        };
  return open(
    {
      name,
      generateName: str,
      namespace: { type: 'string', maxLength: 63, pattern: DNS1123_LABEL },
      labels: {
        type: 'object',
        propertyNames: { maxLength: 317, pattern: QUALIFIED_NAME },
        additionalProperties: { type: 'string', maxLength: 63, pattern: LABEL_VALUE },
      },
      annotations: {
        type: 'object',
        propertyNames: { maxLength: 317, pattern: QUALIFIED_NAME },
        additionalProperties: str,
      },
      generation: int,
      resourceVersion: str,
      uid: str,
      creationTimestamp: nullable(str),
      deletionTimestamp: nullable(str),
      finalizers: list(str),
      ownerReferences: list(
        open({ apiVersion: str, kind: str, name: str, uid: str }, ['apiVersion', 'kind', 'name']),
      ),
    },
    ['name'],
  );
}

export interface BuiltinKind {
  group: string;
  version: string;
  kind: string;
  namespaced: boolean;
  names: NameFormat;
  schema: Json;
}

const top = (properties: Json, required?: string[]): Json =>
  open({ apiVersion: str, kind: str, metadata: anything, ...properties }, required);

export const BUILTIN_KINDS: readonly BuiltinKind[] = [
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    namespaced: false,
    names: 'label',
    schema: top({ spec: open({ finalizers: list(str) }), status: anything }),
  },
  {
    group: '',
    version: 'v1',
    kind: 'Service',
    namespaced: true,
    names: 'dns1035',
    schema: top({
      spec: open({
        type: str,
        selector: stringMap,
        clusterIP: str,
        clusterIPs: list(str),
        externalName: str,
        externalIPs: list(str),
        ipFamilies: list(str),
        ipFamilyPolicy: str,
        sessionAffinity: str,
        externalTrafficPolicy: str,
        internalTrafficPolicy: str,
        loadBalancerClass: str,
        publishNotReadyAddresses: bool,
        ports: list(
          open(
            {
              name: str,
              protocol: str,
              appProtocol: str,
              port: int,
              targetPort: { 'x-kubernetes-int-or-string': true },
              nodePort: int,
            },
            ['port'],
          ),
        ),
      }),
      status: anything,
    }),
  },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    namespaced: true,
    names: 'subdomain',
    schema: top(
      {
        addressType: str,
        endpoints: nullable(
          list(
            open(
              {
                addresses: list(str),
                conditions: open({
                  ready: nullable(bool),
                  serving: nullable(bool),
                  terminating: nullable(bool),
                }),
                hostname: nullable(str),
                nodeName: nullable(str),
                zone: nullable(str),
                targetRef: nullable(anything),
                hints: nullable(anything),
              },
              ['addresses'],
            ),
          ),
        ),
        ports: nullable(
          list(
            open({
              name: nullable(str),
              protocol: nullable(str),
              appProtocol: nullable(str),
              port: nullable(int),
            }),
          ),
        ),
      },
      ['addressType'],
    ),
  },
  {
    group: '',
    version: 'v1',
    kind: 'Secret',
    namespaced: true,
    names: 'subdomain',
    schema: top({ type: str, data: stringMap, stringData: stringMap, immutable: bool }),
  },
  {
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    namespaced: true,
    names: 'subdomain',
    schema: top({ data: stringMap, binaryData: stringMap, immutable: bool }),
  },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    names: 'subdomain',
    schema: top({ spec: anything, status: anything }, ['spec']),
  },
];
