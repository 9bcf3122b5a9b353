// Progress of a running PVE task from its log. download-url runs wget with dot progress, whose
// lines end in a percentage ("  32768K ........ ........  48% 95.1M 1s"); the last such line
// is how far the download is. Tasks that log no percentage have no known progress.

const PERCENT = /\s(\d{1,3})%(?:\s|$)/;

export function taskLogProgress(lines: readonly string[]): number | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = PERCENT.exec(lines[i]!);
    if (m) return Math.min(100, Number(m[1]));
  }
  return undefined;
}
