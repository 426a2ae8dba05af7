/**
 * TLS for mysql:// and mariadb:// DATABASE_URLs, with the MySQL client's option names and
 * semantics: `?ssl-mode=DISABLED|PREFERRED|REQUIRED|VERIFY_CA|VERIFY_IDENTITY`, `ssl-ca=`,
 * `ssl-cert=`, `ssl-key=` (PEM file paths). PREFERRED and REQUIRED encrypt without verifying the
 * server; VERIFY_CA checks its certificate against ssl-ca (or the system's CAs); VERIFY_IDENTITY
 * also checks that it is issued for the host in the URL. Without ssl-mode: VERIFY_CA when ssl-ca
 * is given, REQUIRED when only a client certificate is, else no TLS. The query is parsed here
 * (pure), the files are read when connecting, and driver errors get a hint about what to set.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { readPemFiles, type PemFile } from '../base/tls-files.js';
import { parseUrlParams } from '../base/url-params.js';

export const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** Every query parameter a mysql:// DATABASE_URL may take. */
export const MYSQL_URL_PARAMS = ['ssl-mode', 'ssl-ca', 'ssl-cert', 'ssl-key'] as const;

export interface MysqlTls {
  mode: SslMode;
  /** File paths, as given. */
  ca?: string;
  cert?: string;
  key?: string;
}

/** The `ssl` option of mysql2. */
export interface Mysql2Ssl {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  verifyIdentity: boolean;
}

/** Parses the query of a mysql:// URL (`?a=b&c=d`, or empty), or returns an error message. */
export function parseMysqlTls(search: string): MysqlTls | string {
  const pairs = parseUrlParams(search, MYSQL_URL_PARAMS, (name) => (name === 'ssl-mode' ? 'ssl-mode=VERIFY_CA' : `${name}=/etc/iamwatch/mysql-${name.slice(4)}.pem`));
  if (typeof pairs === 'string') return pairs;
  const given = Object.fromEntries(pairs) as Partial<Record<(typeof MYSQL_URL_PARAMS)[number], string>>;
  let mode: SslMode;
  const modeText = given['ssl-mode'];
  if (modeText !== undefined) {
    const upper = modeText.toUpperCase();
    if (!(SSL_MODES as readonly string[]).includes(upper)) return `ssl-mode "${modeText}" is not one of ${SSL_MODES.join(', ')}`;
    mode = upper as SslMode;
  } else mode = given['ssl-ca'] ? 'VERIFY_CA' : given['ssl-cert'] || given['ssl-key'] ? 'REQUIRED' : 'DISABLED';
  const files = (['ssl-ca', 'ssl-cert', 'ssl-key'] as const).filter((k) => given[k] !== undefined);
  if (mode === 'DISABLED' && files.length > 0) return `${files.join(', ')} with ssl-mode=DISABLED, which uses no TLS: remove ${files.length > 1 ? 'them' : 'it'} or choose another ssl-mode`;
  if ((mode === 'PREFERRED' || mode === 'REQUIRED') && given['ssl-ca']) return `ssl-ca with ssl-mode=${mode}, which does not verify the server: use ssl-mode=VERIFY_CA (or VERIFY_IDENTITY) to verify it against ssl-ca`;
  if (given['ssl-cert'] && !given['ssl-key']) return 'ssl-cert without ssl-key: a client certificate needs its key';
  if (given['ssl-key'] && !given['ssl-cert']) return 'ssl-key without ssl-cert: a client key needs its certificate';
  const out: MysqlTls = { mode };
  if (given['ssl-ca']) out.ca = given['ssl-ca'];
  if (given['ssl-cert']) out.cert = given['ssl-cert'];
  if (given['ssl-key']) out.key = given['ssl-key'];
  return out;
}

/** mysql2's `ssl` option for `tls` (undefined: no TLS), reading the files (INVALID_INPUT if unusable). */
export function mysql2Ssl(tls: MysqlTls): Mysql2Ssl | undefined {
  if (tls.mode === 'DISABLED') return undefined;
  const file = (path: string | undefined, param: string): PemFile | undefined => (path === undefined ? undefined : { path, source: `DATABASE_URL parameter ${param}` });
  const pem = readPemFiles({ ca: file(tls.ca, 'ssl-ca'), cert: file(tls.cert, 'ssl-cert'), key: file(tls.key, 'ssl-key') }, 'database');
  const verify = tls.mode === 'VERIFY_CA' || tls.mode === 'VERIFY_IDENTITY';
  return { ...pem, rejectUnauthorized: verify, verifyIdentity: tls.mode === 'VERIFY_IDENTITY' };
}

/**
 * VERIFY_IDENTITY's name check on an open mysql2 connection, or the reason it fails. mysql2
 * checks the name only for host names: with an IP address in the URL node:tls falls back to
 * "localhost", so iamwatch checks the certificate against the URL's host itself.
 */
export function checkMysqlIdentity(conn: unknown, host: string): Error | undefined {
  const stream = (conn as { stream?: { getPeerCertificate?: () => PeerCertificate } }).stream;
  const cert = stream?.getPeerCertificate?.();
  if (!cert || Object.keys(cert).length === 0) return new Error('ssl-mode=VERIFY_IDENTITY: the server presented no certificate');
  return checkServerIdentity(host.replace(/^\[|\]$/g, ''), cert);
}

/** What to set when the driver's error is about TLS (or the lack of it); undefined otherwise. */
export function mysqlTlsHint(err: unknown, tls: MysqlTls): string | undefined {
  const code = String((err as { code?: unknown }).code ?? '');
  const message = String((err as { message?: unknown }).message ?? '');
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') return `the server does not offer TLS, which ssl-mode=${tls.mode} requires: enable TLS on the server, or use ssl-mode=PREFERRED or DISABLED`;
  if (code === 'ER_SECURE_TRANSPORT_REQUIRED' || /insecure transport/i.test(message)) return 'the server requires TLS: add ?ssl-mode=VERIFY_CA&ssl-ca=/path/to/ca.pem (or ssl-mode=REQUIRED) to DATABASE_URL';
  if (code === 'ER_ACCESS_DENIED_ERROR' && (tls.mode === 'DISABLED' || tls.mode === 'PREFERRED')) return `the connection did not use TLS${tls.mode === 'PREFERRED' ? ' (ssl-mode=PREFERRED fell back to none)' : ''}; if the server requires secure transport, add ?ssl-mode=VERIFY_CA&ssl-ca=/path/to/ca.pem to DATABASE_URL`;
  if (/altnames|does not match certificate/i.test(message)) return 'the server\'s certificate is not issued for the host in DATABASE_URL: connect by a name it lists, or use ssl-mode=VERIFY_CA';
  if (/self[- ]signed|unable to (get|verify)|certificate signature failure|unknown ca/i.test(message)) {
    return tls.ca ? `the server's certificate is not signed by the CA in ssl-ca (${tls.ca})` : 'the server\'s certificate is not signed by a trusted CA: add ssl-ca=/path/to/ca.pem to DATABASE_URL';
  }
  if (/certificate required|alert handshake failure|bad certificate/i.test(message)) return 'the server refused the TLS handshake, most likely because it requires a client certificate: add ssl-cert= and ssl-key= to DATABASE_URL';
  return undefined;
}
