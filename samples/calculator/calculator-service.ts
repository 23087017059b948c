import { RpcCode, RpcError, type CallContext } from 'myrpc';
import { CalculatorContract, type Operation, type OperationResult } from './contract';

/** The server's implementation: overrides every method of the contract. */
export class CalculatorService extends CalculatorContract {
  /** How many slowSum handlers were stopped by their signal (the demo and tests read it). */
  cancelledSums = 0;

  override add(a: number, b: number): number {
    return a + b;
  }

  override compute(operation: Operation): OperationResult {
    const { op, a, b } = operation;
    if (op === 'div' && b === 0) {
      throw new RpcError(RpcCode.INVALID_ARGUMENT, 'division by zero', {
        details: [{ path: 'args[0].b', constraint: 'nonZero', message: 'b must not be 0 for div' }],
      });
    }
    const value = op === 'add' ? a + b : op === 'sub' ? a - b : op === 'mul' ? a * b : a / b;
    return { label: operation.label ?? `${a} ${op} ${b}`, value };
  }

  override async slowSum(n: number, stepMs: number, ctx: CallContext): Promise<number> {
    let sum = 0;
    for (let i = 1; i <= n; i++) {
      await sleep(stepMs, ctx.signal);
      if (ctx.signal.aborted) {
        this.cancelledSums++;
        throw ctx.signal.reason;
      }
      sum += i;
    }
    return sum;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
