// The fleet provisioner: reconciles the cluster to the IR. For every node
// group of every fleet it applies the objects render.ts describes (server-
// side apply, one field manager, force) and deletes the objects of this
// installation that no node group needs any more.
//
// Contracts:
// - Work is proportional to change. Each object's rendered form is hashed;
//   an object whose hash matches the last successful apply is not sent again.
//   The objects this installation owns are listed (six label-selected lists)
//   on the first reconcile and then at most every `resyncMs`; a resync also
//   forgets the hashes, so everything is re-applied once (drift repair; the
//   API server does not write objects an apply leaves unchanged).
// - Never touches what is not its own: only the six kinds of OWNED_KINDS,
//   only objects labelled managed-by gatefleet with this installation's
//   controller-namespace and a fleet label. Before first writing a name the
//   provisioner has not seen among its own objects it reads it; an existing
//   object that is not this fleet's is left alone and reported
//   (GF_PROVISION_NAME_TAKEN). Deletes carry a UID precondition.
// - Pruning never removes objects of a fleet it skipped this round (no owning
//   Gateway known yet), of a node group whose certificate could not be
//   issued, nor the Service of a node group that has no listener for now (its
//   address survives), and it is skipped entirely when listing failed.
// - Overlapping reconcile() calls coalesce: while one runs, later calls wait
//   for one more run with the newest IR, and all of them get its report.
// - A Service of a current node group reported deleted (serviceChanged with
//   gone) is recreated by a reconcile with the last IR. The provisioner runs
//   no timer of its own: other drift is repaired by the first reconcile after
//   `resyncMs`, so the controller should also reconcile periodically.
// - The issuer is asked about a node group's certificate at most every
//   `certificateCheckMs` (and whenever none is known): a renewal or a rotated
//   CA is picked up within that time, and a burst of IR changes (endpoints)
//   costs no certificate work.
import type { IR } from '../ir/types.js';
import type { KubeObject } from '../providers/kube/kinds.js';
import type { ProviderLog } from '../providers/kube/kube-provider.js';
import type { KubeRest } from '../providers/kube/rest.js';
import {
  AddressBook,
  requestedAddressProblem,
  type AddressProblem,
  type GatewayAddress,
} from './addresses.js';
import { Applier, keyOf, objectKey, OWNED_KINDS } from './apply.js';
import { LatestWins } from './latest-wins.js';
import {
  Label,
  MANAGED_BY,
  clientSecretName,
  fleetLabel,
  nodeGroupLabel,
  objectName,
  ownedSelector,
  shortHash,
} from './names.js';
import {
  hasAutoscaling,
  placeFleet,
  renderNodeGroup,
  type FleetPlacement,
  type GatewayLookup,
} from './render.js';
import {
  FIELD_MANAGER,
  ProvisionCode,
  type ClientCertificatePems,
  type ClientCertificates,
  type ProvisionCodeValue,
  type ProvisionerSettings,
} from './settings.js';
import type { Fleet, NodeGroup } from '../ir/types.js';

export interface ProvisionerOptions {
  rest: KubeRest;
  settings: ProvisionerSettings;
  certificates: ClientCertificates;
  fieldManager?: string;
  log?: ProviderLog;
  /** An informer cache, consulted for an owned Secret's data the provisioner has not read itself. */
  current?: (kind: string, namespace: string, name: string) => KubeObject | undefined;
  /** Re-list owned objects and re-apply everything at most this often. Default 10 minutes. */
  resyncMs?: number;
  /** Node groups worked on at once. Default 4. */
  concurrency?: number;
  /** How often the issuer is asked whether a node group's certificate is still good. Default 1 minute. */
  certificateCheckMs?: number;
}

export interface ReconcileProblem {
  code: ProvisionCodeValue;
  /** `Kind namespace/name`, or the fleet / node group name. */
  object: string;
  message: string;
}

export interface ReconcileReport {
  /** Objects sent to the API server (`Kind namespace/name`), in order. */
  applied: string[];
  /** Objects whose rendered form was unchanged since their last apply (not sent). */
  unchanged: number;
  /** Objects deleted because no node group needs them. */
  pruned: string[];
  /** Fleets not provisioned this round (their objects are kept). */
  skipped: { fleet: string; code: ProvisionCodeValue; reason: string }[];
  errors: ReconcileProblem[];
  /** Requested Gateway addresses no Service asks for (see render.ts). */
  unfulfilledAddresses: { fleet: string; value: string; reason: string }[];
}

interface Known {
  uid: string;
  fleet: string;
  nodeGroup: string;
}

interface Round {
  report: ReconcileReport;
  desired: Set<string>;
  /** Fleet labels and node group labels whose objects must not be pruned this round. */
  keepFleets: Set<string>;
  keepGroups: Set<string>;
  /** Node group labels whose Service is kept although not rendered (no listener). */
  keepServices: Set<string>;
  pruneAllowed: boolean;
}

const DEFAULT_RESYNC_MS = 10 * 60_000;
const DEFAULT_CERTIFICATE_CHECK_MS = 60_000;

function decodeSecret(obj: KubeObject | undefined): ClientCertificatePems | undefined {
  const data = (obj as { data?: Record<string, string> } | undefined)?.data;
  if (!data?.['ca.crt'] || !data['tls.crt'] || !data['tls.key']) return undefined;
  const d = (k: string) => Buffer.from(data[k]!, 'base64').toString('utf8');
  return { 'ca.crt': d('ca.crt'), 'tls.crt': d('tls.crt'), 'tls.key': d('tls.key') };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class Provisioner {
  private readonly applier: Applier;
  private readonly addresses: AddressBook;
  private readonly settings: ProvisionerSettings;
  private readonly resyncMs: number;
  private readonly concurrency: number;
  private readonly certificateCheckMs: number;
  /** Owned objects in the cluster, by `Kind ns/name`. */
  private known = new Map<string, Known>();
  /** Hash of the last successfully applied form, by `Kind ns/name`. */
  private readonly lastApplied = new Map<string, string>();
  /** Client certificates last applied or read, by Secret key, and when the issuer last vouched for each. */
  private readonly certs = new Map<string, ClientCertificatePems>();
  private readonly certCheckedAt = new Map<string, number>();
  private listedAt = -Infinity;
  private lastDesired = new Set<string>();
  private lastInput?: { ir: IR; gateways: GatewayLookup };
  private readonly runner = new LatestWins<{ ir: IR; gateways: GatewayLookup }, ReconcileReport>(
    ({ ir, gateways }) => this.reconcileOnce(ir, gateways),
  );
  private stopped = false;

  constructor(private readonly opts: ProvisionerOptions) {
    this.settings = opts.settings;
    this.applier = new Applier(opts.rest, opts.fieldManager ?? FIELD_MANAGER);
    this.addresses = new AddressBook(opts.settings.controllerNamespace);
    this.resyncMs = opts.resyncMs ?? DEFAULT_RESYNC_MS;
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.certificateCheckMs = opts.certificateCheckMs ?? DEFAULT_CERTIFICATE_CHECK_MS;
  }

  /** Reconciles the cluster to the IR: applies what each fleet needs, prunes what no fleet needs. */
  reconcile(ir: IR, gateways: GatewayLookup): Promise<ReconcileReport> {
    return this.runner.run({ ir, gateways });
  }

  /** Gateway status.addresses for a fleet, from its Services (see addresses.ts). */
  addressesOf(fleet: string): GatewayAddress[] {
    return this.addresses.addressesOf(fleet);
  }

  /** Why the fleet's requested addresses are not its own (yet), from its Services (see addresses.ts). */
  addressProblemOf(fleet: Fleet): AddressProblem | undefined {
    return requestedAddressProblem(
      fleet.infrastructure.addresses,
      this.addresses.addressesOf(fleet.name),
    );
  }

  /** A Service event from the informer (`gone`: deleted). Others' Services are ignored. */
  serviceChanged(svc: KubeObject, gone = false): void {
    this.addresses.update(svc, gone);
    if (!gone) return;
    const key = keyOf({ ...svc, kind: 'Service' });
    if (!this.known.has(key)) return;
    this.known.delete(key);
    this.lastApplied.delete(key);
    if (this.lastDesired.has(key) && this.lastInput && !this.stopped) {
      const { ir, gateways } = this.lastInput;
      this.reconcile(ir, gateways).catch((e) =>
        this.log('warn', 'reconcile after a Service deletion failed', { error: message(e) }),
      );
    }
  }

  /** No reconcile starts on its own after this (a controller that lost leadership). */
  stop(): void {
    this.stopped = true;
  }

  private log(
    level: 'info' | 'warn' | 'error' | 'debug',
    msg: string,
    fields?: Record<string, unknown>,
  ) {
    this.opts.log?.(level, msg, fields);
  }

  private async reconcileOnce(ir: IR, gateways: GatewayLookup): Promise<ReconcileReport> {
    this.lastInput = { ir, gateways };
    const round: Round = {
      report: {
        applied: [],
        unchanged: 0,
        pruned: [],
        skipped: [],
        errors: [],
        unfulfilledAddresses: [],
      },
      desired: new Set(),
      keepFleets: new Set(),
      keepGroups: new Set(),
      keepServices: new Set(),
      pruneAllowed: true,
    };
    if (Date.now() - this.listedAt >= this.resyncMs) await this.relist(round);

    const work: { fleet: Fleet; group: NodeGroup; placement: FleetPlacement }[] = [];
    const names = new Map<string, string>();
    for (const fleet of ir.fleets) {
      const placement = placeFleet(fleet, gateways);
      if ('problem' in placement) {
        round.report.skipped.push({
          fleet: fleet.name,
          code: ProvisionCode.NoOwner,
          reason: placement.problem,
        });
        round.keepFleets.add(fleetLabel(fleet.name));
        continue;
      }
      for (const group of fleet.nodeGroups) {
        const where = `${placement.namespace}/${objectName(fleet, group)}`;
        const taken = names.get(where);
        if (taken !== undefined) {
          round.report.errors.push({
            code: ProvisionCode.NameCollision,
            object: group.name,
            message: `node group ${group.name} maps to ${where}, the name of node group ${taken}`,
          });
          round.keepGroups.add(nodeGroupLabel(group.name));
          continue;
        }
        names.set(where, group.name);
        work.push({ fleet, group, placement });
      }
    }
    let next = 0;
    const worker = async () => {
      while (next < work.length) {
        const item = work[next++]!;
        await this.provisionGroup(item.fleet, item.group, item.placement, round);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, work.length) }, worker));
    await this.prune(round);
    this.lastDesired = round.desired;
    const r = round.report;
    if (r.applied.length || r.pruned.length || r.errors.length)
      this.log(r.errors.length ? 'warn' : 'info', 'fleets provisioned', {
        applied: r.applied.length,
        unchanged: r.unchanged,
        pruned: r.pruned.length,
        errors: r.errors,
      });
    return r;
  }

  /** Lists every owned object; on any failure the previous knowledge of that kind stays and nothing is pruned. */
  private async relist(round: Round): Promise<void> {
    const selector = ownedSelector(this.settings.controllerNamespace);
    const known = new Map<string, Known>();
    let complete = true;
    for (const k of OWNED_KINDS) {
      let items: KubeObject[];
      try {
        items = await this.applier.list(k.kind, selector);
      } catch (e) {
        complete = false;
        round.pruneAllowed = false;
        round.report.errors.push({
          code: ProvisionCode.ListFailed,
          object: k.kind,
          message: message(e),
        });
        for (const [key, v] of this.known) if (key.startsWith(`${k.kind} `)) known.set(key, v);
        continue;
      }
      for (const o of items) {
        const labels = o.metadata?.labels ?? {};
        const key = keyOf(o);
        known.set(key, {
          uid: o.metadata?.uid ?? '',
          fleet: labels[Label.Fleet] ?? '',
          nodeGroup: labels[Label.NodeGroup] ?? '',
        });
        if (k.kind === 'Secret') {
          const pems = decodeSecret(o);
          if (pems) this.certs.set(key, pems);
        }
        if (k.kind === 'Service') this.addresses.update(o);
      }
      // Services gone since the last list (events missed) no longer give addresses.
      if (k.kind === 'Service')
        for (const key of this.known.keys())
          if (key.startsWith('Service ') && !known.has(key)) this.addresses.forget(key.slice(8));
    }
    this.known = known;
    if (complete) {
      this.listedAt = Date.now();
      this.lastApplied.clear();
    }
  }

  private existingCertificate(namespace: string, name: string): ClientCertificatePems | undefined {
    const key = objectKey('Secret', namespace, name);
    return (
      this.certs.get(key) ??
      (this.known.has(key)
        ? decodeSecret(this.opts.current?.('Secret', namespace, name))
        : undefined)
    );
  }

  private async provisionGroup(
    fleet: Fleet,
    group: NodeGroup,
    placement: FleetPlacement,
    round: Round,
  ): Promise<void> {
    const { report } = round;
    const ns = placement.namespace;
    const secretName = clientSecretName(objectName(fleet, group));
    const secretKey = objectKey('Secret', ns, secretName);
    const existing = this.existingCertificate(ns, secretName);
    let pems: ClientCertificatePems;
    try {
      const checkedAt = this.certCheckedAt.get(secretKey);
      const fresh = checkedAt !== undefined && Date.now() - checkedAt < this.certificateCheckMs;
      const issued =
        existing && fresh
          ? 'keep'
          : await this.opts.certificates.issue(group.name, existing ? { ...existing } : undefined);
      if (issued === 'keep') {
        if (!existing) throw new Error('the issuer kept a certificate that does not exist');
        pems = existing;
      } else pems = issued;
      if (!fresh) this.certCheckedAt.set(secretKey, Date.now());
    } catch (e) {
      report.errors.push({
        code: ProvisionCode.CertificateFailed,
        object: group.name,
        message: message(e),
      });
      round.keepGroups.add(nodeGroupLabel(group.name));
      return;
    }
    this.certs.set(secretKey, pems);

    const rendered = renderNodeGroup({
      fleet,
      group,
      settings: this.settings,
      placement,
      clientCertificate: pems,
    });
    for (const u of rendered.unfulfilledAddresses)
      report.unfulfilledAddresses.push({ fleet: fleet.name, ...u });
    if (!rendered.objects.some((o) => o.kind === 'Service'))
      round.keepServices.add(nodeGroupLabel(group.name));
    const fleetValue = fleetLabel(fleet.name);
    for (const obj of rendered.objects) {
      const key = keyOf(obj);
      round.desired.add(key);
      const hash = shortHash(JSON.stringify(obj), 32);
      if (this.lastApplied.get(key) === hash && this.known.has(key)) {
        report.unchanged++;
        continue;
      }
      this.lastApplied.delete(key);
      try {
        if (!this.known.has(key)) {
          const current = await this.applier.get(obj.kind!, ns, obj.metadata!.name!);
          if (current && !this.isOwnedBy(current, fleetValue)) {
            report.errors.push({
              code: ProvisionCode.NameTaken,
              object: key,
              message: `${key} exists and is not gatefleet's object for fleet ${fleet.name}; it is left alone`,
            });
            continue;
          }
        } else if (obj.kind === 'Deployment' && hasAutoscaling(fleet)) {
          await this.applier.handOffReplicas(ns, obj.metadata!.name!);
        }
        const applied = await this.applyOrRecreate(obj, key);
        report.applied.push(key);
        this.lastApplied.set(key, hash);
        this.known.set(key, {
          uid: applied.metadata?.uid ?? '',
          fleet: fleetValue,
          nodeGroup: nodeGroupLabel(group.name),
        });
        if (obj.kind === 'Service') this.addresses.update(applied);
      } catch (e) {
        report.errors.push({ code: ProvisionCode.ApplyFailed, object: key, message: message(e) });
      }
    }
  }

  private isOwnedBy(obj: KubeObject, fleetValue: string): boolean {
    const labels = obj.metadata?.labels ?? {};
    return (
      labels[Label.ManagedBy] === MANAGED_BY &&
      labels[Label.ControllerNamespace] === this.settings.controllerNamespace &&
      labels[Label.Fleet] === fleetValue
    );
  }

  /** A Service whose requested cluster IP changed is deleted and created again (spec.clusterIP is immutable). */
  private async applyOrRecreate(obj: KubeObject, key: string): Promise<KubeObject> {
    try {
      return await this.applier.apply(obj);
    } catch (e) {
      const known = this.known.get(key);
      const spec = obj.spec as { clusterIP?: string } | undefined;
      const immutableIp =
        obj.kind === 'Service' && spec?.clusterIP !== undefined && /clusterIP/i.test(message(e));
      if (!immutableIp || !known) throw e;
      this.log('info', 'recreating a Service for its requested cluster IP', { service: key });
      await this.applier.delete(
        'Service',
        obj.metadata!.namespace!,
        obj.metadata!.name!,
        known.uid,
      );
      this.known.delete(key);
      return await this.applier.apply(obj);
    }
  }

  private async prune(round: Round): Promise<void> {
    if (!round.pruneAllowed) return;
    for (const [key, info] of [...this.known]) {
      if (round.desired.has(key)) continue;
      if (round.keepFleets.has(info.fleet) || round.keepGroups.has(info.nodeGroup)) continue;
      const [kind, where] = key.split(' ') as [string, string];
      if (kind === 'Service' && round.keepServices.has(info.nodeGroup)) continue;
      const [namespace, name] = where.split('/') as [string, string];
      try {
        await this.applier.delete(kind, namespace, name, info.uid);
        round.report.pruned.push(key);
      } catch (e) {
        round.report.errors.push({
          code: ProvisionCode.PruneFailed,
          object: key,
          message: message(e),
        });
        continue;
      }
      this.known.delete(key);
      this.lastApplied.delete(key);
      if (kind === 'Secret') {
        this.certs.delete(key);
        this.certCheckedAt.delete(key);
      }
      if (kind === 'Service') this.addresses.forget(`${namespace}/${name}`);
    }
  }
}
