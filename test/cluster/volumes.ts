// A pod's volumes as directories on this machine, as the kubelet would mount
// them: Secret, ConfigMap, downward API, projected (service-account token
// through the TokenRequest API, ConfigMap, Secret, downward API), emptyDir and
// hostPath. The pod's processes see each at its mountPath through a bind mount
// (see pod-process.ts). A missing Secret or ConfigMap that is not optional
// keeps the pod waiting, as it does on a kubelet.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KubeObject } from '../../controller/providers/kube/kinds.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface VolumeSources {
  secret(namespace: string, name: string): KubeObject | undefined;
  configMap(namespace: string, name: string): KubeObject | undefined;
  /** A bound service-account token (TokenRequest API). */
  token(pod: Any, audience: string | undefined, expirationSeconds: number): Promise<string>;
}

/** The pod cannot start yet (a referenced object is missing); the message is the reason. */
export class VolumeNotReady extends Error {}

interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

function writeFile(dir: string, path: string, data: Buffer, mode: number): void {
  if (path.split('/').includes('..')) throw new Error(`volume path ${path} escapes the volume`);
  const file = join(dir, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, data);
  chmodSync(file, mode & 0o777);
}

/** The data of a Secret or ConfigMap as bytes per key. */
function objectData(kind: 'Secret' | 'ConfigMap', o: KubeObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const data = (o.data ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(data)) {
    out.set(k, kind === 'Secret' ? Buffer.from(v, 'base64') : Buffer.from(v, 'utf8'));
  }
  for (const [k, v] of Object.entries((o.binaryData ?? {}) as Record<string, string>)) {
    out.set(k, Buffer.from(v, 'base64'));
  }
  return out;
}

function writeKeys(
  dir: string,
  what: string,
  data: Map<string, Buffer>,
  items: KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
): void {
  if (!items) {
    for (const [k, v] of data) writeFile(dir, k, v, defaultMode);
    return;
  }
  for (const item of items) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (optional) continue;
      throw new VolumeNotReady(`${what} has no key ${item.key}`);
    }
    writeFile(dir, item.path, v, item.mode ?? defaultMode);
  }
}

/** The value of a downward-API fieldRef (env and volumes share it). */
export function fieldRefValue(pod: Any, fieldPath: string): string {
  const md = pod.metadata ?? {};
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (labelOrAnnotation) {
    const map = (md[labelOrAnnotation[1]!] ?? {}) as Record<string, string>;
    return map[labelOrAnnotation[2]!] ?? '';
  }
  const kv = (m: Record<string, string> | undefined) =>
    Object.entries(m ?? {})
      .map(([k, v]) => `${k}="${v}"`)
      .join('\n');
  switch (fieldPath) {
    case 'metadata.name':
      return md.name ?? '';
    case 'metadata.namespace':
      return md.namespace ?? '';
    case 'metadata.uid':
      return md.uid ?? '';
    case 'metadata.labels':
      return kv(md.labels);
    case 'metadata.annotations':
      return kv(md.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.podIPs':
      return pod.status?.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return pod.status?.hostIP ?? '';
    default:
      throw new Error(`fieldRef ${fieldPath} is not supported by the local node agent`);
  }
}

async function projected(
  pod: Any,
  dir: string,
  source: Any,
  sources: VolumeSources,
  defaultMode: number,
): Promise<void> {
  const ns = pod.metadata.namespace as string;
  for (const s of (source.sources ?? []) as Any[]) {
    if (s.serviceAccountToken) {
      const t = s.serviceAccountToken;
      const token = await sources.token(pod, t.audience, t.expirationSeconds ?? 3600);
      writeFile(dir, t.path, Buffer.from(token), defaultMode);
    } else if (s.configMap) {
      const cm = sources.configMap(ns, s.configMap.name);
      if (!cm) {
        if (s.configMap.optional) continue;
        throw new VolumeNotReady(`configmap "${s.configMap.name}" not found`);
      }
      const what = `configmap ${s.configMap.name}`;
      writeKeys(dir, what, objectData('ConfigMap', cm), s.configMap.items, defaultMode, false);
    } else if (s.secret) {
      const sec = sources.secret(ns, s.secret.name);
      if (!sec) {
        if (s.secret.optional) continue;
        throw new VolumeNotReady(`secret "${s.secret.name}" not found`);
      }
      writeKeys(
        dir,
        `secret ${s.secret.name}`,
        objectData('Secret', sec),
        s.secret.items,
        defaultMode,
        false,
      );
    } else if (s.downwardAPI) {
      downward(pod, dir, s.downwardAPI.items ?? [], defaultMode);
    } else {
      throw new Error(`projected source ${Object.keys(s).join(',')} is not supported`);
    }
  }
}

function downward(pod: Any, dir: string, items: Any[], defaultMode: number): void {
  for (const item of items) {
    if (!item.fieldRef) throw new Error('downwardAPI volumes support fieldRef items only');
    const value = fieldRefValue(pod, item.fieldRef.fieldPath);
    writeFile(dir, item.path, Buffer.from(value), item.mode ?? defaultMode);
  }
}

/**
 * Writes every volume of the pod under `root/<volume>`; returns volume name →
 * directory (hostPath volumes: the host path). Throws VolumeNotReady while a
 * referenced object is missing, Error for what this agent cannot do.
 */
export async function materializeVolumes(
  pod: Any,
  root: string,
  sources: VolumeSources,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ns = pod.metadata.namespace as string;
  for (const v of (pod.spec.volumes ?? []) as Any[]) {
    const dir = join(root, v.name);
    if (v.hostPath) {
      out.set(v.name, v.hostPath.path);
      continue;
    }
    if (v.emptyDir) {
      mkdirSync(dir, { recursive: true }); // kept across container restarts
      out.set(v.name, dir);
      continue;
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    out.set(v.name, dir);
    if (v.secret) {
      const sec = sources.secret(ns, v.secret.secretName);
      if (!sec) {
        if (v.secret.optional) continue;
        throw new VolumeNotReady(`secret "${v.secret.secretName}" not found`);
      }
      const what = `secret ${v.secret.secretName}`;
      const data = objectData('Secret', sec);
      writeKeys(
        dir,
        what,
        data,
        v.secret.items,
        v.secret.defaultMode ?? 0o644,
        !!v.secret.optional,
      );
    } else if (v.configMap) {
      const cm = sources.configMap(ns, v.configMap.name);
      if (!cm) {
        if (v.configMap.optional) continue;
        throw new VolumeNotReady(`configmap "${v.configMap.name}" not found`);
      }
      const what = `configmap ${v.configMap.name}`;
      const data = objectData('ConfigMap', cm);
      writeKeys(
        dir,
        what,
        data,
        v.configMap.items,
        v.configMap.defaultMode ?? 0o644,
        !!v.configMap.optional,
      );
    } else if (v.projected) {
      await projected(pod, dir, v.projected, sources, v.projected.defaultMode ?? 0o644);
    } else if (v.downwardAPI) {
      downward(pod, dir, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode ?? 0o644);
    } else {
      const type = Object.keys(v)
        .filter((k) => k !== 'name')
        .join(',');
      throw new Error(`volume ${v.name}: type ${type} is not supported by the local node agent`);
    }
  }
  return out;
}
