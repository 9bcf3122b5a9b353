// The in-guest phase of a VirtualMachine reconcile, through the QEMU guest agent: wait for the
// agent (spec.guestAgent.timeoutSeconds) -> guest facts (os-release PRETTY_NAME, host name,
// addresses) -> cloud-init status --long where cloud-init is installed -> NFS shares -> files.
// It runs only for VMs that ask for it (spec.guestAgent, spec.nfsMounts or spec.files), only
// while the VM runs, and never in safe mode or while the object is being deleted. It returns
// conditions and status.guest; the reconciler writes them with the rest of the status.
import type { Condition } from '../../api/v1alpha1/common.js';
import type { VirtualMachine, VirtualMachineSpec, VirtualMachineStatus } from '../../api/v1alpha1/virtual-machine.js';
import type { HypervisorDriver, VmRef } from '../../hypervisors/driver.js';
import type { GuestAgent } from '../../hypervisors/guest-agent.js';
import type { ConditionUpdate } from '../../kube/conditions.js';
import type { ReconcileContext } from '../../kube/controller.js';
import { errorMessage } from '../../kube/errors.js';
import type { ObservedVm } from '../../planning/model.js';
import type { ResourceStore } from '../../store/store.js';
import { AGENT_POLL_MS, AGENT_RETRY_AFTER_TIMEOUT_MS, agentWait } from './guest-agent-wait.js';
import { cloudInitCondition, parseCloudInitStatus } from './guest-cloud-init.js';
import { parseOsRelease, reportedAddresses, type OsRelease } from './guest-facts.js';
import { injectFiles, resolveFiles } from './guest-files.js';
import { convergeNfs } from './guest-nfs.js';
import { GuestSession } from './guest-session.js';

type GuestStatus = NonNullable<VirtualMachineStatus['guest']>;

/** Retry of a failed step (mount, write) or a cloud-init still running. */
const STEP_RETRY_MS = 30_000;

export interface GuestPhaseInput {
  store: ResourceStore;
  vm: VirtualMachine;
  spec: VirtualMachineSpec;
  driver: HypervisorDriver;
  ref: VmRef;
  observed: ObservedVm;
  hypervisorType: 'proxmox' | 'libvirt';
  where: string;
  /** Re-queues this VM when a ConfigMap or Secret it reads changes (one function per VM). */
  onSourceChange: () => void;
  ctx: ReconcileContext;
}

export interface GuestPhaseOutcome {
  updates: ConditionUpdate[];
  guest?: GuestStatus;
  requeueAfterMs?: number;
}

/** Whether the VM asks for anything from inside its guest. */
export function guestPhaseWanted(spec: VirtualMachineSpec, status: VirtualMachineStatus | undefined): boolean {
  if (spec.guestAgent?.enabled === false) return false;
  return spec.guestAgent !== undefined || spec.nfsMounts !== undefined || spec.files !== undefined
    // Shares or files that left the spec still have their fstab lines to remove.
    || status?.guest?.mountsHash !== undefined;
}

export async function runGuestPhase(input: GuestPhaseInput): Promise<GuestPhaseOutcome> {
  const { vm, spec, driver, ref, observed, where, ctx } = input;
  const previous = vm.status?.guest;
  const conditions = vm.status?.conditions ?? [];
  if (!driver.guestAgent) {
    return { updates: [{ type: 'GuestAgentReady', status: 'False', reason: 'NotSupported', message: 'This hypervisor driver has no guest agent access.' }] };
  }
  if (observed.power !== 'Running') {
    // Unknown, not False: the wait (and its timeout) starts when the VM is seen running.
    // Soon when bootplane is starting it (spec.powerState), else at the slow pace.
    const requeueAfterMs = spec.powerState === 'Running' ? AGENT_POLL_MS : AGENT_RETRY_AFTER_TIMEOUT_MS;
    return { guest: previous, requeueAfterMs, updates: [{ type: 'GuestAgentReady', status: 'Unknown', reason: 'VmNotRunning', message: `${where} is not running; the guest agent is asked once it runs.` }] };
  }
  const agent = driver.guestAgent(ref);
  try {
    await agent.ping(ctx.signal);
  } catch (err) {
    const wait = agentWait(find(conditions, 'GuestAgentReady'), spec.guestAgent?.timeoutSeconds ?? 300, { code: codeOf(err), message: errorMessage(err) }, where, input.hypervisorType);
    return { guest: previous, updates: [wait.condition], requeueAfterMs: wait.requeueAfterMs };
  }

  const updates: ConditionUpdate[] = [{ type: 'GuestAgentReady', status: 'True', reason: 'Connected', message: `The QEMU guest agent of ${where} answers.` }];
  let requeueAfterMs: number | undefined;
  const retrySoon = () => { requeueAfterMs = Math.min(requeueAfterMs ?? STEP_RETRY_MS, STEP_RETRY_MS); };
  const session = new GuestSession(agent, ctx);
  const facts = await readFacts(agent, ctx);
  const guest: GuestStatus = { ...pick(previous, ['filesHash', 'mountsHash']), ...facts.status };

  const cloudInit = await readCloudInit(session);
  if (cloudInit) {
    guest.cloudInit = cloudInit.report;
    updates.push(cloudInit.condition);
    if (cloudInit.condition.reason === 'Running') retrySoon();
  }

  if (spec.nfsMounts !== undefined || previous?.mountsHash !== undefined) {
    const mounts = (spec.nfsMounts ?? []).map((m) => ({ server: m.server, export: m.export, mountPath: m.mountPath, options: m.options ?? 'defaults' }));
    const nfs = await convergeNfs(session, mounts, previous?.mountsHash, facts.os);
    updates.push(nfs.condition);
    if (nfs.hash !== undefined) guest.mountsHash = nfs.hash;
    if (nfs.retry) retrySoon();
    // Everything bootplane wrote is gone: nothing left to look after.
    if (spec.nfsMounts === undefined && nfs.hash !== undefined) delete guest.mountsHash;
  }

  if (spec.files !== undefined) {
    const files = await resolveFiles(input.store, vm.metadata.namespace!, spec.files.map((f) => ({ ...f, mode: f.mode ?? '0644', owner: f.owner ?? 'root:root' })), input.onSourceChange);
    if (!Array.isArray(files)) {
      updates.push(files);
      // The watch on the ConfigMap or Secret brings the VM back when it appears.
      if (files.reason === 'SourceUnreadable') retrySoon();
    } else {
      const outcome = await injectFiles(session, files, previous?.filesHash);
      updates.push(outcome.condition);
      if (outcome.hash !== undefined) guest.filesHash = outcome.hash;
      if (outcome.retry) retrySoon();
    }
  }
  if (session.writes > 0) ctx.log.info({ writes: session.writes }, 'guest changed through the agent');
  return { updates, guest, requeueAfterMs };
}

async function readFacts(agent: GuestAgent, ctx: ReconcileContext): Promise<{ status: Partial<GuestStatus>; os?: OsRelease }> {
  const status: Partial<GuestStatus> = {};
  let os: OsRelease | undefined;
  // Each fact on its own: a guest without one of these programs still reports the others.
  try {
    const release = await agent.exec(['cat', '/etc/os-release'], { timeoutMs: 30_000 }, ctx.signal);
    if (release.exitCode === 0) {
      os = parseOsRelease(release.stdout);
      if (os.prettyName) status.osRelease = os.prettyName;
    }
  } catch (err) {
    ctx.log.debug({ err: errorMessage(err) }, 'could not read /etc/os-release in the guest');
  }
  try {
    const hostname = await agent.exec(['hostname'], { timeoutMs: 30_000 }, ctx.signal);
    const name = hostname.stdout.trim();
    if (hostname.exitCode === 0 && name) status.hostname = name.slice(0, 253);
  } catch (err) {
    ctx.log.debug({ err: errorMessage(err) }, 'could not read the guest host name');
  }
  try {
    status.ipAddresses = reportedAddresses(await agent.networkInterfaces(ctx.signal));
  } catch (err) {
    ctx.log.debug({ err: errorMessage(err) }, 'could not list the guest network interfaces');
  }
  return { status, os };
}

async function readCloudInit(session: GuestSession): Promise<{ report: ReturnType<typeof parseCloudInitStatus>; condition: ConditionUpdate } | undefined> {
  try {
    const result = await session.read(['cloud-init', 'status', '--long'], 60_000);
    const report = parseCloudInitStatus(result.stdout);
    return { report, condition: cloudInitCondition(report) };
  } catch (err) {
    if (codeOf(err) === 'GuestCommandNotFound') return undefined; // no cloud-init in this guest
    return { report: { status: 'unknown' }, condition: { type: 'CloudInitFinished', status: 'Unknown', reason: 'StatusUnreadable', message: `cloud-init status --long failed: ${errorMessage(err)}` } };
  }
}

function find(conditions: readonly Condition[], type: string): Condition | undefined {
  return conditions.find((c) => c.type === type);
}

function pick<T extends object, K extends keyof T>(obj: T | undefined, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj?.[k] !== undefined) out[k] = obj[k];
  return out;
}

function codeOf(err: unknown): string {
  return (err as { code?: string }).code ?? 'Error';
}
