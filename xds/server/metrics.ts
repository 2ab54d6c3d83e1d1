// Prometheus metrics of the xDS server.
import { Counter, Gauge, Registry } from 'prom-client';

export class XdsMetrics {
  readonly responses: Counter<'type_url' | 'mode'>;
  readonly responseBytes: Counter<'type_url' | 'mode'>;
  readonly acks: Counter<'type_url'>;
  readonly nacks: Counter<'type_url' | 'node_group'>;
  readonly connectedNodes: Gauge<'node_group'>;
  readonly snapshotsPublished: Counter<string>;
  readonly identityRejections: Counter<'reason' | 'certified_node_group'>;

  constructor(readonly registry: Registry = new Registry()) {
    this.responses = new Counter({
      name: 'gatefleet_xds_responses_total',
      help: 'Discovery responses pushed to gateways',
      labelNames: ['type_url', 'mode'],
      registers: [registry],
    });
    this.responseBytes = new Counter({
      name: 'gatefleet_xds_response_bytes_total',
      help: 'Bytes of resources pushed to gateways',
      labelNames: ['type_url', 'mode'],
      registers: [registry],
    });
    this.acks = new Counter({
      name: 'gatefleet_xds_acks_total',
      help: 'Responses gateways acknowledged',
      labelNames: ['type_url'],
      registers: [registry],
    });
    this.nacks = new Counter({
      name: 'gatefleet_xds_nacks_total',
      help: 'Responses gateways rejected',
      labelNames: ['type_url', 'node_group'],
      registers: [registry],
    });
    this.connectedNodes = new Gauge({
      name: 'gatefleet_xds_connected_nodes',
      help: 'Gateways connected, by node group',
      labelNames: ['node_group'],
      registers: [registry],
    });
    this.snapshotsPublished = new Counter({
      name: 'gatefleet_xds_snapshots_published_total',
      help: 'Node group snapshots published with a new version',
      registers: [registry],
    });
    // Labelled by the certified node group, never the claimed one: a claim is
    // whatever a client sends and would make the label set unbounded.
    this.identityRejections = new Counter({
      name: 'gatefleet_xds_identity_rejections_total',
      help: 'xDS streams refused because node.cluster is not the node group of the client certificate',
      labelNames: ['reason', 'certified_node_group'],
      registers: [registry],
    });
  }
}
