// `gatefleet status`: a kubectl-like view of what the standalone controller
// knows, read from its admin API: GatewayClasses, Gateways with their
// listeners, HTTPRoutes with their parents, and the fleet (connected
// gateways per node group, the version each applied, the last NACK).
import { parseArgs } from 'node:util';

export const STATUS_USAGE = `Usage: gatefleet status [--admin <addr:port>] [-o table|json]

Prints GatewayClasses, Gateways and listeners, HTTPRoutes, and the fleet
(gateways connected per node group, the version each applied, the last NACK)
from a running \`gatefleet run\`.

  --admin <addr:port>   the controller's admin API (default 127.0.0.1:9090)
  -o, --output          table (default) or json
`;

type Cond = { type: string; status: string; reason: string; message?: string };
type Res = { kind: string; namespace?: string; name: string; status: Record<string, unknown> };

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2)))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

function conds(cs: Cond[] | undefined): string {
  return (cs ?? [])
    .map((c) => `${c.type}=${c.status}${c.status === 'True' ? '' : `(${c.reason})`}`)
    .join(' ');
}

export function renderStatus(
  status: {
    resources: Res[];
    diagnostics: { code: string; file?: string; line?: number; object: string; message: string }[];
  },
  fleet: {
    nodeGroups: {
      name: string;
      version: string;
      address?: string;
      nodes: {
        id: string;
        appliedVersion?: string;
        types: Record<string, { lastNack?: { message: string } }>;
      }[];
    }[];
  },
): string {
  const out: string[] = [];
  const classes = status.resources.filter((r) => r.kind === 'GatewayClass');
  out.push(
    table([
      ['GATEWAYCLASS', 'CONDITIONS'],
      ...classes.map((c) => [c.name, conds(c.status.conditions as Cond[])]),
    ]),
  );
  const gws = status.resources.filter((r) => r.kind === 'Gateway');
  out.push(
    '',
    table([
      ['GATEWAY', 'ADDRESS', 'CONDITIONS'],
      ...gws.map((g) => [
        `${g.namespace}/${g.name}`,
        ((g.status.addresses as { value: string }[] | undefined) ?? [])
          .map((a) => a.value)
          .join(',') || '-',
        conds(g.status.conditions as Cond[]),
      ]),
    ]),
  );
  const listenerRows: string[][] = [['GATEWAY', 'LISTENER', 'ROUTES', 'CONDITIONS']];
  for (const g of gws) {
    for (const l of (g.status.listeners as
      { name: string; attachedRoutes: number; conditions: Cond[] }[] | undefined) ?? []) {
      listenerRows.push([
        `${g.namespace}/${g.name}`,
        l.name,
        String(l.attachedRoutes),
        conds(l.conditions),
      ]);
    }
  }
  out.push('', table(listenerRows));
  const routeRows: string[][] = [['HTTPROUTE', 'PARENT', 'CONDITIONS']];
  for (const r of status.resources.filter((x) => x.kind === 'HTTPRoute')) {
    for (const p of (r.status.parents as
      | {
          parentRef: { namespace?: string; name: string; sectionName?: string };
          conditions: Cond[];
        }[]
      | undefined) ?? []) {
      routeRows.push([
        `${r.namespace}/${r.name}`,
        `${p.parentRef.namespace ?? ''}/${p.parentRef.name}${p.parentRef.sectionName ? `/${p.parentRef.sectionName}` : ''}`,
        conds(p.conditions),
      ]);
    }
  }
  out.push('', table(routeRows));
  const fleetRows: string[][] = [
    ['NODE GROUP', 'ADDRESS', 'VERSION', 'GATEWAY', 'APPLIED', 'LAST NACK'],
  ];
  for (const g of fleet.nodeGroups) {
    if (g.nodes.length === 0) fleetRows.push([g.name, g.address ?? '-', g.version, '-', '-', '-']);
    for (const n of g.nodes) {
      const nack = Object.values(n.types).find((t) => t.lastNack)?.lastNack?.message ?? '-';
      fleetRows.push([
        g.name,
        g.address ?? '-',
        g.version,
        n.id,
        n.appliedVersion === g.version ? 'yes' : (n.appliedVersion ?? 'no'),
        nack,
      ]);
    }
  }
  out.push('', table(fleetRows));
  if (status.diagnostics.length > 0) {
    out.push('', 'PROBLEMS');
    for (const d of status.diagnostics)
      out.push(
        `  ${d.file ? `${d.file}${d.line ? `:${d.line}` : ''}` : d.object}: ${d.code}: ${d.message}`,
      );
  }
  return `${out.join('\n')}\n`;
}

export async function runStatus(argv: string[]): Promise<string> {
  const { values } = parseArgs({
    args: argv,
    options: {
      admin: { type: 'string', default: '127.0.0.1:9090' },
      output: { type: 'string', short: 'o', default: 'table' },
    },
    strict: true,
  });
  const base = `http://${values.admin}`;
  const [status, fleet] = await Promise.all([
    fetch(`${base}/status`).then((r) => r.json()),
    fetch(`${base}/fleet`).then((r) => r.json()),
  ]);
  if (values.output === 'json')
    return `${JSON.stringify({ ...(status as object), fleet }, null, 2)}\n`;
  return renderStatus(status as never, fleet as never);
}
