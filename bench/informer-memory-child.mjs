// Child of the informer-memory benchmark, run on the compiled controller (dist/) as production
// runs it: measures the heap before and after one informer has listed and cached every
// VirtualMachine, and the process RSS with them cached.
import { KubeClient } from '../dist/src/kube/client.js';
import { Informer } from '../dist/src/kube/informer.js';
import { bootplaneResource } from '../dist/src/kube/resources.js';
import { silentLogger } from '../dist/src/observability/logger.js';

const [kubeconfigPath, namespace] = process.argv.slice(2);
const gc = globalThis.gc;
const client = await KubeClient.create({ kubeconfigPath, connections: 4 });
gc();
const baselineHeap = process.memoryUsage().heapUsed;
const baselineRss = process.memoryUsage().rss;
const informer = new Informer(client, bootplaneResource('VirtualMachine'), { namespace, logger: silentLogger(), resyncMs: 0 });
informer.cache.addIndex('hypervisor', (o) => [o.spec.hypervisorRef.name]);
informer.start();
await informer.waitForSync();
await new Promise((r) => setTimeout(r, 500));
gc();
gc();
const used = process.memoryUsage();
process.stdout.write(`${JSON.stringify({ objects: informer.cache.size, heapBytes: used.heapUsed - baselineHeap, rssBytes: used.rss, baselineRssBytes: baselineRss })}\n`);
await informer.stop();
await client.close();
process.exit(0);
