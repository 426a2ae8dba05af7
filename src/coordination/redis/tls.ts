/**
 * TLS for Redis connections: the PEM files named by the REDIS_TLS_* settings or the URL's
 * parameters as node:tls options, and a failed handshake turned into a message that says what
 * to set.
 */
import { readPemFiles } from '../../base/tls-files.js';
import type { ResolvedRedisTls } from '../../jobsfile/redis-url.js';

/** The node:tls options node-redis passes through to `tls.connect`. */
export interface RedisTlsSocketOptions {
  tls: true;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
}

/** Reads the TLS files (an unusable one is an INVALID_INPUT error) into node:tls options. */
export function loadRedisTls(resolved: ResolvedRedisTls): RedisTlsSocketOptions {
  const out: RedisTlsSocketOptions = { tls: true, ...readPemFiles(resolved, 'Redis') };
  if (resolved.servername) out.servername = resolved.servername.name;
  return out;
}

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * A Redis connection error, reworded when it is a TLS failure so that the log says what is wrong
 * and what to set; other errors are returned as they are. The original code is kept.
 */
export function explainTlsError(err: Error, servername?: string): Error {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  let hint: string | undefined;
  if (UNTRUSTED.has(code)) hint = 'the Redis server\'s certificate is not signed by a trusted CA: set REDIS_TLS_CA (or the ca= URL parameter) to the PEM file of the CA that signed it';
  else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const host = (err as { host?: unknown }).host;
    const name = typeof host === 'string' ? host : servername;
    hint = servername
      ? `the Redis server's certificate is not issued for the server name ${servername}: set REDIS_TLS_SERVERNAME (or the servername= URL parameter) to a name it lists`
      : `the Redis server's certificate is not issued for the host in REDIS_URL${name ? ` (${name})` : ''}: connect by a name it lists, or set REDIS_TLS_SERVERNAME (or the servername= URL parameter) to one`;
  }
  else if (code === 'CERT_HAS_EXPIRED') hint = 'the Redis server\'s certificate has expired';
  else if (code === 'CERT_NOT_YET_VALID') hint = 'the Redis server\'s certificate is not valid yet (check this machine\'s clock)';
  else if (/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE/.test(code) || /certificate required|alert bad certificate/i.test(err.message)) {
    hint = 'the Redis server refused the TLS handshake, most likely because it requires a client certificate (mutual TLS): set REDIS_TLS_CERT and REDIS_TLS_KEY (or the cert= and key= URL parameters) to one its CA trusts';
  } else if (/UNKNOWN_CA/.test(code) || /alert unknown ca/i.test(err.message)) hint = 'the Redis server does not trust the client certificate: use one signed by the CA in its tls-ca-cert-file';
  else if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(err.message)) hint = 'the server did not answer in TLS: is this a plain (non-TLS) port? Use redis:// for a plain connection, or the server\'s tls-port';
  if (!hint) return err;
  const explained = new Error(`TLS handshake failed: ${hint} (${code || err.message})`);
  (explained as NodeJS.ErrnoException).code = code || undefined;
  explained.cause = err;
  return explained;
}
