// SIMULATOR ONLY. A throw-away self-signed certificate for the simulator's HTTPS listener,
// made with the openssl CLI (Node can verify certificates but not issue them).
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCertificate {
  cert: string;
  key: string;
  /** AA:BB:... as PVE shows node fingerprints. */
  fingerprintSHA256: string;
}

export function selfSignedCertificate(commonName = 'pve-simulator'): SelfSignedCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'pve-sim-cert-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${commonName}`,
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore' });
    const cert = readFileSync(certPath, 'utf8');
    return { cert, key: readFileSync(keyPath, 'utf8'), fingerprintSHA256: new X509Certificate(cert).fingerprint256 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
