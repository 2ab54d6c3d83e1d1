// Assembles the route tables of one listening port. Each Gateway listener
// contributes virtual hosts for the hostnames its routes serve plus a
// fallback for its own hostname; a domain that a more specific listener on
// the same port covers is dropped from the less specific one, so a request
// is routed only by the routes of the listener its Host selects (listener
// isolation). HTTPS chains also answer 421 for hosts that belong to another
// listener on the port (misdirected requests).
import type { FilterChain, Listener, RedirectAction, Route, VirtualHost } from '../ir/types.js';
import { ANY_HOST, covers, isWildcard, listenerSpecificity } from './hostnames.js';
import { listenerId, type ListenerState } from './listeners.js';
import type { TranslationMemo } from './memo.js';
import { comparePrecedence, type RankedEntry } from './precedence.js';
import { sortInPlace } from './sort.js';
import type { RouteAnalysis, RuleTemplate } from './routes/rules.js';

export interface AttachedEntry extends RankedEntry {
  /** Where the entry is served: the intersection of route and listener hostnames. */
  host: string;
  analysis: RouteAnalysis;
  template: RuleTemplate;
  /**
   * The entry's IR route when it does not depend on the listener (every rule
   * but redirects). Entries are shared by every listener the route attaches
   * to with the same hostnames, so nothing listener-specific is stored here.
   */
  readonly route?: Route;
}

/** Where a node group's virtual hosts may come from the previous translation. */
export interface Reuse {
  memo: TranslationMemo;
  /** The node group, so that shards of one fleet do not share entries. */
  scope: string;
}

interface ChainContext {
  port: number;
  protocol: 'HTTP' | 'HTTPS';
}

const WELL_KNOWN_PORTS: Record<string, number> = { http: 80, https: 443 };

function listenerHost(l: ListenerState): string {
  return l.hostname ?? ANY_HOST;
}

/**
 * The hostnames that cover `domain`, most specific first: the domain itself,
 * then each wildcard over a shorter suffix, then `*`. This is also the
 * precedence order of routes by hostname.
 */
export function coveringHosts(domain: string): string[] {
  if (domain === ANY_HOST) return [ANY_HOST];
  const out = [domain];
  // Each "*.<suffix>" after the first label (after "*." for a wildcard).
  let dot = domain.indexOf('.', isWildcard(domain) ? 2 : 0);
  while (dot !== -1 && dot < domain.length - 1) {
    out.push(`*${domain.slice(dot)}`);
    dot = domain.indexOf('.', dot + 1);
  }
  out.push(ANY_HOST);
  return out;
}

/**
 * The virtual hosts of one listener on its port, after isolation from the
 * other listeners there (`peers`, all accepted listeners on the port). A
 * virtual host gets every entry whose hostname covers its domain, in
 * precedence order; a rule match reachable through several of the route's
 * hostnames appears once, ranked by its most specific one.
 */
function listenerVirtualHosts(
  l: ListenerState,
  peers: readonly ListenerState[],
  entries: readonly AttachedEntry[],
  chain: ChainContext,
  reuse: Reuse | undefined,
): VirtualHost[] {
  const mine = listenerSpecificity(l.hostname);
  const stronger = peers.filter((p) => p !== l && listenerSpecificity(p.hostname) > mine);
  if (!reuse) return virtualHostsOf(l, stronger, entries, chain);
  // The virtual hosts depend only on the entries (shared objects, identical
  // while their routes are), the hostnames of this and the stronger
  // listeners, and the chain.
  const context = [chain.protocol, chain.port, listenerHost(l), ...stronger.map(listenerHost)];
  return reuse.memo.listenerVirtualHosts(
    `${reuse.scope}\0${listenerId(l)}`,
    entries,
    context.join('\0'),
    () => virtualHostsOf(l, stronger, entries, chain),
  );
}

function virtualHostsOf(
  l: ListenerState,
  stronger: readonly ListenerState[],
  entries: readonly AttachedEntry[],
  chain: ChainContext,
): VirtualHost[] {
  const byHost = new Map<string, AttachedEntry[]>();
  for (const e of entries) {
    const list = byHost.get(e.host);
    if (list) list.push(e);
    else byHost.set(e.host, [e]);
  }
  // Sorted runs make the per-domain sort below close to linear.
  for (const list of byHost.values()) sortInPlace(list, comparePrecedence);
  const domains = [...new Set([listenerHost(l), ...byHost.keys()])].sort();
  const out: VirtualHost[] = [];
  const routeOf = (e: AttachedEntry): Route => e.route ?? toRoute(e, chain);
  for (const domain of domains) {
    if (stronger.some((p) => covers(listenerHost(p), domain))) continue;
    const groups: AttachedEntry[][] = [];
    for (const h of coveringHosts(domain)) {
      const group = byHost.get(h);
      if (group) groups.push(group);
    }
    let routes: Route[];
    if (groups.length === 0) routes = [];
    else if (groups.length === 1) routes = groups[0]!.map(routeOf);
    else {
      const seen = new Set<Route>();
      routes = [];
      for (const e of groups.flat().sort(comparePrecedence)) {
        const r = routeOf(e);
        if (seen.has(r)) continue;
        seen.add(r);
        routes.push(r);
      }
    }
    out.push({ name: `${listenerId(l)}/${domain}`, domain, routes });
  }
  return out;
}

/** Builds the IR listener for one port from its programmable Gateway listeners. */
export function buildPortListener(
  chain: ChainContext,
  programmable: readonly ListenerState[],
  peers: readonly ListenerState[],
  entriesOf: (l: ListenerState) => readonly AttachedEntry[],
  reuse?: Reuse,
): Listener {
  const name = `${chain.protocol.toLowerCase()}-${chain.port}`;
  const sorted = [...programmable].sort((a, b) => (listenerId(a) < listenerId(b) ? -1 : 1));
  let filterChains: FilterChain[];
  if (chain.protocol === 'HTTP') {
    const virtualHosts = sorted
      .flatMap((l) => listenerVirtualHosts(l, peers, entriesOf(l), chain, reuse))
      .sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
    filterChains = [
      { name, serverNames: [], certificates: [], sources: sorted.map(listenerId), virtualHosts },
    ];
  } else {
    filterChains = sorted.map((l) => {
      const own = listenerVirtualHosts(l, peers, entriesOf(l), chain, reuse);
      const misdirected: VirtualHost[] = peers
        .filter((p) => p !== l && listenerHost(p) !== listenerHost(l))
        .map((p) => ({
          name: `${listenerId(l)}/misdirected/${listenerHost(p)}`,
          domain: listenerHost(p),
          routes: [misdirectedRoute(l, p)],
        }));
      const virtualHosts = [...own, ...misdirected].sort((a, b) =>
        a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0,
      );
      return {
        name: `${name}/${listenerId(l)}`,
        serverNames: l.hostname ? [l.hostname] : [],
        certificates: l.certificates.map((c) => c.name),
        sources: [listenerId(l)],
        virtualHosts,
        ...(l.clientValidation ? { clientValidation: l.clientValidation } : {}),
      };
    });
  }
  return { name, port: chain.port, protocol: chain.protocol, filterChains };
}

function misdirectedRoute(l: ListenerState, other: ListenerState): Route {
  return {
    name: `misdirected/${listenerId(other)}`,
    source: { namespace: '', name: '', rule: 0, match: 0 },
    match: { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] },
    action: {
      type: 'DirectResponse',
      status: 421,
      reason: `host belongs to listener ${listenerId(other)}, not to ${listenerId(l)} selected by SNI`,
    },
  };
}

/**
 * Routes depend on the listener only through redirects (scheme and port), so
 * the same Route object is shared by every chain and virtual host it appears in.
 */
const routeCache = new WeakMap<RuleTemplate, Map<string, Route>>();

/** The IR route of a rule match that is not a redirect (the same on every listener). */
export function listenerIndependentRoute(e: Omit<AttachedEntry, 'route'>): Route | undefined {
  return e.template.redirect ? undefined : toRoute(e, undefined);
}

function toRoute(e: Omit<AttachedEntry, 'route'>, chain: ChainContext | undefined): Route {
  const t = e.template;
  let cache = routeCache.get(t);
  if (!cache) routeCache.set(t, (cache = new Map()));
  const id =
    t.redirect && chain ? `${e.matchIndex}|${chain.protocol}|${chain.port}` : `${e.matchIndex}`;
  let route = cache.get(id);
  if (!route) cache.set(id, (route = buildRoute(e, chain)));
  return route;
}

function buildRoute(e: Omit<AttachedEntry, 'route'>, chain: ChainContext | undefined): Route {
  const t = e.template;
  const a = e.analysis;
  const route: Route = {
    name: `${a.key}/rule/${t.index}/match/${e.matchIndex}`,
    source: {
      namespace: a.namespace,
      name: a.name,
      rule: t.index,
      ...(t.name === undefined ? {} : { ruleName: t.name }),
      match: e.matchIndex,
    },
    match: e.match,
    action: t.redirect && chain ? redirectAction(t.redirect, chain) : t.action!,
  };
  if (t.requestHeaders) route.requestHeaders = t.requestHeaders;
  if (t.responseHeaders) route.responseHeaders = t.responseHeaders;
  if (t.urlRewrite) route.urlRewrite = t.urlRewrite;
  if (t.cors) route.cors = t.cors;
  return route;
}

/** Resolves a redirect's scheme and port against the listener (HTTPRequestRedirectFilter). */
function redirectAction(
  r: NonNullable<RuleTemplate['redirect']>,
  chain: ChainContext,
): RedirectAction {
  const f = r.filter;
  const scheme = f.scheme ?? (chain.protocol === 'HTTPS' ? 'https' : 'http');
  const port = f.port ?? (f.scheme ? (WELL_KNOWN_PORTS[f.scheme] ?? chain.port) : chain.port);
  const out: RedirectAction = {
    type: 'Redirect',
    scheme,
    port,
    statusCode: (f.statusCode ?? 302) as RedirectAction['statusCode'],
  };
  if (f.hostname) out.hostname = f.hostname;
  if (r.path) out.path = r.path;
  return out;
}
