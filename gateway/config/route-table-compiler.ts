// RouteConfigurations compiled route by route, with each compiled route
// reused while its bytes are unchanged.
//
// A RouteConfiguration holds every virtual host of a listener: with 5,000
// HTTPRoutes it is megabytes, resent whole when one route changes, and a
// Gateway's HTTP and HTTPS listeners carry the same routes twice. Decoding,
// validating and compiling all of it on every change was most of the time a
// new route took to be served, and the two identical tables most of the
// gateway's memory. So the bytes are split at the protobuf wire level (the
// configuration without its virtual hosts, each virtual host without its
// routes, each route), and a route whose bytes were compiled before — in an
// earlier version, or in the other listener's table — is not decoded again;
// both tables then share it. Decoding, validation (protoc-gen-validate) and
// compilation of what is decoded are exactly those of the whole message.
import { TypeUrl, TYPE_PREFIX } from '../../xds/proto/root.js';
import type { RouteConfiguration__Output as RouteConfiguration } from '../../xds/generated/envoy/config/route/v3/RouteConfiguration.js';
import type { VirtualHost__Output as VirtualHost } from '../../xds/generated/envoy/config/route/v3/VirtualHost.js';
import type { Route__Output as Route } from '../../xds/generated/envoy/config/route/v3/Route.js';
import { ConfigError, decodeResource } from './decode.js';
import {
  compileRoute,
  compileRouteTable,
  type CompiledRoute,
  type CompiledRouteTable,
} from './routes.js';

const VIRTUAL_HOST_URL = `${TYPE_PREFIX}envoy.config.route.v3.VirtualHost`;
const ROUTE_URL = `${TYPE_PREFIX}envoy.config.route.v3.Route`;
/** RouteConfiguration.virtual_hosts and VirtualHost.routes (field numbers in route.proto). */
const VIRTUAL_HOSTS_FIELD = 2;
const ROUTES_FIELD = 3;

/** A message's bytes without one repeated message field, and that field's items. */
export interface SplitMessage {
  rest: Uint8Array;
  items: Uint8Array[];
}

/** Splits out every occurrence of length-delimited `field`; throws ConfigError on malformed bytes. */
export function splitField(buf: Uint8Array, field: number, what: string): SplitMessage {
  const items: Uint8Array[] = [];
  const rest: Uint8Array[] = [];
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= buf.length || shift > 63) throw new ConfigError(`${what}: malformed protobuf`);
      const b = buf[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  while (pos < buf.length) {
    const start = pos;
    const tag = varint();
    const wire = tag % 8;
    let valueStart = pos;
    switch (wire) {
      case 0:
        varint();
        break;
      case 1:
        pos += 8;
        break;
      case 2: {
        const len = varint();
        valueStart = pos;
        pos += len;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        // Groups (3, 4) are not used by Envoy's protos.
        throw new ConfigError(`${what}: malformed protobuf (wire type ${wire})`);
    }
    if (pos > buf.length) throw new ConfigError(`${what}: malformed protobuf (truncated)`);
    if (wire === 2 && Math.floor(tag / 8) === field) items.push(buf.subarray(valueStart, pos));
    else rest.push(buf.subarray(start, pos));
  }
  return { rest: rest.length === 1 ? rest[0]! : Buffer.concat(rest), items };
}

export class RouteTableCompiler {
  /** Compiled routes by their bytes (as a latin1 string: exact, and hashable by Map). */
  private memo = new Map<string, CompiledRoute>();
  private readonly keysOf = new WeakMap<CompiledRouteTable, string[]>();

  /** Decodes, validates and compiles a RouteConfiguration; `name` is for messages. */
  compile(bytes: Uint8Array, name: string): { own: string; table: CompiledRouteTable } {
    const rc = splitField(bytes, VIRTUAL_HOSTS_FIELD, name);
    const head = decodeResource<RouteConfiguration>(TypeUrl.RouteConfiguration, rc.rest, name);
    const keys: string[] = [];
    const routesByHost = new Map<VirtualHost, Uint8Array[]>();
    const virtual_hosts = rc.items.map((vhBytes, i) => {
      const vh = splitField(vhBytes, ROUTES_FIELD, `${name} virtual host ${i}`);
      const host = decodeResource<VirtualHost>(
        VIRTUAL_HOST_URL,
        vh.rest,
        `${name} virtual host ${i}`,
      );
      routesByHost.set(host, vh.items);
      return host;
    });
    const table = compileRouteTable({ ...head, virtual_hosts }, (vh, where) =>
      (routesByHost.get(vh) ?? []).map((b, i) => {
        const key = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
        keys.push(key);
        let route = this.memo.get(key);
        if (!route) {
          route = compileRoute(decodeResource<Route>(ROUTE_URL, b, `${where} route ${i}`), where);
          this.memo.set(key, route);
        }
        return route;
      }),
    );
    this.keysOf.set(table, keys);
    return { own: head.name ?? '', table };
  }

  /** Forgets every compiled route not used by `tables` (the ones now held). */
  retain(tables: Iterable<CompiledRouteTable>): void {
    const live = new Map<string, CompiledRoute>();
    for (const t of tables) {
      for (const k of this.keysOf.get(t) ?? []) {
        const r = this.memo.get(k);
        if (r) live.set(k, r);
      }
    }
    this.memo = live;
  }

  /** Compiled routes held (for tests). */
  get size(): number {
    return this.memo.size;
  }
}
