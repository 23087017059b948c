import { performance } from 'node:perf_hooks';
import { cpuNowUs, type LoopResult } from './ipc';
import { LatencySamples } from './stats';

const WARMUP = 0;
const MEASURE = 1;
const STOP = 2;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Closed loop: `inFlight` workers each keep one call outstanding, issuing the next as soon as the last
 * answers. Calls that complete during the warm-up are not counted; those completing inside the window are.
 * After the window, workers stop issuing and the outstanding calls must answer within `stallMs`.
 */
export async function runClosedLoop(
  call: () => Promise<unknown>,
  inFlight: number,
  warmupMs: number,
  durationMs: number,
  stallMs: number,
): Promise<LoopResult> {
  const samples = new LatencySamples();
  let phase = WARMUP;
  let errors = 0;
  let firstError: string | undefined;
  let maxMs = 0;
  let totalCalls = 0;
  const cpuStart = cpuNowUs();

  const worker = async (): Promise<void> => {
    while (phase !== STOP) {
      const t0 = performance.now();
      try {
        await call();
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        return; // a failing call can fail at once; retrying in a tight loop would starve the timers
      }
      const ms = performance.now() - t0;
      totalCalls++;
      if (ms > maxMs) maxMs = ms;
      if (phase === MEASURE) samples.add(ms);
    }
  };

  const workers: Promise<void>[] = [];
  for (let i = 0; i < inFlight; i++) workers.push(worker());
  await sleep(warmupMs);
  phase = MEASURE;
  const windowStart = performance.now();
  await sleep(durationMs);
  phase = STOP;
  const windowMs = performance.now() - windowStart;

  let stallTimer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    Promise.all(workers).then(() => true),
    new Promise<boolean>((resolve) => (stallTimer = setTimeout(() => resolve(false), stallMs))),
  ]);
  clearTimeout(stallTimer);
  const clientCpuUs = cpuNowUs() - cpuStart;

  const [p50Ms, p99Ms] = samples.percentiles([0.5, 0.99]);
  return {
    calls: samples.size,
    errors,
    firstError,
    windowMs,
    callsPerSec: (samples.size * 1000) / windowMs,
    p50Ms,
    p99Ms,
    maxMs,
    drained,
    totalCalls,
    clientCpuUs,
  };
}
