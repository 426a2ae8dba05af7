/**
 * The PEM files of a TLS connection (Redis or the database): read when connecting, with every
 * problem an INVALID_INPUT error that names where the path came from (a setting or a URL
 * parameter), the path and the reason, and checked together so that a key that does not match
 * its certificate stops iamwatch at start instead of failing every reconnect.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { IamwatchError, errorMessage } from './errors.js';

/** A file to read, and where its path came from: `REDIS_TLS_CA`, `DATABASE_URL parameter ssl-ca`. */
export interface PemFile {
  path: string;
  source: string;
}

export interface PemParts {
  ca?: PemFile;
  cert?: PemFile;
  key?: PemFile;
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent is not a directory',
  ELOOP: 'too many symbolic links',
};

const WHAT = { ca: 'the CA certificate', cert: 'the client certificate', key: 'the client key' } as const;

function readPem(file: PemFile, what: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code && REASONS[code] ? `${REASONS[code]} (${code})` : (code ?? errorMessage(err));
    throw new IamwatchError('INVALID_INPUT', `${file.source}: cannot read ${what} ${file.path}: ${reason}`);
  }
  if (!data.includes('-----BEGIN ')) throw new IamwatchError('INVALID_INPUT', `${file.source}: ${file.path} is not a PEM file (no "-----BEGIN" line); give ${what} in PEM form`);
  return data;
}

/** Reads the files that are given; `service` ("Redis", "database") names them in a combined error. */
export function readPemFiles(parts: PemParts, service: string): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  for (const k of ['ca', 'cert', 'key'] as const) {
    const file = parts[k];
    if (file) out[k] = readPem(file, WHAT[k]);
  }
  try {
    createSecureContext(out);
  } catch (err) {
    const files = (['ca', 'cert', 'key'] as const).flatMap((k) => (parts[k] ? [`${parts[k].source}=${parts[k].path}`] : []));
    throw new IamwatchError('INVALID_INPUT', `${service} TLS files are not usable together (${files.join(', ')}): ${errorMessage(err)}`);
  }
  return out;
}
