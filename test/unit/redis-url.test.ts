import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRedisUrl } from '../../src/coordination/redis/url.js';
import { redactUrl } from '../../src/observe/redact.js';

test('Redis URLs that parse', () => {
  const cases: Array<[string, unknown]> = [
    ['redis://127.0.0.1:6379', { scheme: 'redis', hosts: [{ host: '127.0.0.1', port: 6379 }], username: undefined, password: undefined, path: '' }],
    ['rediss://watch:s%40cret@cache.internal/2', { scheme: 'rediss', hosts: [{ host: 'cache.internal', port: 6379 }], username: 'watch', password: 's@cret', path: '2' }],
    ['redis://:only-pass@h', { scheme: 'redis', hosts: [{ host: 'h', port: 6379 }], username: undefined, password: 'only-pass', path: '' }],
    ['redis+sentinel://a:26379,b/mymaster', { scheme: 'redis+sentinel', hosts: [{ host: 'a', port: 26379 }, { host: 'b', port: 26379 }], username: undefined, password: undefined, path: 'mymaster' }],
    ['redis+cluster://u:p@a:7000,b:7001,[::1]:7002', { scheme: 'redis+cluster', hosts: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }, { host: '::1', port: 7002 }], username: 'u', password: 'p', path: '' }],
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

test('passwords are redacted, multi-host URLs too', () => {
  assert.equal(redactUrl('redis://watch:s3cret@h:6379'), 'redis://watch:***@h:6379');
  assert.equal(redactUrl('redis+cluster://u:s3cret@a:7000,b:7001'), 'redis+cluster://u:***@a:7000,b:7001');
  assert.equal(redactUrl('mysql://root@db/iam'), 'mysql://root@db/iam');
});
