/// <reference lib="dom" />
// One EventSource per page: the server pushes each cache change once; views subscribe by kind.
export interface Change<T = unknown> { kind: string; type: 'upsert' | 'delete'; key: string; namespace?: string; sentAt: number; item?: T }
type Listener = (change: Change) => void;

const listeners = new Set<Listener>();
let source: EventSource | undefined;

export function connectLive(onState: (state: 'open' | 'error') => void): void {
  source = new EventSource('/api/events');
  source.addEventListener('open', () => onState('open'));
  source.addEventListener('error', () => onState('error'));
  source.addEventListener('change', (e) => {
    const change = JSON.parse((e as MessageEvent<string>).data) as Change;
    for (const l of listeners) l(change);
  });
}

export function onChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
