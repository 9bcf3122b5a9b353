// Why an image could not be made ready for a session; each code is a condition reason.
export type ImageErrorCode = 'ImageNotFound' | 'ImageChecksumMismatch' | 'ImageDownloadFailed' | 'DiskFull' | 'ImageCopyFailed';

export class ImageError extends Error {
  constructor(readonly code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isNoSpace(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC' || (err as NodeJS.ErrnoException | undefined)?.code === 'EDQUOT';
}
