// Files written into the guest (spec.files) from ConfigMaps and Secrets. The content is resolved
// from the store (a change to the ConfigMap or Secret re-queues the VM), hashed, and compared
// with status.guest.filesHash: equal means nothing to do and no agent call. Otherwise the guest's
// files are read back (sha256sum, stat) and only those whose content, mode or owner differ are
// written. Content never reaches status, logs, Events or messages: only paths and hashes do.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { ConditionUpdate } from '../../kube/conditions.js';
import { errorMessage } from '../../kube/errors.js';
import type { ResourceStore } from '../../store/store.js';
import type { GuestSession } from './guest-session.js';

export interface InjectedFileSpec {
  path: string;
  mode: string;
  owner: string;
  configMapRef?: { name: string; key: string };
  secretRef?: { name: string; key: string };
}

export interface ResolvedFile {
  path: string;
  mode: string;
  owner: string;
  content: Buffer;
  sha256: string;
}

export interface FilesOutcome {
  condition: ConditionUpdate;
  hash?: string;
  retry: boolean;
}

/** Reads every file's source; a missing one is named (kind, name, key) in the condition. */
export async function resolveFiles(store: ResourceStore, namespace: string, files: readonly InjectedFileSpec[], onChange: () => void): Promise<ResolvedFile[] | ConditionUpdate> {
  const out: ResolvedFile[] = [];
  for (const f of files) {
    const source = f.secretRef ? `Secret ${namespace}/${f.secretRef.name} key ${f.secretRef.key}` : `ConfigMap ${namespace}/${f.configMapRef?.name} key ${f.configMapRef?.key}`;
    let value: string | undefined;
    try {
      if (f.secretRef) value = (await store.getSecret(namespace, f.secretRef.name, onChange))?.data[f.secretRef.key];
      else if (f.configMapRef) {
        if (!store.getConfigMap) return { type: 'FilesInjected', status: 'False', reason: 'NotSupported', message: `This store cannot read ConfigMaps (${f.path} from ${source}).` };
        value = (await store.getConfigMap(namespace, f.configMapRef.name, onChange))?.data[f.configMapRef.key];
      }
    } catch (err) {
      return { type: 'FilesInjected', status: 'False', reason: 'SourceUnreadable', message: `${source} (for ${f.path}) could not be read: ${errorMessage(err)}` };
    }
    if (value === undefined) return { type: 'FilesInjected', status: 'False', reason: 'SourceMissing', message: `${source} (for ${f.path}) does not exist.` };
    const content = Buffer.from(value, 'utf8');
    out.push({ path: f.path, mode: f.mode, owner: f.owner, content, sha256: createHash('sha256').update(content).digest('hex') });
  }
  return out;
}

/** status.guest.filesHash: paths, modes, owners and content hashes (never content). */
export function filesHash(files: readonly ResolvedFile[]): string {
  return createHash('sha256').update(JSON.stringify(files.map((f) => [f.path, normalMode(f.mode), f.owner, f.sha256]))).digest('hex').slice(0, 32);
}

export async function injectFiles(session: GuestSession, files: readonly ResolvedFile[], previousHash: string | undefined): Promise<FilesOutcome> {
  const hash = filesHash(files);
  const summary = `${files.length} file(s): ${files.map((f) => f.path).join(', ')}`.slice(0, 900);
  if (hash === previousHash) return { hash, retry: false, condition: { type: 'FilesInjected', status: 'True', reason: 'UpToDate', message: `The guest holds ${summary}.` } };
  if (files.length === 0) return { hash, retry: false, condition: { type: 'FilesInjected', status: 'True', reason: 'UpToDate', message: 'No files are declared.' } };
  try {
    const paths = files.map((f) => f.path);
    const sums = parseColumns((await session.read(['sha256sum', ...paths])).stdout, (line) => /^([0-9a-f]{64})\s+\*?(.+)$/.exec(line));
    const stats = parseColumns((await session.read(['stat', '-c', '%a %U:%G %n', ...paths])).stdout, (line) => /^([0-7]+ \S+) (.+)$/.exec(line));
    let written = 0;
    for (const f of files) {
      const [mode, owner] = (stats.get(f.path) ?? ' ').split(' ');
      if (sums.get(f.path) !== f.sha256) {
        await session.change(['mkdir', '-p', posix.dirname(f.path)]);
        await session.replaceFile(f.path, f.content, f.mode, f.owner);
        written++;
        continue;
      }
      if (!sameOwner(owner, f.owner)) { await session.change(['chown', f.owner, f.path]); written++; }
      if (mode === undefined || normalMode(mode) !== normalMode(f.mode)) { await session.change(['chmod', f.mode, f.path]); written++; }
    }
    return { hash, retry: false, condition: { type: 'FilesInjected', status: 'True', reason: written ? 'Written' : 'UpToDate', message: `The guest holds ${summary}.` } };
  } catch (err) {
    return { retry: true, condition: { type: 'FilesInjected', status: 'False', reason: 'WriteFailed', message: `Writing files into the guest failed: ${errorMessage(err)}` } };
  }
}

function parseColumns(text: string, match: (line: string) => RegExpExecArray | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = match(line);
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}

function normalMode(mode: string): number {
  return parseInt(mode, 8);
}

/** spec owner "user" matches any group; "user:group" must match both. */
function sameOwner(seen: string | undefined, wanted: string): boolean {
  if (!seen) return false;
  return wanted.includes(':') ? seen === wanted : seen.split(':')[0] === wanted;
}
