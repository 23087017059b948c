import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { RawFrameReader, RawFrameWriter } from './raw-framing';
import { streamItem, type StreamItem } from './stream-service';
import { TURN_BYTES, TURN_ITEMS, type StreamConsumer, type StreamItemKind } from './stream-consumer';
import { LOOPBACK } from './workloads';

/**
 * The baseline stream of bench/stream.ts: length-prefixed JSON over `node:net`, with the framing and batching of
 * bench/raw-system.ts. The client sends `{"id":1,"m":"items","a":["small"]}`; the server answers with frames
 * `{"id":1,"item":{…}}` for as long as the socket accepts them (at most TURN_ITEMS items or TURN_BYTES per
 * event-loop turn, then a wait for 'drain' when the socket is backed up), until `{"id":1,"cancel":true}`.
 */

interface RawStreamMessage {
  id: number;
  m?: string;
  a?: unknown[];
  cancel?: boolean;
}

export async function startRawStreamServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    const writer = new RawFrameWriter(socket);
    const live = new Set<number>();
    const reader = new RawFrameReader((json) => {
      const msg = JSON.parse(json) as RawStreamMessage;
      if (msg.cancel === true) return live.delete(msg.id);
      live.add(msg.id);
      produce(socket, writer, msg.id, String(msg.a?.[0]), () => live.has(msg.id));
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      live.clear();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function produce(socket: Socket, writer: RawFrameWriter, id: number, kind: string, live: () => boolean): void {
  let i = 0;
  const turn = (): void => {
    if (!live() || socket.destroyed) return;
    let bytes = 0;
    for (let k = 0; k < TURN_ITEMS && bytes < TURN_BYTES; k++) {
      const json = JSON.stringify({ id, item: streamItem(kind, i++) });
      bytes += json.length + 4;
      writer.write(json);
    }
    writer.flush();
    // 'drain' may come in a nextTick of a write the kernel took at once: resuming there would never let the
    // loop reach I/O (the cancel, IPC), so the next turn is always a setImmediate.
    if (socket.writableNeedDrain) socket.once('drain', () => setImmediate(turn));
    else setImmediate(turn);
  };
  turn();
}

/** One connection; each stream is an id, its items dispatched by id. */
export class RawStreamConsumer implements StreamConsumer {
  private readonly streams = new Map<number, (item: StreamItem) => void>();
  private nextId = 0;
  private readonly writer: RawFrameWriter;

  private constructor(private readonly socket: Socket) {
    this.writer = new RawFrameWriter(socket);
    const reader = new RawFrameReader((json) => {
      const msg = JSON.parse(json) as { id: number; item: StreamItem };
      this.streams.get(msg.id)?.(msg.item);
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
  }

  static open(port: number): Promise<RawStreamConsumer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: LOOPBACK, port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('error', () => undefined);
        resolve(new RawStreamConsumer(socket));
      });
    });
  }

  open(kind: StreamItemKind, onItem: (item: StreamItem) => void, onError: (err: unknown) => void): () => void {
    const id = ++this.nextId;
    this.streams.set(id, onItem);
    const onClose = (): void => onError(new Error('raw stream connection closed'));
    this.socket.once('close', onClose);
    this.writer.write(JSON.stringify({ id, m: 'items', a: [kind] }));
    return () => {
      this.streams.delete(id);
      this.socket.off('close', onClose);
      this.writer.write(JSON.stringify({ id, cancel: true }));
    };
  }

  async close(): Promise<void> {
    this.socket.destroy();
  }
}
