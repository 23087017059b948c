/**
 * Pins the bytes of MyRPC wire protocol version 1. Each vector below appears verbatim in docs/PROTOCOL.md
 * (section "Test vectors"), and the annotated hex dumps in that page must reproduce the same bytes, so the
 * page cannot drift from the code. Each vector is checked three ways: built with the library's encoders,
 * sent by a real RpcClient, and answered by a real RpcServer.
 */
import 'reflect-metadata';
import { test, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { IsNumber, NotEquals } from 'class-validator';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameKind,
  Method,
  RpcClient,
  RpcCode,
  RpcError,
  Service,
  jsonCodec,
  msgpackCodec,
  withOptions,
} from '../../src/index';
import { encodePreface, FRAME_HEADER_BYTES, PREFACE_BYTES, PrefaceFlags, PrefaceStatus, PROTOCOL_VERSION } from '../../src/protocol/frame';
import { FrameWriter, writeHeader } from '../../src/protocol/frame-writer';
import { encodeRequest } from '../../src/protocol/request';
import { rawConnect, startServer } from '../helpers/servers';

const VECTORS = {
  clientPreface: '4d5952504301000301000000',
  serverPreface: '4d5952504301008301000000',
  legacyClientPreface: '4d5952504301000001000000',
  legacyServerPreface: '4d5952504301000001000000',
  request: '0000001f01000000015b2243616c63756c61746f72222c22616464222c5b322c335d2c313030305d',
  response: '00000001020000000135',
  error:
    '000000f403000000027b22636f6465223a22494e56414c49445f415247554d454e54222c226d657373616765223a2269' +
    '6e76616c696420617267756d656e747320666f722043616c63756c61746f722e6164643a20617267735b305d206d7573' +
    '742062652061206e756d6265722c20676f7420737472696e67205c2274776f5c22222c2264657461696c73223a5b7b22' +
    '70617468223a22617267735b305d222c22636f6e73747261696e74223a2274797065222c226d657373616765223a2261' +
    '7267735b305d206d7573742062652061206e756d6265722c20676f7420737472696e67205c2274776f5c22227d5d2c22' +
    '6e6f7452756e223a747275657d',
  connectionError:
    '0000006503000000007b22636f6465223a225245534f555243455f455848415553544544222c226d657373616765223a' +
    '226672616d65206f66203136373737323137206279746573206578636565647320746865206c696d6974206f66203136' +
    '373737323136206279746573227d',
  oversizedHeader: '010000010100000004',
  request2: '0000001f01000000025b2243616c63756c61746f72222c22616464222c5b322c335d2c313030305d',
  cancel: '000000000400000002',
  ping: '000000000500000003',
  pong: '000000000600000003',
  goaway: '0000002107000000007b22726561736f6e223a22736572766572207368757474696e6720646f776e227d',
  // Server streams; test/stream/stream-wire.test.ts checks these against a real server.
  streamRequest: '0000001901000000015b2246656564222c22636f756e74222c5b325d2c313030305d',
  window: '0000000c09000000015b36342c313034383537365d',
  item0: '00000001080000000130',
  item1: '00000001080000000131',
  streamEnd: '000000000a00000001',
  // Client streams (section 6.8), also checked against a real server in test/stream/client-stream-wire.test.ts.
  uploadRequest: '0000001801000000015b2255706c6f6164222c2273756d222c5b5d2c313030305d',
  uploadWindow: '0000000c09000000015b36342c313034383537365d',
  item2: '00000001080000000132',
  item3: '00000001080000000133',
  uploadEnd: '000000000a00000001',
  uploadResponse: '00000001020000000135',
  msgpackClientPreface: '4d5952504301010301000000',
  msgpackServerPreface: '4d5952504301018301000000',
  msgpackRequest: '00000016010000000194aa43616c63756c61746f72a3616464920203cd03e8',
  msgpackResponse: '00000001020000000105',
  version2Preface: '4d5952504302000001000000',
  badVersion:
    '4d59525043010001010000000034756e737570706f727465642070726f746f636f6c2076657273696f6e20323b207468' +
    '69732073657276657220737065616b732031',
  codec9Preface: '4d5952504301090001000000',
  badCodec: '4d59525043010902010000000016756e737570706f7274656420636f6465632069642039',
  badMagic:
    '4d5952504301000301000000004d626164206d616769633a20746869732069732061204d795250432073657276657220' +
    '616e6420746865207065657220646964206e6f742073656e6420746865204d795250432070726566616365',
  httpAnswer:
    '485454502f312e31203430302042616420526571756573740d0a436f6e74656e742d547970653a20746578742f706c61' +
    '696e3b20636861727365743d7574662d380d0a436f6e6e656374696f6e3a20636c6f73650d0a0d0a5468697320706f72' +
    '7420737065616b7320746865204d795250432062696e6172792070726f746f636f6c206f766572205443502c206e6f74' +
    '20485454502e2053656520646f63732f50524f544f434f4c2e6d642e0a',
} as const;
type VectorName = keyof typeof VECTORS;

const bytes = (name: VectorName): Buffer => Buffer.from(VECTORS[name], 'hex');
const cat = (...names: VectorName[]): Buffer => Buffer.concat(names.map(bytes));

class Division {
  @IsNumber() dividend!: number;
  @IsNumber() @NotEquals(0) divisor!: number;
}

@Service('Calculator')
class Calculator {
  @Method() add(a: number, b: number): number {
    return a + b;
  }

  @Method() divide(d: Division): number {
    return d.dividend / d.divisor;
  }
}

/** timeoutMs on the wire is the time left when sent: hold the clock still while `fn` sends, so it is exact. */
function atFrozenClock<T>(t: TestContext, fn: () => T): T {
  const frozen = Date.now();
  const clock = t.mock.method(Date, 'now', () => frozen);
  try {
    return fn();
  } finally {
    clock.mock.restore();
  }
}

function frame(kind: FrameKind, id: number, payload: string | Uint8Array = ''): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const out = Buffer.alloc(FRAME_HEADER_BYTES + body.length);
  writeHeader(out, 0, body.length, kind, id);
  body.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** The bytes a FrameWriter hands to its socket for the given frames, written in one turn and flushed. */
function writtenBy(frames: [FrameKind, number, string | Uint8Array | undefined][]): Buffer {
  const writes: Buffer[] = [];
  const socket = {
    destroyed: false,
    writable: true,
    write: (b: Buffer) => writes.push(Buffer.from(b)) > 0,
    on: () => socket,
    off: () => socket,
  };
  const writer = new FrameWriter(socket as unknown as Socket, { writeTimeoutMs: 1000, onWriteTimeout: () => undefined });
  for (const [kind, id, payload] of frames) writer.write(kind, id, payload);
  writer.flush();
  writer.close();
  assert.equal(writes.length, 1, 'frames written in one turn go out in one socket write');
  return writes[0];
}

function findUp(relative: string): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${relative} not found above ${__dirname}`);
  }
}

const DOC = readFileSync(findUp('docs/PROTOCOL.md'), 'utf8');

/** The annotated dumps of the page: `<!-- dump: name -->` then a text block whose rows start with hex bytes. */
function docDumps(): Map<string, Buffer> {
  const dumps = new Map<string, Buffer>();
  for (const m of DOC.matchAll(/<!-- dump: (\w+) -->\n```text\n([\s\S]*?)\n```/g)) {
    const hex = m[2].split('\n').map((line) => {
      const row = /^([0-9a-f]{2}(?: [0-9a-f]{2})*)(?: {2,}|$)/.exec(line);
      assert.ok(row, `dump ${m[1]}: every row must start with its bytes, got ${JSON.stringify(line)}`);
      return row[1].replace(/ /g, '');
    });
    dumps.set(m[1], Buffer.from(hex.join(''), 'hex'));
  }
  return dumps;
}

function docJson(name: string): unknown {
  const m = new RegExp(`<!-- json: ${name} -->\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``).exec(DOC);
  assert.ok(m, `docs/PROTOCOL.md has no json block '${name}'`);
  return JSON.parse(m[1]);
}

/** A plain TCP server that records what a real RpcClient sends and answers like a MyRPC server would. */
async function recordingServer(
  answer: (received: Buffer, socket: Socket) => void,
): Promise<{ port: number; received(): Buffer; close(): Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      answer(Buffer.concat(chunks), socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers each documented client stage once, when its bytes are complete. */
function scriptedAnswers(stages: [VectorName[], VectorName[]][]): (received: Buffer, socket: Socket) => void {
  let next = 0;
  return (received, socket) => {
    while (next < stages.length && received.length >= cat(...stages[next][0]).length) {
      socket.write(cat(...stages[next][1]));
      next++;
    }
  };
}

describe('wire bytes: the library encoders produce the documented bytes', () => {
  const preface = (codec: number, status: number = PrefaceStatus.OK, reason?: string): Buffer =>
    encodePreface({ version: PROTOCOL_VERSION, codec, status, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES }, reason);

  test('prefaces: client and server, JSON and MessagePack', () => {
    const announced = PrefaceFlags.STREAMS | PrefaceFlags.CLIENT_STREAMS;
    const accepted = PrefaceFlags.FEATURES_ACCEPTED | announced;
    assert.equal(preface(jsonCodec.id, announced).toString('hex'), VECTORS.clientPreface);
    assert.equal(preface(jsonCodec.id, accepted).toString('hex'), VECTORS.serverPreface);
    assert.equal(preface(jsonCodec.id).toString('hex'), VECTORS.legacyClientPreface);
    assert.equal(preface(jsonCodec.id).toString('hex'), VECTORS.legacyServerPreface);
    assert.equal(preface(msgpackCodec.id, announced).toString('hex'), VECTORS.msgpackClientPreface);
    assert.equal(preface(msgpackCodec.id, accepted).toString('hex'), VECTORS.msgpackServerPreface);
    assert.equal(preface(jsonCodec.id).length, PREFACE_BYTES);
  });

  test('refusal prefaces carry a u16 length and a UTF-8 reason', () => {
    const refuse = (codec: number, status: number, reason: string): string => preface(codec, status, reason).toString('hex');
    assert.equal(refuse(0, PrefaceStatus.UNSUPPORTED_VERSION, 'unsupported protocol version 2; this server speaks 1'), VECTORS.badVersion);
    assert.equal(refuse(9, PrefaceStatus.UNSUPPORTED_CODEC, 'unsupported codec id 9'), VECTORS.badCodec);
    assert.equal(
      refuse(0, PrefaceStatus.BAD_MAGIC, 'bad magic: this is a MyRPC server and the peer did not send the MyRPC preface'),
      VECTORS.badMagic,
    );
  });

  test('REQUEST Calculator.add(2, 3), 1000 ms, id 1: writeHeader and FrameWriter agree', () => {
    const payload = jsonCodec.encode(encodeRequest('Calculator', 'add', [2, 3], 1000));
    assert.equal(payload, '["Calculator","add",[2,3],1000]');
    assert.equal(frame(FrameKind.REQUEST, 1, payload).toString('hex'), VECTORS.request);
    assert.equal(writtenBy([[FrameKind.REQUEST, 1, payload]]).toString('hex'), VECTORS.request);
    const msgpack = msgpackCodec.encode(encodeRequest('Calculator', 'add', [2, 3], 1000));
    assert.equal(writtenBy([[FrameKind.REQUEST, 1, msgpack]]).toString('hex'), VECTORS.msgpackRequest);
  });

  test('RESPONSE 5, id 1, in both codecs', () => {
    assert.equal(writtenBy([[FrameKind.RESPONSE, 1, jsonCodec.encode(5)]]).toString('hex'), VECTORS.response);
    assert.equal(writtenBy([[FrameKind.RESPONSE, 1, msgpackCodec.encode(5)]]).toString('hex'), VECTORS.msgpackResponse);
  });

  test('ERROR frames: a call error with details on id 2, a connection error on id 0', () => {
    const message = 'args[0] must be a number, got string "two"';
    const callError = new RpcError(RpcCode.INVALID_ARGUMENT, `invalid arguments for Calculator.add: ${message}`, {
      details: [{ path: 'args[0]', constraint: 'type', message }],
    });
    assert.equal(frame(FrameKind.ERROR, 2, jsonCodec.encode(callError.toWire(true))).toString('hex'), VECTORS.error);
    const tooLarge = new RpcError(RpcCode.RESOURCE_EXHAUSTED, 'frame of 16777217 bytes exceeds the limit of 16777216 bytes');
    assert.equal(frame(FrameKind.ERROR, 0, jsonCodec.encode(tooLarge.toWire())).toString('hex'), VECTORS.connectionError);
  });

  test('empty-payload frames (CANCEL, PING, PONG) and GOAWAY', () => {
    const out = writtenBy([
      [FrameKind.CANCEL, 2, undefined],
      [FrameKind.PING, 3, undefined],
      [FrameKind.PONG, 3, undefined],
    ]);
    assert.equal(out.toString('hex'), VECTORS.cancel + VECTORS.ping + VECTORS.pong);
    assert.equal(frame(FrameKind.GOAWAY, 0, jsonCodec.encode({ reason: 'server shutting down' })).toString('hex'), VECTORS.goaway);
  });

  test('the oversized header announces one byte more than the default limit', () => {
    const header = bytes('oversizedHeader');
    assert.equal(header.readUInt32BE(0), DEFAULT_MAX_FRAME_BYTES + 1);
    assert.equal(header.length, FRAME_HEADER_BYTES);
  });
});

describe('wire bytes: a real RpcClient sends the documented bytes', () => {
  for (const codec of ['json', 'msgpack'] as const) {
    test(`${codec}: preface, REQUEST add(2, 3) id 1 with timeoutMs 1000, and the answer 5 is read`, async (t) => {
      const [clientPreface, serverPreface, request, response]: VectorName[] =
        codec === 'json'
          ? ['clientPreface', 'serverPreface', 'request', 'response']
          : ['msgpackClientPreface', 'msgpackServerPreface', 'msgpackRequest', 'msgpackResponse'];
      const raw = await recordingServer(
        scriptedAnswers([
          [[clientPreface], [serverPreface]],
          [[clientPreface, request], [response]],
        ]),
      );
      const client = new RpcClient({ port: raw.port, host: '127.0.0.1', codec });
      try {
        await client.connect();
        const calc = withOptions(client.proxy(Calculator), { timeoutMs: 1000 });
        assert.equal(await atFrozenClock(t, () => calc.add(2, 3)), 5);
        assert.equal(raw.received().toString('hex'), VECTORS[clientPreface] + VECTORS[request]);
      } finally {
        await client.close();
        await raw.close();
      }
    });
  }

  test('json: a cancelled call sends REQUEST then CANCEL on id 2, and a ping sends PING id 3', async (t) => {
    const raw = await recordingServer(
      scriptedAnswers([
        [['clientPreface'], ['serverPreface']],
        [['clientPreface', 'request'], ['response']],
        [['clientPreface', 'request', 'request2', 'cancel', 'ping'], ['pong']],
      ]),
    );
    const client = new RpcClient({ port: raw.port, host: '127.0.0.1' });
    try {
      await client.connect();
      assert.equal(await atFrozenClock(t, () => withOptions(client.proxy(Calculator), { timeoutMs: 1000 }).add(2, 3)), 5);
      const abort = new AbortController();
      const second = atFrozenClock(t, () => withOptions(client.proxy(Calculator), { timeoutMs: 1000, signal: abort.signal }).add(2, 3));
      abort.abort();
      await assert.rejects(second, (err: RpcError) => err.code === RpcCode.CANCELLED);
      await client.ping(5000);
      assert.equal(
        raw.received().toString('hex'),
        VECTORS.clientPreface + VECTORS.request + VECTORS.request2 + VECTORS.cancel + VECTORS.ping,
      );
      assert.equal(client.pendingCount, 0);
    } finally {
      await client.close();
      await raw.close();
    }
  });
});

describe('wire bytes: a real RpcServer answers the documented bytes', () => {
  test('json: preface, RESPONSE, ERROR, PONG, then the connection-level ERROR and close', async () => {
    const started = await startServer([new Calculator()]);
    try {
      const peer = await rawConnect(started.port);
      peer.socket.write(cat('clientPreface', 'request'));
      let expected = cat('serverPreface', 'response');
      assert.equal((await peer.waitFor(expected.length)).toString('hex'), expected.toString('hex'));

      peer.socket.write(frame(FrameKind.REQUEST, 2, '["Calculator","add",["two",3],1000]'));
      expected = Buffer.concat([expected, bytes('error')]);
      assert.equal((await peer.waitFor(expected.length)).toString('hex'), expected.toString('hex'));

      peer.socket.write(bytes('ping'));
      expected = Buffer.concat([expected, bytes('pong')]);
      assert.equal((await peer.waitFor(expected.length)).toString('hex'), expected.toString('hex'));

      peer.socket.write(bytes('oversizedHeader'));
      expected = Buffer.concat([expected, bytes('connectionError')]);
      assert.equal((await peer.closed).toString('hex'), expected.toString('hex'));

      const client = started.client();
      assert.equal(await client.proxy(Calculator).add(20, 22), 42, 'the server still serves the next connection');
    } finally {
      await started.stop();
    }
  });

  test('msgpack: preface and RESPONSE', async () => {
    const started = await startServer([new Calculator()]);
    try {
      const peer = await rawConnect(started.port);
      peer.socket.write(cat('msgpackClientPreface', 'msgpackRequest'));
      const expected = cat('msgpackServerPreface', 'msgpackResponse');
      assert.equal((await peer.waitFor(expected.length)).toString('hex'), expected.toString('hex'));
      peer.socket.destroy();
    } finally {
      await started.stop();
    }
  });

  test('refusals: unsupported version, unsupported codec, bad magic, plain HTTP; each then closes', async () => {
    const started = await startServer([new Calculator()]);
    try {
      const cases: [Buffer, VectorName][] = [
        [bytes('version2Preface'), 'badVersion'],
        [bytes('codec9Preface'), 'badCodec'],
        [Buffer.from('HELLO, WORLD', 'latin1'), 'badMagic'],
        [Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'latin1'), 'httpAnswer'],
      ];
      for (const [sent, answer] of cases) {
        const peer = await rawConnect(started.port);
        peer.socket.write(sent);
        assert.equal((await peer.closed).toString('hex'), VECTORS[answer], answer);
      }
      assert.equal(await started.client().proxy(Calculator).add(1, 1), 2);
    } finally {
      await started.stop();
    }
  });

  test('GOAWAY on id 0 when the server shuts down, then close', async () => {
    const started = await startServer([new Calculator()]);
    const peer = await rawConnect(started.port);
    peer.socket.write(bytes('clientPreface'));
    await peer.waitFor(PREFACE_BYTES);
    await started.stop();
    assert.equal((await peer.closed).toString('hex'), VECTORS.serverPreface + VECTORS.goaway);
  });

  test('INVALID_ARGUMENT details for a DTO are the ones documented', async () => {
    const started = await startServer([new Calculator()]);
    try {
      const peer = await rawConnect(started.port);
      peer.socket.write(
        Buffer.concat([
          bytes('clientPreface'),
          frame(FrameKind.REQUEST, 1, '["Calculator","divide",[{"dividend":"ten","divisor":0}],1000]'),
        ]),
      );
      const head = await peer.waitFor(PREFACE_BYTES + FRAME_HEADER_BYTES);
      const length = head.readUInt32BE(PREFACE_BYTES);
      const all = await peer.waitFor(PREFACE_BYTES + FRAME_HEADER_BYTES + length);
      assert.equal(all[PREFACE_BYTES + 4], FrameKind.ERROR);
      assert.equal(all.readUInt32BE(PREFACE_BYTES + 5), 1);
      assert.deepEqual(jsonCodec.decode(all.subarray(PREFACE_BYTES + FRAME_HEADER_BYTES)), docJson('dtoError'));
      peer.socket.destroy();
    } finally {
      await started.stop();
    }
  });
});

describe('wire bytes: docs/PROTOCOL.md shows exactly these bytes', () => {
  test('every vector appears verbatim in the page', () => {
    for (const [name, hex] of Object.entries(VECTORS)) assert.ok(DOC.includes(hex), `docs/PROTOCOL.md lacks vector ${name}: ${hex}`);
  });

  test('every annotated hex dump in the page reproduces its vector', () => {
    const dumps = docDumps();
    assert.ok(dumps.size >= 10, `expected the page's annotated dumps, found ${dumps.size}`);
    for (const [name, dumped] of dumps) {
      assert.ok(name in VECTORS, `dump '${name}' has no vector`);
      assert.equal(dumped.toString('hex'), VECTORS[name as VectorName], `dump '${name}'`);
    }
    for (const name of ['clientPreface', 'serverPreface', 'request', 'response', 'error'] as const) {
      assert.ok(dumps.has(name), `the worked example lacks the dump '${name}'`);
    }
  });

  test('the layout drawings of src/protocol/frame.ts appear in the page', () => {
    const source = readFileSync(findUp('src/protocol/frame.ts'), 'utf8');
    const drawing = source
      .split('\n')
      .map((l) => l.replace(/^\s*\*/, '').trim())
      .filter((l) => /^(\+-|\||0 )/.test(l));
    assert.ok(drawing.length >= 8, 'frame.ts should hold the preface and frame drawings');
    const docLines = new Set(DOC.split('\n').map((l) => l.trim()));
    for (const line of drawing) assert.ok(docLines.has(line), `docs/PROTOCOL.md lacks the drawing line: ${line}`);
  });
});
