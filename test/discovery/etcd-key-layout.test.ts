import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeEtcdInstance,
  encodeEtcdInstance,
  etcdInstanceKey,
  etcdServicePrefix,
  normalizeEtcdPrefix,
} from '../../src/discovery/etcd-key-layout';

describe('etcd key layout (docs/ETCD.md)', () => {
  test('keys are <prefix>/services/<service>/<instanceId>, default prefix /myrpc', () => {
    assert.equal(etcdInstanceKey('/myrpc', 'KeyValue', '10.0.0.7:4000'), '/myrpc/services/KeyValue/10.0.0.7:4000');
    assert.equal(etcdInstanceKey('/apps/shop/', 'Users', 'u1'), '/apps/shop/services/Users/u1');
    assert.equal(normalizeEtcdPrefix(), '/myrpc');
  });

  test('a service prefix ends with a slash, so kv never matches kv2', () => {
    assert.equal(etcdServicePrefix('/myrpc', 'kv'), '/myrpc/services/kv/');
    assert.ok(!etcdInstanceKey('/myrpc', 'kv2', 'a').startsWith(etcdServicePrefix('/myrpc', 'kv')));
  });

  test('service names with a slash and empty ids are refused', () => {
    assert.throws(() => etcdServicePrefix('/myrpc', 'a/b'), RangeError);
    assert.throws(() => etcdServicePrefix('/myrpc', ''), RangeError);
    assert.throws(() => etcdInstanceKey('/myrpc', 'kv', ''), RangeError);
  });

  test('the value is the documented JSON, and it round-trips', () => {
    const json = encodeEtcdInstance(
      { service: 'kv', host: '127.0.0.1', port: 4000, weight: 2, metadata: { zone: 'a' } },
      { inFlight: 3, eventLoopDelayMs: 1.5 },
    );
    assert.deepEqual(JSON.parse(json), {
      host: '127.0.0.1',
      port: 4000,
      weight: 2,
      metadata: { zone: 'a' },
      load: { inFlight: 3, eventLoopDelayMs: 1.5 },
    });
    assert.deepEqual(decodeEtcdInstance(json), JSON.parse(json));
    const bare = encodeEtcdInstance({ service: 'kv', host: 'h', port: 1 });
    assert.deepEqual(JSON.parse(bare), { host: 'h', port: 1, weight: 1, metadata: {} });
  });

  test('values that are not an instance decode to undefined (and are ignored by discovery)', () => {
    for (const bad of [
      '',
      'not json',
      'null',
      '[]',
      '{"port":1}',
      '{"host":"h","port":0}',
      '{"host":"h","port":70000}',
      '{"host":"h","port":1,"weight":0}',
      '{"host":"h","port":1,"weight":"2"}',
    ]) {
      assert.equal(decodeEtcdInstance(bad), undefined, bad);
    }
  });

  test('written by another tool: missing weight is 1, non-string labels and malformed load are dropped', () => {
    assert.deepEqual(decodeEtcdInstance('{"host":"h","port":5,"metadata":{"a":"x","b":2},"load":{"inFlight":-1}}'), {
      host: 'h',
      port: 5,
      weight: 1,
      metadata: { a: 'x' },
    });
  });
});

test('loading myrpc does not load etcd3 or gRPC: the etcd backend loads them on first use', () => {
  const index = join(__dirname, '../../src/index.js');
  const script = `require(${JSON.stringify(index)}); console.log(Object.keys(require.cache).filter((k) => /[\\\\/](etcd3|@grpc)[\\\\/]/.test(k)).length)`;
  assert.equal(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim(), '0');
});
