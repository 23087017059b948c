import * as grpc from '@grpc/grpc-js';
import { benchService, CHANNEL_OPTIONS } from './grpc-system';
import { streamItem, type StreamItem } from './stream-service';
import { TURN_ITEMS, type StreamConsumer, type StreamItemKind } from './stream-consumer';
import { LOOPBACK } from './workloads';

/**
 * The gRPC producer of bench/stream.ts: writes while `write()` says the stream accepts more, at most
 * TURN_ITEMS per event-loop turn, and waits for 'drain' otherwise.
 */
export function grpcItems(call: grpc.ServerWritableStream<{ kind: string }, StreamItem>): void {
  const kind = call.request.kind;
  let i = 0;
  let cancelled = false;
  call.on('cancelled', () => (cancelled = true));
  call.on('error', () => (cancelled = true));
  const turn = (): void => {
    for (let k = 0; k < TURN_ITEMS; k++) {
      if (cancelled) return;
      if (!call.write(streamItem(kind, i++))) {
        call.once('drain', () => setImmediate(turn)); // never resume inside the write's own callbacks
        return;
      }
    }
    setImmediate(turn);
  };
  turn();
}

/** grpc-js server streaming over one channel (one HTTP/2 connection). */
export class GrpcStreamConsumer implements StreamConsumer {
  private constructor(private readonly client: any) {}

  static async open(port: number): Promise<GrpcStreamConsumer> {
    const Bench = benchService();
    const client = new Bench(`${LOOPBACK}:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    await new Promise<void>((ok, fail) => client.waitForReady(Date.now() + 5000, (err?: Error) => (err ? fail(err) : ok())));
    return new GrpcStreamConsumer(client);
  }

  open(kind: StreamItemKind, onItem: (item: StreamItem) => void, onError: (err: unknown) => void): () => void {
    const call = this.client.Items({ kind }) as grpc.ClientReadableStream<StreamItem>;
    let cancelled = false;
    call.on('data', (item: StreamItem) => {
      if (!cancelled) onItem(item);
    });
    call.on('error', (err: grpc.ServiceError) => {
      if (!cancelled) onError(err);
    });
    return () => {
      cancelled = true;
      call.cancel();
    };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
