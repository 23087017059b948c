export interface RetryBudgetOptions {
  /** Token bucket size. Default 10. */
  maxTokens?: number;
  /** Tokens a success puts back. Default 0.1 (about one retry per ten successes once the budget is spent). */
  tokenRatio?: number;
}

/**
 * Retry throttling as gRPC specifies it: each failure takes a token, each success puts back `tokenRatio`;
 * retries are allowed only while more than half the bucket is left. Under a broad outage this stops retries
 * from multiplying load.
 */
export class RetryBudget {
  private tokens: number;
  private readonly max: number;
  private readonly ratio: number;

  constructor(options: RetryBudgetOptions = {}) {
    this.max = options.maxTokens ?? 10;
    this.ratio = options.tokenRatio ?? 0.1;
    this.tokens = this.max;
  }

  get available(): number {
    return this.tokens;
  }

  onSuccess(): void {
    this.tokens = Math.min(this.max, this.tokens + this.ratio);
  }

  onFailure(): void {
    this.tokens = Math.max(0, this.tokens - 1);
  }

  canRetry(): boolean {
    return this.tokens > this.max / 2;
  }
}
