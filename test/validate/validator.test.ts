// The validator on real manifests (no false errors) and on one broken
// example per kind of rule, asserting the exact `file:line: field: message`.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sortLines, validateText } from '../../cli/validate-command.js';
import { compileRule, toCel } from '../../controller/validation/cel.js';
import { validateInputs } from '../../controller/validation/documents.js';
import { sharedValidator } from '../../controller/validation/validator.js';
import { parseYamlDocuments } from '../../controller/providers/yaml-documents.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'conformance');
/**
 * The whole upstream set: the conformance module's own manifests (v1.6.1,
 * hack/conformance/go.mod), from the Go module cache the test setup fills.
 */
function upstreamManifests(): string {
  const dir = execFileSync(
    'go',
    ['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/gateway-api/conformance'],
    {
      cwd: join(import.meta.dirname, '..', '..', 'hack', 'conformance'),
      env: { ...process.env, GOFLAGS: '-mod=mod' },
      encoding: 'utf8',
    },
  ).trim();
  return join(dir, 'tests');
}

/** `text` without its first newline, so line 1 is the first line of the literal. */
function check(text: string, file = 'x.yaml'): string[] {
  return sortLines(validateText(text.replace(/^\n/, ''), file)).map((l) => l.text);
}

describe('the validator on conformance manifests', () => {
  it('finds no error in the copied conformance manifests', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      expect(validateText(readFileSync(join(FIXTURES, f), 'utf8'), f)).toEqual([]);
    }
  });

  it('finds no error in any Gateway API or core object of every upstream conformance manifest', () => {
    const UPSTREAM = upstreamManifests();
    let checked = 0;
    const problems: string[] = [];
    for (const f of readdirSync(UPSTREAM).filter((x) => x.endsWith('.yaml'))) {
      // The placeholders the conformance suite substitutes before applying a manifest.
      const text = readFileSync(join(UPSTREAM, f), 'utf8')
        .replaceAll('{GATEWAY_CONTROLLER_NAME}', 'gatefleet.io/gateway-controller')
        .replaceAll('PLACEHOLDER_UNUSABLE_ADDRS', '192.0.2.1')
        .replaceAll('PLACEHOLDER_USABLE_ADDRS', '192.0.2.2');
      const parsed = parseYamlDocuments(text, f);
      expect(parsed.diagnostics).toEqual([]);
      const r = validateInputs(parsed.inputs, text);
      checked += parsed.inputs.length;
      for (const p of r.problems) {
        // Deployments (the backends) have no schema here.
        if (p.unknownKind && /^kind Deployment /.test(p.message)) continue;
        problems.push(`${f}:${p.line}: ${p.object}: ${p.field}: ${p.message}`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(300);
  });
});

const GATEWAY_HEAD = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
spec:
  gatewayClassName: gatefleet`;

const ROUTE_HEAD = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
spec:
  parentRefs: [{ name: gw }]`;

describe('one broken example per kind of rule', () => {
  it('a missing required field is reported at its parent', () => {
    expect(
      check(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
spec:
  listeners:
    - { name: http, port: 80, protocol: HTTP }
`),
    ).toEqual(['x.yaml:5: spec.gatewayClassName: Required value']);
  });

  it('a wrong type', () => {
    expect(
      check(`${GATEWAY_HEAD}
  listeners:
    - name: http
      port: "80"
      protocol: HTTP
`),
    ).toEqual(['x.yaml:9: spec.listeners[0].port: Invalid value: "80": must be of type integer']);
  });

  it('an enum value', () => {
    expect(
      check(`${ROUTE_HEAD}
  rules:
    - matches:
        - headers:
            - type: Prefix
              name: x-env
              value: canary
`),
    ).toEqual([
      'x.yaml:10: spec.rules[0].matches[0].headers[0].type: Unsupported value: "Prefix": supported values: "Exact", "RegularExpression"',
    ]);
  });

  it('a pattern', () => {
    expect(
      check(`${ROUTE_HEAD}
  rules:
    - timeouts:
        request: 1.5s
`),
    ).toEqual([
      'x.yaml:9: spec.rules[0].timeouts.request: Invalid value: "1.5s": must match \'^([0-9]{1,5}(h|m|s|ms)){1,4}$\'',
    ]);
  });

  it('maxItems', () => {
    const hosts = Array.from({ length: 17 }, (_, i) => `h${i}.example.com`).join(', ');
    expect(
      check(`${ROUTE_HEAD}
  hostnames: [${hosts}]
`),
    ).toEqual(['x.yaml:7: spec.hostnames: Too many: 17: must have at most 16 items']);
  });

  it('an unknown field', () => {
    expect(
      check(`${ROUTE_HEAD}
  rules:
    - backendRef: { name: web, port: 80 }
`),
    ).toEqual(['x.yaml:8: spec.rules[0].backendRef: Unknown field']);
  });

  it('CEL: a RequestRedirect filter together with backendRefs', () => {
    expect(
      check(`${ROUTE_HEAD}
  rules:
    - filters:
        - type: RequestRedirect
          requestRedirect: { scheme: https }
      backendRefs: [{ name: web, port: 80 }]
`),
    ).toEqual([
      'x.yaml:8: spec.rules[0]: RequestRedirect filter must not be used together with backendRefs',
    ]);
  });

  it('CEL: listener names must be unique (and the listener list is a map keyed by name)', () => {
    expect(
      check(`${GATEWAY_HEAD}
  listeners:
    - { name: http, port: 80, protocol: HTTP }
    - { name: http, port: 8080, protocol: HTTP }
`),
    ).toEqual([
      'x.yaml:7: spec.listeners: Listener name must be unique within the Gateway',
      'x.yaml:9: spec.listeners[1]: Duplicate value: {"name":"http"}',
    ]);
  });

  it('CEL: tls is not allowed on an HTTP listener', () => {
    expect(
      check(`${GATEWAY_HEAD}
  listeners:
    - name: http
      port: 80
      protocol: HTTP
      tls: { certificateRefs: [{ name: cert }] }
`),
    ).toEqual([
      "x.yaml:7: spec.listeners: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
    ]);
  });

  it("CEL: a path value must start with '/' (also when the type is the default, PathPrefix)", () => {
    expect(
      check(`${ROUTE_HEAD}
  rules:
    - matches:
        - path: { type: Exact, value: api }
        - path: { value: v2 }
`),
    ).toEqual([
      "x.yaml:9: spec.rules[0].matches[0].path: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
      "x.yaml:10: spec.rules[0].matches[1].path: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
    ]);
  });

  it('CEL: the backendRequest timeout must not exceed the request timeout (durations)', () => {
    expect(
      check(`${ROUTE_HEAD}
  rules:
    - timeouts: { request: 500ms, backendRequest: 1s }
    - timeouts: { request: 1m, backendRequest: 59s }
    - timeouts: { request: 0s, backendRequest: 1h }
`),
    ).toEqual([
      'x.yaml:8: spec.rules[0].timeouts: backendRequest timeout cannot be longer than request timeout',
    ]);
  });

  it('CEL: the RE2 dialect of matches(), with (?i)', () => {
    expect(
      check(`
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: grpc }
spec:
  rules:
    - matches:
        - method: { service: Foo.bar_Baz, method: Get }
        - method: { service: foo-bar, method: Get }
`),
    ).toEqual([
      'x.yaml:8: spec.rules[0].matches[1].method: service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)',
    ]);
  });

  it("CEL: gatefleet's FleetConfig rules", () => {
    expect(
      check(`
apiVersion: gatefleet.io/v1alpha1
kind: FleetConfig
metadata: { name: fleet }
spec:
  minReplicas: 3
  maxReplicas: 2
`),
    ).toEqual(['x.yaml:4: spec: minReplicas must not exceed maxReplicas']);
  });

  it('core kinds: required fields and types', () => {
    expect(
      check(`
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  ports:
    - name: http
      targetPort: 8080
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, labels: { kubernetes.io/service-name: web } }
endpoints:
  - addresses: 10.0.0.1
`),
    ).toEqual([
      'x.yaml:6: spec.ports[0].port: Required value',
      'x.yaml:9: addressType: Required value',
      'x.yaml:13: endpoints[0].addresses: Invalid value: "10.0.0.1": must be of type array',
    ]);
  });

  it('metadata: a name is required, and names and labels are checked', () => {
    expect(
      check(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { namespace: default }
spec: {}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: Web_1
  labels:
    app: "-x"
    bad key: y
spec: {}
`),
    ).toEqual([
      'x.yaml:3: metadata.name: Required value',
      'x.yaml:9: metadata.name: Invalid value: "Web_1": must match \'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$\'',
      'x.yaml:11: metadata.labels.app: Invalid value: "-x": must match \'^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$\'',
      'x.yaml:12: metadata.labels[bad key]: Invalid value: "bad key": must match \'^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$\'',
    ]);
  });

  it('YAML syntax errors, unknown kinds and versions not served, like the file provider', () => {
    expect(
      check(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: c }
---
apiVersion: gateway.networking.k8s.io/v1alpha1
kind: Gateway
metadata: { name: gw }
---
this: [is, not, { valid
---
- just a list
`),
    ).toEqual([
      'x.yaml:2: kind: kind Deployment has no schema in gatefleet',
      'x.yaml:5: apiVersion: apiVersion "gateway.networking.k8s.io/v1alpha1" is not served for Gateway; expected one of gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1beta1',
      'x.yaml:9: invalid YAML: Flow map in block collection must be sufficiently indented and end with a } at line 10, column 1',
      'x.yaml:11: document: not a Kubernetes object: expected a mapping with `kind` and `apiVersion`',
    ]);
  });

  it('the items of a kind: List are located one by one', () => {
    expect(
      check(`
apiVersion: v1
kind: List
items:
  - apiVersion: gateway.networking.k8s.io/v1
    kind: GatewayClass
    metadata: { name: ok }
    spec: { controllerName: gatefleet.io/gateway-controller }
  - apiVersion: gateway.networking.k8s.io/v1
    kind: GatewayClass
    metadata: { name: bad }
    spec: { controllerName: no-slash }
`),
    ).toEqual([
      "x.yaml:11: spec.controllerName: Invalid value: \"no-slash\": must match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$'",
    ]);
  });

  it('a oneOf failure is explained by the branch that applies', () => {
    expect(
      check(`${GATEWAY_HEAD}
  listeners: [{ name: http, port: 80, protocol: HTTP }]
  addresses:
    - { type: IPAddress, value: 192.0.2.1 }
    - { value: not-an-ip }
    - { type: Hostname, value: gw.example.com }
`),
    ).toEqual([
      'x.yaml:10: spec.addresses[1].value: Invalid value: "not-an-ip": must be a valid ipv4 or ipv6',
    ]);
  });
});

/** 16 rules of 9 matches: 144 matches, more than the 128 a route may have. */
const MANY_MATCHES = Array.from({ length: 16 }, () => ({
  matches: Array.from({ length: 9 }, () => ({})),
}));

/** [part of the rule's text, self, what Kubernetes evaluates the rule to] */
const RULE_CASES: [string, unknown, boolean][] = [
  ['self.all(l1, self.exists_one(l2, l1.name == l2.name))', [{ name: 'a' }, { name: 'b' }], true],
  ['self.all(l1, self.exists_one(l2, l1.name == l2.name))', [{ name: 'a' }, { name: 'a' }], false],
  [
    'self.all(l1, self.exists_one(l2, l1.port == l2.port && l1.protocol == l2.protocol && (has(l1.hostname)',
    [
      { name: 'a', port: 80, protocol: 'HTTP' },
      { name: 'b', port: 80, protocol: 'HTTP', hostname: 'x' },
    ],
    true,
  ],
  [
    'self.all(l1, self.exists_one(l2, l1.port == l2.port && l1.protocol == l2.protocol && (has(l1.hostname)',
    [
      { name: 'a', port: 80, protocol: 'HTTP' },
      { name: 'b', port: 80, protocol: 'HTTP' },
    ],
    false,
  ],
  [
    "self.all(l, l.protocol in ['HTTP', 'TCP', 'UDP'] ? !has(l.tls) : true)",
    [{ protocol: 'HTTP', tls: { mode: 'Terminate' } }],
    false,
  ],
  [
    "self.all(l, l.protocol in ['HTTP', 'TCP', 'UDP'] ? !has(l.tls) : true)",
    [{ protocol: 'HTTPS', tls: { mode: 'Terminate' } }],
    true,
  ],
  [
    "self.mode == 'Terminate' ? size(self.certificateRefs) > 0 || size(self.options) > 0 : true",
    { mode: 'Terminate', certificateRefs: [{ name: 'x' }] },
    true,
  ],
  [
    "self.mode == 'Terminate' ? size(self.certificateRefs) > 0 || size(self.options) > 0 : true",
    { mode: 'Terminate', certificateRefs: [], options: {} },
    false,
  ],
  [
    "self.mode == 'Terminate' ? size(self.certificateRefs) > 0 || size(self.options) > 0 : true",
    { mode: 'Terminate', certificateRefs: [], options: { a: 'b' } },
    true,
  ],
  [
    "self.all(a1, a1.type == 'IPAddress' && has(a1.value) ?",
    [
      { type: 'IPAddress', value: '1.2.3.4' },
      { type: 'IPAddress', value: '1.2.3.4' },
    ],
    false,
  ],
  [
    "self.all(a1, a1.type == 'IPAddress' && has(a1.value) ?",
    [
      { type: 'IPAddress', value: '1.2.3.4' },
      { type: 'Hostname', value: '1.2.3.4' },
    ],
    true,
  ],
  [
    "self.type == 'Hostname' ? (!has(self.value) || self.value.matches(r",
    { type: 'Hostname', value: '*.example.com' },
    true,
  ],
  [
    "self.type == 'Hostname' ? (!has(self.value) || self.value.matches(r",
    { type: 'Hostname', value: 'Example.com' },
    false,
  ],
  [
    "self.type == 'Hostname' ? (!has(self.value) || self.value.matches(r",
    { type: 'Hostname' },
    true,
  ],
  ['self.all(key, key.matches(r', { 'example.com/foo': 'x', bar: 'y' }, true],
  ['self.all(key, key.matches(r', { '-bad': 'x' }, false],
  [
    'self.all(key, key.split("/")[0].size() < 253)',
    {
      'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/x':
        'y',
    },
    false,
  ],
  ['self.all(key, key.split("/")[0].size() < 253)', { 'a/x': 'y' }, true],
  [
    '(has(self.backendRefs) && size(self.backendRefs) > 0) ? (!has(self.filters) || self.filters.all(f, !has(f.requestRedirect))): true',
    {
      backendRefs: [{ name: 's', port: 80 }],
      filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }],
    },
    false,
  ],
  [
    '(has(self.backendRefs) && size(self.backendRefs) > 0) ? (!has(self.filters) || self.filters.all(f, !has(f.requestRedirect))): true',
    { filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }] },
    true,
  ],
  [
    "(self.type in ['Exact','PathPrefix']) ? self.value.startsWith('/') : true",
    { type: 'PathPrefix', value: 'foo' },
    false,
  ],
  [
    "(self.type in ['Exact','PathPrefix']) ? self.value.startsWith('/') : true",
    { type: 'RegularExpression', value: 'foo' },
    true,
  ],
  [
    "(self.type in ['Exact','PathPrefix']) ? !self.value.contains('//') : true",
    { type: 'Exact', value: '/a//b' },
    false,
  ],
  [
    "(self.type in ['Exact','PathPrefix']) ? self.value.matches(r",
    { type: 'Exact', value: '/a b' },
    false,
  ],
  [
    "(self.type in ['Exact','PathPrefix']) ? self.value.matches(r",
    { type: 'Exact', value: '/a%20b~' },
    true,
  ],
  [
    '!(has(self.request) && has(self.backendRequest) && duration(self.request)',
    { request: '1s', backendRequest: '2s' },
    false,
  ],
  [
    '!(has(self.request) && has(self.backendRequest) && duration(self.request)',
    { request: '1m', backendRequest: '59s' },
    true,
  ],
  [
    '!(has(self.request) && has(self.backendRequest) && duration(self.request)',
    { request: '0s', backendRequest: '59s' },
    true,
  ],
  [
    '!(has(self.request) && has(self.backendRequest) && duration(self.request)',
    { request: '500ms', backendRequest: '1h' },
    false,
  ],
  [
    '(self.size() > 0 ? self[0].matches.size() : 0) + (self.size() > 1',
    [{ matches: [{}] }, { matches: [{}, {}] }],
    true,
  ],
  ['(self.size() > 0 ? self[0].matches.size() : 0) + (self.size() > 1', MANY_MATCHES, false],
  [
    '(self.size() > 0 ? (has(self[0].matches) ? self[0].matches.size() : 0) : 0)',
    [{}, { matches: [{}] }],
    true,
  ],
  [
    '(self.size() > 0 ? (has(self[0].matches) ? self[0].matches.size() : 0) : 0)',
    MANY_MATCHES,
    false,
  ],
  [
    "self.filter(f, f.type == 'CORS').size() <= 1",
    [
      { type: 'CORS', cors: {} },
      { type: 'CORS', cors: {} },
    ],
    false,
  ],
  [
    "self.filter(f, f.type == 'CORS').size() <= 1",
    [
      { type: 'CORS', cors: {} },
      { type: 'URLRewrite', urlRewrite: {} },
    ],
    true,
  ],
  [
    "!(self.exists(f, f.type == 'RequestRedirect') && self.exists(f, f.type == 'URLRewrite'))",
    [{ type: 'RequestRedirect' }, { type: 'URLRewrite' }],
    false,
  ],
  ["!('*' in self && self.size() > 1)", ['*', 'x'], false],
  ["!('*' in self && self.size() > 1)", ['*'], true],
  [
    "(has(self.filters) && self.filters.exists_one(f, has(f.requestRedirect) && has(f.requestRedirect.path) && f.requestRedirect.path.type == 'ReplacePrefixMatch'",
    {
      filters: [
        {
          type: 'RequestRedirect',
          requestRedirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/x' } },
        },
      ],
      matches: [{ path: { type: 'Exact', value: '/a' } }],
    },
    false,
  ],
  [
    "(has(self.filters) && self.filters.exists_one(f, has(f.requestRedirect) && has(f.requestRedirect.path) && f.requestRedirect.path.type == 'ReplacePrefixMatch'",
    {
      filters: [
        {
          type: 'RequestRedirect',
          requestRedirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/x' } },
        },
      ],
      matches: [{ path: { type: 'PathPrefix', value: '/a' } }],
    },
    true,
  ],
  ['self.numerator <= self.denominator', { numerator: 5, denominator: 4 }, false],
  ['self.numerator <= self.denominator', { numerator: 4, denominator: 4 }, true],
  ['!(has(self.percent) && has(self.fraction))', { percent: 5, fraction: { numerator: 1 } }, false],
  ['self.service.matches(r', { type: 'Exact', service: 'Foo.Bar' }, true],
  ['self.service.matches(r', { type: 'Exact', service: 'Foo-Bar' }, false],
  [
    "(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true",
    { group: '', kind: 'Service', name: 'x' },
    false,
  ],
  [
    "(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true",
    { group: '', kind: 'Service', name: 'x', port: 80 },
    true,
  ],
  [
    'self.all(l1, !has(l1.name) || self.exists_one(l2, has(l2.name) && l1.name == l2.name))',
    [{ name: 'a' }, {}, { name: 'a' }],
    false,
  ],
  ['self.all(h, !isIP(h))', ['1.2.3.4'], false],
  ['self.all(h, !isIP(h))', ['::1'], false],
  ['self.all(h, !isIP(h))', ['foo.com'], true],
  ["self.all(h, !h.contains('*') ? h.matches('^([a-z0-9]", ['Foo.com'], false],
  [
    "self.all(h, h.contains('*') ? (h.startsWith('*.') && h.substring(2).matches(",
    ['*.foo.com', 'a.b'],
    true,
  ],
  [
    "self.all(h, h.contains('*') ? (h.startsWith('*.') && h.substring(2).matches(",
    ['a.*.foo.com'],
    false,
  ],
  ['size(self) == 0 || format.dns1123Label().validate(self) == null', 'http', true],
  ['size(self) == 0 || format.dns1123Label().validate(self) == null', 'Http_x', false],
  ["!(duration(self) < duration('1s') || duration(self) > duration('1h'))", '2h', false],
  ["!(duration(self) < duration('1s') || duration(self) > duration('1h'))", '10m', true],
  ["!(duration(self) == duration('0s') || duration(self) > duration('1h'))", '0s', false],
  [
    '!has(self.maxReplicas) || !has(self.minReplicas) || self.minReplicas <= self.maxReplicas',
    { minReplicas: 3, maxReplicas: 2 },
    false,
  ],
  ['!has(self.maxReplicas) || has(self.minReplicas)', { maxReplicas: 2 }, false],
  [
    '(has(self.caCertificateRefs) && size(self.caCertificateRefs) > 0 || has(self.wellKnownCACertificates)',
    { wellKnownCACertificates: 'System' },
    true,
  ],
  [
    '(has(self.caCertificateRefs) && size(self.caCertificateRefs) > 0 || has(self.wellKnownCACertificates)',
    {},
    false,
  ],
];

describe("the CRDs' CEL rules evaluate as on an API server", () => {
  const rules = [
    ...new Set(
      sharedValidator()
        .rules()
        .map((r) => r.rule),
    ),
  ];
  it.each(RULE_CASES)('%s on %j', (part, self, expected) => {
    const matching = rules.filter((r) => r.includes(part));
    expect(matching).toHaveLength(1);
    const r = compileRule({ rule: matching[0]! });
    if ('skipped' in r) throw new Error(r.skipped);
    expect(r.program(toCel(self, undefined, new WeakMap()))).toEqual({ ok: true, value: expected });
  });

  it('escapes property names that are CEL keywords (namespace is __namespace__)', () => {
    expect(
      check(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: two-namespaces }
spec:
  parentRefs:
    - { name: gw, namespace: a }
    - { name: gw, namespace: b }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: same-namespace }
spec:
  parentRefs:
    - { name: gw, namespace: a }
    - { name: gw, namespace: a }
`),
    ).toEqual([
      'x.yaml:13: spec.parentRefs: sectionName or port must be unique when parentRefs includes 2 or more references to the same parent',
    ]);
  });
});

describe('CEL rules', () => {
  it('compiles and evaluates every rule of the CRDs except the transition rules', () => {
    const rules = sharedValidator().rules();
    const skipped = rules.filter((r) => r.skipped !== undefined);
    expect(rules.length).toBeGreaterThan(300);
    expect(skipped.map((r) => `${r.kind} ${r.version} ${r.path}: ${r.rule}`)).toEqual([
      'GatewayClass v1 spec.controllerName: self == oldSelf',
      'GatewayClass v1beta1 spec.controllerName: self == oldSelf',
      'XMesh v1alpha1 spec.controllerName: self == oldSelf',
    ]);
    expect(new Set(skipped.map((r) => r.skipped))).toEqual(
      new Set(["transition rule: compares with the object's previous version (oldSelf)"]),
    );
  });

  it('a rule with a function the environment does not have is skipped with the reason', () => {
    expect(compileRule({ rule: 'self.all(x, x.isSorted())' })).toMatchObject({
      skipped: "undeclared method 'isSorted' with 0 argument(s)",
    });
    expect(compileRule({ rule: 'quantity(self) > 1' })).toMatchObject({
      skipped: "undeclared function 'quantity' with 1 argument(s)",
    });
    expect(compileRule({ rule: 'self.x == other' })).toMatchObject({
      skipped: "undeclared reference to 'other'",
    });
    expect(compileRule({ rule: 'self.x ==' })).toMatchObject({
      skipped: expect.stringMatching(/^does not parse: /),
    });
  });

  it('the Kubernetes extension functions', () => {
    const run = (rule: string, self: unknown) => {
      const r = compileRule({ rule });
      if ('skipped' in r) throw new Error(r.skipped);
      return r.program(self as never);
    };
    expect(run('isIP(self)', '2001:db8::1')).toEqual({ ok: true, value: true });
    expect(run('isIP(self)', 'example.com')).toEqual({ ok: true, value: false });
    expect(run('isCIDR(self)', '10.0.0.0/8')).toEqual({ ok: true, value: true });
    expect(run('isURL(self)', 'https://example.com/x')).toEqual({ ok: true, value: true });
    expect(run('format.dns1123Label().validate(self) == null', 'http')).toEqual({
      ok: true,
      value: true,
    });
    expect(run('format.dns1123Label().validate(self) == null', 'Http_x')).toEqual({
      ok: true,
      value: false,
    });
    expect(run('self.split("/")[0].size() < 3', 'ab/cdef')).toEqual({ ok: true, value: true });
  });
});

describe('a validator whose CRDs cannot be read', () => {
  it('does not check the kinds it has no CRD for, and says why', async () => {
    const { Validator } = await import('../../controller/validation/validator.js');
    const v = new Validator('/nonexistent');
    const r = v.validate({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'gw' },
    });
    expect(r).toMatchObject({
      status: 'unknown',
      field: 'kind',
      message: expect.stringMatching(
        /^kind Gateway is not checked: its CRD cannot be read: ENOENT/,
      ),
    });
    expect(v.validate({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } })).toEqual({
      status: 'checked',
      kind: 'Secret',
      namespaced: true,
      errors: [],
    });
  });
});
