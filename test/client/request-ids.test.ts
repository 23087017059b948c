import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Method, Service } from '../../src/index';
import { MAX_REQUEST_ID } from '../../src/protocol/frame';
import { startServer } from '../helpers/servers';

@Service('Later')
class Later {
  @Method() after(ms: number, value: string): Promise<string> {
    return new Promise((resolve) => setTimeout(() => resolve(value), ms));
  }
}

/** The client's connection, to move its id counter near the end of the id space. */
interface WithConnection {
  conn: { nextId: number } | undefined;
}

describe('request ids', () => {
  test(
    'ids wrap around after 2^32 - 1 and skip an id still in flight, so no answer goes to the wrong call',
    { timeout: 10_000 },
    async () => {
      const started = await startServer([new Later()]);
      const client = started.client();
      try {
        await client.connect();
        const slow = client.call('Later', 'after', [300, 'first']); // id 1, still in flight when the ids wrap
        const conn = (client as unknown as WithConnection).conn;
        assert.ok(conn);
        conn.nextId = MAX_REQUEST_ID - 1;
        const last = await client.call('Later', 'after', [0, 'last id']); // id 2^32 - 1
        assert.equal(conn.nextId, MAX_REQUEST_ID);
        const wrapped = await client.call('Later', 'after', [0, 'wrapped']); // id 1 is taken: 2
        assert.equal(conn.nextId, 2);
        assert.deepEqual([last, wrapped, await slow], ['last id', 'wrapped', 'first']);
      } finally {
        await started.stop();
      }
    },
  );
});
