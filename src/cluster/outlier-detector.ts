import { RpcCode } from '../errors/rpc-error';

export const DEFAULT_OUTLIER_CODES: readonly RpcCode[] = [RpcCode.INTERNAL, RpcCode.UNKNOWN, RpcCode.DATA_LOSS, RpcCode.UNAVAILABLE];
export const DEFAULT_OUTLIER_FAILURE_PERCENT = 50;
export const DEFAULT_OUTLIER_MIN_REQUESTS = 20;
export const DEFAULT_OUTLIER_INTERVAL_MS = 10_000;
export const DEFAULT_OUTLIER_BASE_EJECTION_MS = 30_000;
export const DEFAULT_OUTLIER_MAX_EJECTION_MS = 300_000;

/**
 * Failure-rate outlier detection on answered codes (off unless given). Answers prove an endpoint is
 * reachable, so by default they never eject it; this option is for servers that answer, but badly.
 */
export interface OutlierDetectionOptions {
  /** Answered codes counted as failures. Default `INTERNAL`, `UNKNOWN`, `DATA_LOSS`, `UNAVAILABLE`. */
  codes?: readonly RpcCode[];
  /** Share of answers in one interval, in percent, that are failures before the endpoint is ejected. Default 50. */
  failurePercent?: number;
  /** Fewest answers in an interval before its failure share is judged. Default 20. */
  minRequests?: number;
  /** Length of one counting interval, ms. Default 10 s. */
  intervalMs?: number;
  /** First ejection length, ms; the n-th ejection in a row lasts n times as long. Default 30 s. */
  baseEjectionMs?: number;
  /** Longest ejection, ms. Default 300 s. */
  maxEjectionMs?: number;
}

/** One endpoint's answer counts for the current interval. */
export class OutlierDetector {
  private readonly codes: ReadonlySet<string>;
  private readonly failurePercent: number;
  private readonly minRequests: number;
  private readonly intervalMs: number;
  private readonly baseEjectionMs: number;
  private readonly maxEjectionMs: number;
  private answers = 0;
  private failures = 0;
  private intervalStart: number;
  private ejections = 0;

  constructor(
    options: OutlierDetectionOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.codes = new Set(options.codes ?? DEFAULT_OUTLIER_CODES);
    this.failurePercent = options.failurePercent ?? DEFAULT_OUTLIER_FAILURE_PERCENT;
    this.minRequests = options.minRequests ?? DEFAULT_OUTLIER_MIN_REQUESTS;
    this.intervalMs = options.intervalMs ?? DEFAULT_OUTLIER_INTERVAL_MS;
    this.baseEjectionMs = options.baseEjectionMs ?? DEFAULT_OUTLIER_BASE_EJECTION_MS;
    this.maxEjectionMs = options.maxEjectionMs ?? DEFAULT_OUTLIER_MAX_EJECTION_MS;
    if (!(this.failurePercent > 0 && this.failurePercent <= 100))
      throw new RangeError('outlierDetection.failurePercent must be in (0, 100]');
    if (!(this.minRequests >= 1)) throw new RangeError('outlierDetection.minRequests must be >= 1');
    if (!(this.intervalMs > 0)) throw new RangeError('outlierDetection.intervalMs must be > 0');
    if (!(this.baseEjectionMs > 0 && this.maxEjectionMs >= this.baseEjectionMs))
      throw new RangeError('outlierDetection.baseEjectionMs must be > 0 and <= maxEjectionMs');
    this.intervalStart = now();
  }

  /**
   * Counts one answer (`code` undefined for a success). Returns the ejection length, ms, when this
   * interval's failure share crossed the threshold, else 0. Call `ejected()` when the ejection happened
   * (the maximum ejection share may refuse it), so that only real ejections lengthen the next one.
   */
  record(code: string | undefined): number {
    const now = this.now();
    if (now - this.intervalStart >= this.intervalMs) {
      if (this.failures === 0 && this.answers > 0) this.ejections = 0; // a clean interval forgives past ejections
      this.intervalStart = now;
      this.answers = 0;
      this.failures = 0;
    }
    this.answers++;
    if (code !== undefined && this.codes.has(code)) this.failures++;
    if (this.answers < this.minRequests || this.failures * 100 < this.failurePercent * this.answers) return 0;
    this.answers = 0;
    this.failures = 0;
    return Math.min(this.maxEjectionMs, this.baseEjectionMs * (this.ejections + 1));
  }

  /** The ejection `record` asked for took place. */
  ejected(): void {
    this.ejections++;
  }
}
