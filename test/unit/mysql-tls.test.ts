import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mysqlTlsHint, parseMysqlTls } from '../../src/db/mysql-tls.js';

test('DATABASE_URL TLS parameters that parse, and the mode they mean', () => {
  const cases: Array<[string, unknown]> = [
    ['', { mode: 'DISABLED' }],
    ['?', { mode: 'DISABLED' }],
    ['?ssl-mode=REQUIRED', { mode: 'REQUIRED' }],
    ['?ssl-mode=verify_identity&ssl-ca=%2Fetc%2Fca.pem', { mode: 'VERIFY_IDENTITY', ca: '/etc/ca.pem' }],
    ['?ssl-ca=/etc/ca.pem', { mode: 'VERIFY_CA', ca: '/etc/ca.pem' }],
    ['?ssl-cert=/c.pem&ssl-key=/k.pem', { mode: 'REQUIRED', cert: '/c.pem', key: '/k.pem' }],
    ['?ssl-mode=PREFERRED&ssl-cert=/c.pem&ssl-key=/k.pem', { mode: 'PREFERRED', cert: '/c.pem', key: '/k.pem' }],
    ['?ssl-mode=VERIFY_CA&ssl-ca=/ca+1.pem', { mode: 'VERIFY_CA', ca: '/ca+1.pem' }],
  ];
  for (const [query, expected] of cases) assert.deepEqual(parseMysqlTls(query), expected, query);
});

test('DATABASE_URL TLS parameters that do not, with what to do', () => {
  const cases: Array<[string, RegExp]> = [
    ['?ssl=true', /^unknown URL parameter "ssl" \(known: ssl-mode, ssl-ca, ssl-cert, ssl-key\)$/],
    ['?ssl-mode=ON', /not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY/],
    ['?ssl-mode=', /"ssl-mode" needs a value, e.g. ssl-mode=VERIFY_CA/],
    ['?ssl-mode=REQUIRED&ssl-mode=DISABLED', /given twice/],
    ['?ssl-mode=DISABLED&ssl-ca=/ca.pem', /ssl-ca with ssl-mode=DISABLED, which uses no TLS/],
    ['?ssl-mode=REQUIRED&ssl-ca=/ca.pem', /use ssl-mode=VERIFY_CA/],
    ['?ssl-mode=PREFERRED&ssl-ca=/ca.pem', /use ssl-mode=VERIFY_CA/],
    ['?ssl-cert=/c.pem', /ssl-cert without ssl-key/],
    ['?ssl-mode=VERIFY_CA&ssl-key=/k.pem', /ssl-key without ssl-cert/],
    ['?ssl-ca=%zz', /bad percent-encoding/],
  ];
  for (const [query, message] of cases) {
    const r = parseMysqlTls(query);
    assert.equal(typeof r, 'string', query);
    assert.match(r as string, message, query);
  }
});

test('driver errors get a hint about TLS only when they are about TLS', () => {
  const off = { mode: 'DISABLED' as const };
  const verify = { mode: 'VERIFY_CA' as const, ca: '/ca.pem' };
  assert.match(mysqlTlsHint({ code: 'ER_SECURE_TRANSPORT_REQUIRED', message: 'Connections using insecure transport are prohibited' }, off) ?? '', /requires TLS: add \?ssl-mode=VERIFY_CA/);
  assert.match(mysqlTlsHint({ code: 'HANDSHAKE_NO_SSL_SUPPORT', message: 'Server does not support secure connection' }, { mode: 'REQUIRED' }) ?? '', /does not offer TLS, which ssl-mode=REQUIRED requires/);
  assert.match(mysqlTlsHint({ code: 'HANDSHAKE_SSL_ERROR', message: 'self-signed certificate in certificate chain' }, verify) ?? '', /not signed by the CA in ssl-ca \(\/ca\.pem\)/);
  assert.match(mysqlTlsHint(new Error("Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list"), { ...verify, mode: 'VERIFY_IDENTITY' }) ?? '', /not issued for the host/);
  assert.equal(mysqlTlsHint({ code: 'ER_ACCESS_DENIED_ERROR', message: 'Access denied' }, verify), undefined, 'over TLS, access denied is about the credentials');
  assert.equal(mysqlTlsHint({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, off), undefined);
});
