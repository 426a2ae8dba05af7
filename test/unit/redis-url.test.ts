import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRedisUrl, resolveRedisTls, type RedisUrl } from '../../src/jobsfile/redis-url.js';
import { redactUrl } from '../../src/base/redact.js';

test('Redis URLs that parse', () => {
  const cases: Array<[string, unknown]> = [
    ['redis://127.0.0.1:6379', { scheme: 'redis', hosts: [{ host: '127.0.0.1', port: 6379 }], username: undefined, password: undefined, path: '', tls: false, params: {} }],
    ['rediss://watch:s%40cret@cache.internal/2', { scheme: 'rediss', hosts: [{ host: 'cache.internal', port: 6379 }], username: 'watch', password: 's@cret', path: '2', tls: true, params: {} }],
    ['redis://:only-pass@h', { scheme: 'redis', hosts: [{ host: 'h', port: 6379 }], username: undefined, password: 'only-pass', path: '', tls: false, params: {} }],
    ['redis+sentinel://a:26379,b/mymaster', { scheme: 'redis+sentinel', hosts: [{ host: 'a', port: 26379 }, { host: 'b', port: 26379 }], username: undefined, password: undefined, path: 'mymaster', tls: false, params: {} }],
    ['redis+cluster://u:p@a:7000,b:7001,[::1]:7002', { scheme: 'redis+cluster', hosts: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }, { host: '::1', port: 7002 }], username: 'u', password: 'p', path: '', tls: false, params: {} }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseRedisUrl(text), expected, text);
});

test('Redis URLs that do not, with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['localhost:6379', /write redis:\/\/localhost:6379/],
    ['http://x', /unsupported scheme "http:"/],
    ['redis://a:1,b:2', /one host/],
    ['redis+sentinel://a:26379', /name the master/],
    ['redis://a:notaport', /bad host/],
  ];
  for (const [text, message] of cases) {
    const r = parseRedisUrl(text);
    assert.equal(typeof r, 'string', text);
    assert.match(r as string, message, text);
  }
});

test('TLS parameters: ca, cert, key, servername; tls=yes on Sentinel and Cluster URLs', () => {
  const u = parseRedisUrl('rediss://h:6380/0?ca=/etc/ca.pem&cert=%2Fetc%2Fclient.pem&key=/etc/client.key&servername=redis.internal') as RedisUrl;
  assert.equal(typeof u, 'object', String(u));
  assert.deepEqual([u.tls, u.path, u.hosts], [true, '0', [{ host: 'h', port: 6380 }]]);
  assert.deepEqual(u.params, { ca: '/etc/ca.pem', cert: '/etc/client.pem', key: '/etc/client.key', servername: 'redis.internal' });
  const s = parseRedisUrl('redis+sentinel://a:26379,b/mymaster?tls=yes&ca=/ca.pem') as RedisUrl;
  assert.deepEqual([s.tls, s.path, s.params], [true, 'mymaster', { ca: '/ca.pem' }]);
  const c = parseRedisUrl('redis+cluster://a:7000,b:7001?tls=true') as RedisUrl;
  assert.deepEqual([c.tls, c.hosts.length, c.params], [true, 2, {}]);
  assert.equal((parseRedisUrl('redis+cluster://a:7000?tls=no') as RedisUrl).tls, false);
  assert.equal((parseRedisUrl('rediss://h?') as RedisUrl).tls, true, 'an empty query is no parameter');
  // A password may hold "?" (it comes before the host), and the query still parses.
  const p = parseRedisUrl('rediss://u:pa?ss@h/1?servername=x.example') as RedisUrl;
  assert.deepEqual([p.password, p.path, p.params], ['pa?ss', '1', { servername: 'x.example' }]);
});

test('bad TLS parameters, with what to do', () => {
  const cases: Array<[string, RegExp]> = [
    ['rediss://h?sslmode=require', /unknown URL parameter "sslmode" \(known: ca, cert, key, servername, tls\)/],
    ['redis://h?ca=/ca.pem', /TLS parameters \(ca\) on a redis:\/\/ URL, which is plain TCP: use rediss:\/\//],
    ['redis://h?tls=yes', /use rediss:\/\//],
    ['rediss://h?tls=no', /use redis:\/\//],
    ['redis+cluster://a:1?ca=/ca.pem', /without tls=yes: add tls=yes/],
    ['redis+sentinel://a/m?servername=x&tls=yes&servername=y', /"servername" is given twice/],
    ['rediss://h?ca=', /"ca" needs a value, e.g. ca=/],
    ['rediss://h?ca', /"ca" needs a value/],
    ['rediss://h?servername=bad_name!', /servername must be a host name/],
    ['rediss://h?tls=maybe', /tls takes yes or no/],
    ['rediss://h?ca=%E0%A4%A', /bad percent-encoding/],
    ['rediss://h/zero', /database number/],
    ['redis://h:70000', /bad host/],
  ];
  for (const [text, message] of cases) {
    const r = parseRedisUrl(text);
    assert.equal(typeof r, 'string', text);
    assert.match(r as string, message, text);
  }
});

test('TLS from the URL and the REDIS_TLS_* settings: a parameter wins, and each is named', () => {
  const url = (text: string): RedisUrl => parseRedisUrl(text) as RedisUrl;
  assert.equal(resolveRedisTls(url('redis://h'), {}), null);
  assert.deepEqual(resolveRedisTls(url('rediss://h'), {}), {});
  assert.deepEqual(resolveRedisTls(url('rediss://h?ca=/url-ca.pem'), { ca: '/set-ca.pem', servername: 'set.example' }), {
    ca: { path: '/url-ca.pem', source: 'REDIS_URL parameter ca' },
    servername: { name: 'set.example', source: 'REDIS_TLS_SERVERNAME' },
  });
  assert.deepEqual(resolveRedisTls(url('rediss://h?key=/k.pem'), { cert: '/c.pem', key: '/other.pem' }), {
    cert: { path: '/c.pem', source: 'REDIS_TLS_CERT' },
    key: { path: '/k.pem', source: 'REDIS_URL parameter key' },
  });
  const problems: Array<[string, Record<string, string>, RegExp]> = [
    ['redis://h', { ca: '/ca.pem' }, /^REDIS_TLS_CA is set but REDIS_URL is redis:\/\/, which is plain TCP: use rediss:\/\/ \(or unset REDIS_TLS_CA\)$/],
    ['redis://h', { ca: '/ca.pem', servername: 'x' }, /REDIS_TLS_CA, REDIS_TLS_SERVERNAME are set/],
    ['redis+sentinel://a/m', { ca: '/ca.pem' }, /add \?tls=yes to the redis\+sentinel:\/\/ URL/],
    ['rediss://h', { cert: '/c.pem' }, /^REDIS_TLS_CERT is set without a key/],
    ['rediss://h?key=/k.pem', {}, /^REDIS_URL parameter key is set without a certificate/],
  ];
  for (const [text, settings, message] of problems) {
    const r = resolveRedisTls(url(text), settings);
    assert.equal(typeof r, 'string', `${text} ${JSON.stringify(settings)}`);
    assert.match(r as string, message);
  }
});

test('passwords are redacted, multi-host URLs too', () => {
  assert.equal(redactUrl('redis://watch:s3cret@h:6379'), 'redis://watch:***@h:6379');
  assert.equal(redactUrl('redis+cluster://u:s3cret@a:7000,b:7001'), 'redis+cluster://u:***@a:7000,b:7001');
  assert.equal(redactUrl('mysql://root@db/iam'), 'mysql://root@db/iam');
});
