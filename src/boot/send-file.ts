// Sends a byte range of a file on an HTTP response. Node has no sendfile, so bytes go through
// user space; what this saves over fs.createReadStream().pipe(): two buffers per download,
// reused for every chunk (a read stream allocates a fresh one per read, and fresh memory means
// page faults the kernel has to zero), and the next chunk is read while the previous one is
// being written.
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/** 512 KiB: few system calls per megabyte, at most 1 MiB held per download. */
const CHUNK_BYTES = 512 * 1024;

export class SendFileError extends Error {
  readonly code = 'AssetShrank';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Writes bytes start..end (inclusive) of the file at `path` to `res` and ends it. Resolves with
 * the bytes written, or earlier if the client goes away; rejects if the file cannot be read or
 * is shorter than announced (the caller destroys the response: its length was promised).
 */
export async function sendFileRange(res: ServerResponse, path: string, start: number, end: number): Promise<number> {
  const file = await open(path, 'r');
  try {
    const size = end - start + 1;
    const buffers = [Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, size)), Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, size))];
    let position = start;
    let sent = 0;
    let writing: Promise<boolean> | undefined;
    for (let turn = 0; position <= end; turn ^= 1) {
      const buffer = buffers[turn]!;
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, end - position + 1), position);
      if (bytesRead === 0) throw new SendFileError(`the file ended ${end - position + 1} bytes before its announced length`);
      // The other buffer must be written out before this one is queued (it is read into next).
      if (writing && !(await writing)) return sent;
      writing = writeChunk(res, buffer.subarray(0, bytesRead));
      position += bytesRead;
      sent += bytesRead;
    }
    if (writing && !(await writing)) return sent;
    res.end();
    return sent;
  } finally {
    await file.close();
  }
}

/** Resolves true once the chunk is handed to the kernel, false if the response closed first. */
function writeChunk(res: ServerResponse, chunk: Buffer): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const closed = () => resolve(false);
    res.once('close', closed);
    res.write(chunk, (err) => {
      res.off('close', closed);
      resolve(!err);
    });
  });
}
