// The contract: what client and server agree on. The client imports only this file, never server code.
import { IsIn, IsNumber, IsOptional, IsString, MaxLength } from 'class-validator';
import { Ctx, Method, Service, unimplemented, type CallContext } from 'myrpc';

/** A DTO: class-transformer turns the plain JSON into this class, class-validator checks the rules. */
export class Operation {
  @IsIn(['add', 'sub', 'mul', 'div'])
  op!: 'add' | 'sub' | 'mul' | 'div';

  @IsNumber({ allowNaN: false, allowInfinity: false })
  a!: number;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  b!: number;

  @IsOptional()
  @IsString()
  @MaxLength(40)
  label?: string;
}

export interface OperationResult {
  label: string;
  value: number;
}

/* eslint-disable @typescript-eslint/no-unused-vars -- a contract declares signatures; the server overrides them */
@Service('Calculator')
export class CalculatorContract {
  @Method({ idempotent: true })
  add(a: number, b: number): number {
    return unimplemented();
  }

  @Method()
  compute(operation: Operation): OperationResult {
    return unimplemented();
  }

  /** Sums 1..n slowly, one step per `stepMs`; stops when the caller cancels. */
  @Method({ timeoutMs: 60_000 })
  slowSum(n: number, stepMs: number, @Ctx() ctx: CallContext): Promise<number> {
    return unimplemented();
  }
}
/* eslint-enable @typescript-eslint/no-unused-vars */
