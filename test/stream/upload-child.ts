// A server process for the client stream memory test: `node upload-child.js serve` serves `Sink.upload(chunks)`,
// a handler that reads its input slowly, and `Sink.stats()`, what it received and its memory; reports { port }.
import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Method, Service } from '../../src/index';
import { serveForParent } from '../helpers/processes';

/**
 * A full GC before each sample, so the figures are what is live, not chunks already dropped and not yet
 * collected (V8 collects Buffers lazily). `--expose-gc` set at run time, for this process only.
 */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** The handler's pause per chunk: a consumer slower than the client's unthrottled producer. */
const PAUSE_EVERY_CHUNKS = 4;

export interface SinkStats {
  receivedChunks: number;
  heapUsedBytes: number;
  rssBytes: number;
  /** Buffers live outside the heap: what the chunks themselves hold. */
  arrayBufferBytes: number;
  peakHeapBytes: number;
  peakRssBytes: number;
  peakArrayBufferBytes: number;
}

@Service('Sink')
export class Sink {
  receivedChunks = 0;
  receivedBytes = 0;
  peakHeapBytes = 0;
  peakRssBytes = 0;
  peakArrayBufferBytes = 0;

  @Method({ stream: 'client', params: [Uint8Array] }) async upload(chunks: AsyncIterable<Uint8Array>): Promise<number> {
    for await (const chunk of chunks) {
      this.receivedChunks++;
      this.receivedBytes += chunk.length;
      if (this.receivedChunks % PAUSE_EVERY_CHUNKS === 0) await new Promise((r) => setTimeout(r, 1));
      if (this.receivedChunks % 64 === 0) this.sample();
    }
    return this.receivedBytes;
  }

  @Method() stats(): SinkStats {
    collectGarbage();
    const m = process.memoryUsage();
    return {
      receivedChunks: this.receivedChunks,
      heapUsedBytes: m.heapUsed,
      rssBytes: m.rss,
      arrayBufferBytes: m.arrayBuffers,
      peakHeapBytes: this.peakHeapBytes,
      peakRssBytes: this.peakRssBytes,
      peakArrayBufferBytes: this.peakArrayBufferBytes,
    };
  }

  private sample(): void {
    collectGarbage();
    const m = process.memoryUsage();
    this.peakHeapBytes = Math.max(this.peakHeapBytes, m.heapUsed);
    this.peakRssBytes = Math.max(this.peakRssBytes, m.rss);
    this.peakArrayBufferBytes = Math.max(this.peakArrayBufferBytes, m.arrayBuffers);
  }
}

serveForParent(() => [new Sink()]);
