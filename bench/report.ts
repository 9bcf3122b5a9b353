// Every benchmark prints one JSON line per result: {"name","unit","value",...}; where a peer or
// a ceiling is measured in the same run, also "peer", "peerValue" and "ratio".
export interface BenchResult {
  name: string;
  unit: string;
  value: number;
  peer?: string;
  peerValue?: number;
  ratio?: number;
  [key: string]: unknown;
}

export function report(result: BenchResult): void {
  const rounded = Object.fromEntries(Object.entries(result).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1000) / 1000 : v]));
  process.stdout.write(`${JSON.stringify(rounded)}\n`);
}
