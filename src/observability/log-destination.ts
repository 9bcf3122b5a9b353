// Where log lines go by default: pino's asynchronous file writer (SonicBoom) on stdout or a
// file, behind a batcher that joins the lines of up to 10 ms into one write. SonicBoom measures
// its pending buffer (Buffer.byteLength of a growing string) on every write, and each of its
// writes is a hand-off to libuv's thread pool; under a flood of boot requests, each with its
// audit line, that cost more than formatting the line. Joined first, it is paid once per batch.
// Lines are flushed synchronously on exit.
import { pino } from 'pino';

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * How long a line may wait for others (each write is a hand-off to libuv's thread pool, so
 * fewer is cheaper), and how much may wait.
 */
const BATCH_MS = 10;
const MAX_BATCH_CHARS = 64 * 1024;

const open = new Set<BatchedLineDestination>();
let exitHooked = false;

export class BatchedLineDestination {
  private lines: string[] = [];
  private pendingChars = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly sink: SonicBoom;

  /** dest: a file descriptor (1 is stdout) or a file path. */
  constructor(dest: number | string = 1) {
    this.sink = pino.destination({ dest, sync: false });
    open.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', () => {
        for (const d of open) {
          try {
            d.flushSync();
          } catch {
            // A file still being opened (a path destination) cannot be written synchronously.
          }
        }
      });
    }
  }

  /** pino calls this with one serialized line (newline included). */
  write(line: string): boolean {
    this.lines.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= MAX_BATCH_CHARS) this.drain();
    else this.timer ??= setTimeout(this.drain, BATCH_MS);
    return true;
  }

  private readonly drain = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.lines;
    if (lines.length === 0) return;
    this.lines = [];
    this.pendingChars = 0;
    this.sink.write(lines.length === 1 ? lines[0]! : lines.join(''));
  };

  /** Hands everything to the file now and waits for it to be written. */
  flushSync(): void {
    this.drain();
    this.sink.flushSync();
  }

  flush(callback?: (err?: Error) => void): void {
    this.drain();
    this.sink.flush(callback);
  }

  end(): void {
    this.drain();
    open.delete(this);
    this.sink.end();
  }
}
