// The gateway's Prometheus metrics (served on the admin listener's /stats).
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'gatefleet_gateway_requests_total',
    help: 'Requests answered, by status class',
    labelNames: ['code_class'],
    registers: [this.registry],
  });
  readonly updates = new Counter({
    name: 'gatefleet_gateway_xds_updates_total',
    help: 'xDS responses, by type and result (applied or rejected)',
    labelNames: ['type_url', 'result'],
    registers: [this.registry],
  });
  readonly connected = new Gauge({
    name: 'gatefleet_gateway_xds_connected',
    help: '1 while the xDS stream is up',
    registers: [this.registry],
  });
  readonly listeners = new Gauge({
    name: 'gatefleet_gateway_listeners',
    help: 'Listeners open',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
