// The console's actions as pure functions: an action and the cached objects in, the change out —
// the object before and after (shown as a diff before anything is written), and what to send:
// a JSON merge patch of spec, a new object, or a deletion. Bad input is an ActionError naming
// the field. Writing is someone else's job (writers.ts).
import { stringify } from 'yaml';
import { z } from 'zod';
import { BootPreset } from '../api/v1alpha1/virtual-machine.js';
import type { IsoAttachment } from '../api/v1alpha1/iso-attachment.js';
import type { NodeBootAssignment } from '../api/v1alpha1/node-boot-assignment.js';
import type { VirtualMachine } from '../api/v1alpha1/virtual-machine.js';
import { SLOT_PATTERN } from '../api/v1alpha1/common.js';
import { mergePatch } from '../kube/merge-patch.js';
import type { KubeObject } from '../kube/object.js';
import { lineDiff } from './diff.js';
import { gitOpsManager, type GitOpsManager } from './gitops.js';

const slot = z.string().regex(new RegExp(SLOT_PATTERN), 'expected a device slot such as scsi0, ide2 or net0');
const name = z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'expected a Kubernetes object name');
const target = { namespace: name, name };

export const ActionRequest = z.discriminatedUnion('action', [
  z.object({ action: z.literal('bootOrder'), ...target, preset: BootPreset.optional(), devices: z.array(slot).min(1).max(16).optional() })
    .refine((a) => (a.preset === undefined) !== (a.devices === undefined), { message: 'give preset or devices, not both and not neither', path: ['devices'] }),
  z.object({ action: z.literal('bootOnceNetwork'), ...target }),
  z.object({ action: z.literal('markInstalled'), ...target }),
  z.object({
    action: z.literal('attachIso'), ...target,
    volume: z.string().min(1).max(1024),
    slot: z.union([z.literal('auto'), slot]).default('auto'),
    purpose: z.enum(['installer', 'drivers', 'answer', 'rescue']).default('installer'),
  }),
  z.object({ action: z.literal('detachIso'), ...target, attachment: name }),
]);
export type ActionRequest = z.infer<typeof ActionRequest>;

export class ActionError extends Error {
  readonly code = 'ActionError';
  constructor(readonly status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface PlannedChange {
  kind: 'VirtualMachine' | 'IsoAttachment' | 'NodeBootAssignment';
  namespace: string;
  name: string;
  operation: 'patch' | 'create' | 'delete';
  /** patch: JSON merge patch; create: the new object. */
  patch?: Record<string, unknown>;
  /** patch: the whole spec after the patch. */
  spec?: Record<string, unknown>;
  object?: KubeObject;
  /** The object as it would be written, before and after, as YAML; and their diff. */
  before: string;
  after: string;
  diff: string;
  /** Set when a GitOps tool owns the object: commit `after` instead of writing. */
  gitOps?: GitOpsManager;
}

export interface ActionObjects {
  vm(namespace: string, name: string): VirtualMachine | undefined;
  attachment(namespace: string, name: string): IsoAttachment | undefined;
  /** The NodeBootAssignments whose spec.vmRef names this VM. */
  assignments(namespace: string, vmName: string): NodeBootAssignment[];
}

/** What a person edits: the manifest, without status or server-set metadata. */
export function manifestView(obj: KubeObject | undefined): Record<string, unknown> | undefined {
  if (!obj) return undefined;
  const { labels, annotations, name: n, namespace } = obj.metadata;
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { name: n, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) },
    spec: obj.spec,
  };
}

function yamlOf(obj: Record<string, unknown> | undefined): string {
  return obj ? stringify(obj, { lineWidth: 0 }) : '';
}

function specChange(vm: VirtualMachine | NodeBootAssignment, edit: (spec: Record<string, unknown>) => void): PlannedChange {
  const before = manifestView(vm)!;
  const spec = structuredClone(vm.spec) as Record<string, unknown>;
  edit(spec);
  const after = { ...before, spec };
  const patch = { spec: mergePatch(vm.spec, spec) as Record<string, unknown> };
  const change: PlannedChange = {
    kind: vm.kind, namespace: vm.metadata.namespace ?? 'default', name: vm.metadata.name, operation: 'patch', patch, spec,
    before: yamlOf(before), after: yamlOf(after), diff: lineDiff(yamlOf(before), yamlOf(after)),
  };
  const gitOps = gitOpsManager(vm);
  if (gitOps) change.gitOps = gitOps;
  return change;
}

/** An ISO attachment's name from the VM and the volume: readable and stable for the same request. */
export function attachmentName(vmName: string, volume: string): string {
  const base = volume.split(/[/:]/).pop()!.replace(/\.iso$/i, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return `${vmName}-${base || 'iso'}`.slice(0, 63).replace(/-+$/, '');
}

export function planAction(request: ActionRequest, objects: ActionObjects): PlannedChange {
  const vm = objects.vm(request.namespace, request.name);
  if (!vm) throw new ActionError(404, `VirtualMachine ${request.namespace}/${request.name} is not in the cache`);
  switch (request.action) {
    case 'bootOrder':
      return specChange(vm, (spec) => {
        const current = (spec.bootOrder ?? {}) as Record<string, unknown>;
        const next: Record<string, unknown> = { ...current };
        delete next.preset;
        delete next.devices;
        if (request.preset) next.preset = request.preset;
        else next.devices = request.devices;
        spec.bootOrder = next;
      });
    case 'bootOnceNetwork': {
      // One network boot is what a boot-once NodeBootAssignment does: while its epoch is unused
      // the VM boots from the network first; after the one boot it is back on its own order.
      const bound = objects.assignments(request.namespace, vm.metadata.name).filter((a) => !a.metadata.deletionTimestamp);
      if (bound.length !== 1) {
        throw new ActionError(409, bound.length === 0
          ? `no NodeBootAssignment names VirtualMachine ${request.namespace}/${request.name} in spec.vmRef: create one that binds it to a BootProfile, then boot once from the network`
          : `${bound.length} NodeBootAssignments name VirtualMachine ${request.namespace}/${request.name}; change the one you mean by hand`);
      }
      return specChange(bound[0]!, (spec) => {
        spec.bootMode = 'Once';
        spec.state = 'Enabled';
        spec.bootOnceEpoch = ((spec.bootOnceEpoch as number | undefined) ?? 0) + 1;
      });
    }
    case 'markInstalled':
      if (!vm.spec.install) throw new ActionError(400, `VirtualMachine ${request.namespace}/${request.name} has no spec.install: there is no install to mark complete`);
      return specChange(vm, (spec) => {
        spec.install = { ...(spec.install as Record<string, unknown>), markedInstalled: true };
      });
    case 'attachIso': {
      const attachmentNameValue = attachmentName(vm.metadata.name, request.volume);
      if (objects.attachment(request.namespace, attachmentNameValue)) {
        throw new ActionError(409, `IsoAttachment ${request.namespace}/${attachmentNameValue} already attaches ${request.volume} to this VM`);
      }
      const object: KubeObject = {
        apiVersion: 'bootplane.io/v1alpha1',
        kind: 'IsoAttachment',
        metadata: { name: attachmentNameValue, namespace: request.namespace },
        spec: { vmRef: { name: vm.metadata.name }, source: { volume: request.volume }, slot: request.slot, purpose: request.purpose },
      };
      const after = yamlOf(manifestView(object));
      const change: PlannedChange = { kind: 'IsoAttachment', namespace: request.namespace, name: attachmentNameValue, operation: 'create', object, before: '', after, diff: lineDiff('', after) };
      const gitOps = gitOpsManager(vm);
      if (gitOps) change.gitOps = gitOps;
      return change;
    }
    case 'detachIso': {
      const iso = objects.attachment(request.namespace, request.attachment);
      if (!iso || iso.spec.vmRef.name !== vm.metadata.name) {
        throw new ActionError(404, `IsoAttachment ${request.namespace}/${request.attachment} does not attach an ISO to VirtualMachine ${request.name}`);
      }
      const before = yamlOf(manifestView(iso));
      const change: PlannedChange = { kind: 'IsoAttachment', namespace: request.namespace, name: iso.metadata.name, operation: 'delete', before, after: '', diff: lineDiff(before, '') };
      const gitOps = gitOpsManager(iso);
      if (gitOps) change.gitOps = gitOps;
      return change;
    }
  }
}
