/**
 * Redaction: every form of credential iamwatch hides (URL passwords, URL-ish `user:pw@host` text,
 * secret query parameters), what it leaves alone, the head of a text cut short, and time linear in
 * the input on adversarial megabyte inputs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactDeep, redactHead, redactText, redactUrl } from '../../src/base/redact.js';

const redacted: Array<[string, string]> = [
  // scheme://user:pass@host, in text and alone
  ['dial mysql://root:hunter2@db:3306/x failed', 'dial mysql://root:***@db:3306/x failed'],
  ['redis://:only-pass@h', 'redis://:***@h'],
  ['rediss://u:p%40ss@h:6380/0', 'rediss://u:***@h:6380/0'],
  ['redis+cluster://u:s3cret@a:7000,b:7001', 'redis+cluster://u:***@a:7000,b:7001'],
  ['amqp://guest:gu:est@mq/vhost', 'amqp://guest:***@mq/vhost'],
  ['redis://u:p@ss@h/0 and more', 'redis://u:***@h/0 and more'],
  ['redis://us"er:pa"ss@h', 'redis://us"er:***@h'],
  ['connect http://a:b@h1 then http://c:d@h2', 'connect http://a:***@h1 then http://c:***@h2'],
  ['url=https://bot:tok3n@hooks.example/x?y=1', 'url=https://bot:***@hooks.example/x?y=1'],
  // malformed URL-ish text: any user:password@ before a host
  ['DATABASE_URL is not a URL: mysql:/app:pw@db/iam', 'DATABASE_URL is not a URL: mysql:/app:***@db/iam'],
  ['mysql:app:pw@db/iam', 'mysql:***@db/iam'],
  ['//user:pw@host/x', '//user:***@host/x'],
  ['cannot reach app:s3cret@db.internal:3306', 'cannot reach app:***@db.internal:3306'],
  ['DSN=app:s3cret@tcp(db:3306)/iam', 'DSN=app:***@tcp(db:3306)/iam'],
  ['{"dsn":"app:pw@db","n":1}', '{"dsn":"app:***@db","n":1}'],
  ["'u:p@[::1]:6379'", "'u:***@[::1]:6379'"],
  // secret-looking query parameters
  ['GET https://h/p?access_token=abc&x=1', 'GET https://h/p?access_token=***&x=1'],
  ['?password=x&token=y&name=z&KEY=1', '?password=***&token=***&name=z&KEY=***'],
  ['https://h/?a=1&Auth=zz#frag', 'https://h/?a=1&Auth=***#frag'],
  ['s3://b/k?X-Amz-Security-Token=FQo&access_key=AKIA', 's3://b/k?X-Amz-Security-Token=***&access_key=***'],
  ['mysql://h/db?sslpassphrase=x y', 'mysql://h/db?sslpassphrase=*** y'],
  ['"https://h/?client_secret=abc"', '"https://h/?client_secret=***"'],
  // both at once
  ['https://u:p@h/?secret=s', 'https://u:***@h/?secret=***'],
];

const leftAlone = [
  'mysql://root@db/iam',
  'redis://127.0.0.1:6379/0',
  'mail bob@example.com at 12:30',
  'git@github.com:org/repo.git',
  'node_modules/@redis/client/dist/index.js:10:5',
  'pino@10.4.0 and @types/node@20',
  'https://h/p?page=2&sort=name#top',
  'ratio 3:4, time 12:00:01, a & b ? c',
  'u:@host (empty password)',
  '',
];

test('every credential form is redacted (redactText)', () => {
  for (const [input, expected] of redacted) assert.equal(redactText(input), expected, input);
});

test('non-secrets are left alone', () => {
  for (const input of leftAlone) {
    assert.equal(redactText(input), input, input);
    // A cut text's last word may be hidden (it may be a password cut from its @); the rest is not.
    assert.equal(redactHead(`${input} end`), `${input} end`, input);
  }
});

test('redactUrl: WHATWG URLs, multi-host URLs and malformed ones', () => {
  const cases: Array<[string, string]> = [
    ['redis://watch:s3cret@h:6379', 'redis://watch:***@h:6379'],
    ['redis+cluster://u:s3cret@a:7000,b:7001', 'redis+cluster://u:***@a:7000,b:7001'],
    ['mysql://root@db/iam', 'mysql://root@db/iam'],
    ['mysql:/app:pw@db/iam', 'mysql:/app:***@db/iam'], // parses (as a path), password and all
    ['mysql:app:pw@db/iam', 'mysql:***@db/iam'],
    ['http:/u:p@h', 'http://u:***@h/'],
    ['https://h/x?Token=abc&b=1', 'https://h/x?Token=***&b=1'],
    ['app:pw@db:3306', 'app:***@db:3306'],
    ['not a url at all', 'not a url at all'],
  ];
  for (const [input, expected] of cases) assert.equal(redactUrl(input), expected, input);
});

test('redaction is idempotent', () => {
  for (const [input] of redacted) {
    const once = redactText(input);
    assert.equal(redactText(once), once, input);
  }
});

test('the head of a cut text never shows part of a password', () => {
  const cases: Array<[string, string]> = [
    ['xx redis://u:hunt', 'xx redis://u:***'], // cut before the @
    ['xx mysql:app:pw', 'xx mysql:***'],
    ['a redis://u:p@ss', 'a redis://u:***'], // the host the cut ran into may be part of the password
    ['b https://h/?token=ab', 'b https://h/?token=***'],
    ['c redis://u:***@h/0 d', 'c redis://u:***@h/0 d'],
    ['d redis://us', 'd redis://us'], // no password yet
  ];
  for (const [input, expected] of cases) assert.equal(redactHead(input), expected, input);
  // Every cut of a line holding a password: no prefix of the password longer than nothing shows.
  const line = 'connecting to mysql://app:Sup3rSecretPassw0rd@db.internal:3306/iam?ssl=1 now';
  for (let cut = 1; cut <= line.length; cut++) {
    const shown = redactHead(line.slice(0, cut));
    assert.ok(!/Sup|3rS/.test(shown), `cut at ${cut}: ${shown}`);
  }
});

test('redactDeep: nested values and errors, other values untouched', () => {
  const deep = redactDeep({ a: ['redis://:pw@h'], b: { c: new Error('at mysql:/u:pw@h/db') }, n: 1, d: new Date(0) });
  assert.deepEqual(deep.a, ['redis://:***@h']);
  assert.equal(deep.b.c.message, 'at mysql:/u:***@h/db');
  assert.ok(!String(deep.b.c.stack).includes('pw@'));
  assert.equal(deep.n, 1);
  assert.ok(deep.d instanceof Date);
});

test('linear time: 1 MB adversarial inputs each take well under a second', () => {
  const MB = 1_000_000;
  const inputs: Array<[string, string]> = [
    ['letters', 'a'.repeat(MB)],
    ['scheme-ish run', 'x ' + 'a+b.c-d'.repeat(MB / 7)],
    ['colons', 'a:'.repeat(MB / 2)],
    ['colons then @', 'a:'.repeat(MB / 2) + '@h'],
    ['scheme then letters', 'a://' + 'b'.repeat(MB)],
    ['scheme then colons', 'a://' + 'b:'.repeat(MB / 2)],
    ['hex', Buffer.alloc(MB / 2, 0xab).toString('hex')],
    ['@ run', '@'.repeat(MB)],
    [':@ run', ':@'.repeat(MB / 2)],
    ['credentials', 'u:p@h '.repeat(MB / 6)],
    ['? then name', '?' + 'a'.repeat(MB)],
    ['secret names without =', '?pass'.repeat(MB / 5)],
    ['& run', '&'.repeat(MB)],
    ['secret params', '&token=x'.repeat(MB / 8)],
    ['mixed', 'x:y@?a&b=c/'.repeat(MB / 11)],
    ['spaces and newlines', ' \n'.repeat(MB / 2)],
  ];
  for (const [name, input] of inputs) {
    for (const [fn, f] of [['redactText', redactText], ['redactHead', redactHead], ['redactUrl', redactUrl]] as const) {
      const t0 = performance.now();
      f(input);
      const ms = performance.now() - t0;
      assert.ok(ms < 1_000, `${fn} on ${name} took ${ms.toFixed(0)} ms`);
    }
  }
});
