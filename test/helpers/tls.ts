/**
 * Certificates for TLS tests, made with `openssl` in a temporary directory at test time: a CA,
 * leaf certificates it signs (server certificates with the names given as subjectAltName, client
 * certificates), and a second, unrelated CA for "wrong CA" cases. EC P-256 keys, so it is fast.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** The CA certificate that signed every leaf below. */
  ca: string;
  /** A CA that signed nothing here. */
  otherCa: string;
  /** Server certificate for 127.0.0.1, ::1 and localhost. */
  server: CertFiles;
  /** Client certificate (CN iamwatch-client). */
  client: CertFiles;
  /** Issues another leaf: `sans` like ['DNS:redis.internal', 'IP:127.0.0.1']. */
  issue(name: string, sans: string[]): CertFiles;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.toString() || e.message}`, { cause: err });
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  openssl(['req', '-x509', ...EC, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=iamwatch test ${name}`], dir);
  return { cert, key };
}

/** Creates a CA, a server and a client certificate in a new temporary directory. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'iwtest-pki-'));
  const ca = makeCa(dir, 'ca');
  const other = makeCa(dir, 'other-ca');
  let serial = 1;
  const leaf = (name: string, ext: string): CertFiles => {
    const cert = path.join(dir, `${name}.pem`);
    const key = path.join(dir, `${name}.key`);
    const csr = path.join(dir, `${name}.csr`);
    const extFile = path.join(dir, `${name}.ext`);
    writeFileSync(extFile, `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nauthorityKeyIdentifier=keyid\n${ext}\n`);
    openssl(['req', '-new', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], dir);
    openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(++serial), '-days', '2', '-out', cert, '-extfile', extFile], dir);
    return { cert, key };
  };
  // Servers use their certificate as a client too (Sentinel to the master), hence clientAuth.
  const issue = (name: string, sans: string[]): CertFiles => leaf(name, `extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${sans.join(',')}`);
  return {
    dir,
    ca: ca.cert,
    otherCa: other.cert,
    server: issue('server', ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost']),
    client: leaf('client', 'extendedKeyUsage=clientAuth'),
    issue,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
