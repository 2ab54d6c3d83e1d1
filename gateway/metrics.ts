// The gateway's Prometheus metrics (served on the admin listener's /stats;
// summed over workers in worker-per-core mode). Gauges that mirror state are
// read when scraped, so the request path only bumps one counter.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

export interface MetricSources {
  ready: () => boolean;
  draining: () => boolean;
  inFlight: () => number;
  listeners: () => number;
}

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
  readonly reconnects = new Counter({
    name: 'gatefleet_gateway_xds_reconnects_total',
    help: 'Reconnections to the xDS server scheduled after a broken stream',
    registers: [this.registry],
  });

  constructor(src: MetricSources) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'gatefleet_gateway_listeners',
      help: 'Listeners open',
      registers: [this.registry],
      collect() {
        this.set(src.listeners());
      },
    });
    new Gauge({
      name: 'gatefleet_gateway_ready',
      help: '1 once the first complete configuration is applied (0 while draining)',
      registers: [this.registry],
      collect() {
        this.set(src.ready() && !src.draining() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gatefleet_gateway_draining',
      help: '1 while draining after SIGTERM',
      registers: [this.registry],
      collect() {
        this.set(src.draining() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gatefleet_gateway_requests_in_flight',
      help: 'Requests being answered',
      registers: [this.registry],
      collect() {
        this.set(src.inFlight());
      },
    });
  }
}
