import 'reflect-metadata';
import { Exclude, Expose, Type } from 'class-transformer';
import { IsEmail, IsInt, IsString, Length, Min, ValidateNested } from 'class-validator';
import { Ctx, Method, RpcCode, RpcError, Service, type CallContext } from '../../src/index';

/** Services shared by the server robustness tests. Each test makes fresh instances, so their records are its own. */

export class UserDto {
  @IsEmail() email!: string;
  @IsInt() @Min(0) age!: number;
}

export class AddressDto {
  @IsString() @Length(5, 5) zip!: string;
  @IsString() city!: string;
}

export class OrderDto {
  @ValidateNested() @Type(() => AddressDto) address!: AddressDto;
  @IsInt() @Min(1) quantity!: number;
}

export class Account {
  constructor(
    public id: number,
    passwordHash: string,
  ) {
    this.passwordHash = passwordHash;
  }

  @Exclude() passwordHash: string;

  @Expose()
  get label(): string {
    return `account #${this.id}`;
  }
}

/** A class whose instances point at themselves: class-transformer recurses without end on it. */
export class TreeNode {
  parent: TreeNode | undefined;
  children: TreeNode[] = [];
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

@Service('Calculator')
export class Calculator {
  readonly users: unknown[] = [];
  readonly orders: unknown[] = [];
  /** The signal of every `wait`, `held`, `hang` and `hangBriefly` call, in arrival order. */
  readonly signals: { method: string; signal: AbortSignal }[] = [];
  echoes = 0;
  private readonly waiting: (() => void)[] = [];

  @Method() add(a: number, b: number): number {
    return a + b;
  }

  @Method() describe(name: string, loud: boolean, tags: string[]): string {
    return `${loud ? name.toUpperCase() : name} [${tags.join(',')}]`;
  }

  @Method() async register(user: UserDto): Promise<string> {
    this.users.push(user);
    return `registered ${user.email}`;
  }

  @Method() async order(order: OrderDto): Promise<string> {
    this.orders.push(order);
    return `${order.quantity} to ${order.address.zip}`;
  }

  @Method() echo(text: string): string {
    this.echoes++;
    return text;
  }

  @Method() big(chars: number): string {
    return 'x'.repeat(chars);
  }

  @Method() async wait(ms: number, @Ctx() ctx: CallContext): Promise<string> {
    this.signals.push({ method: 'wait', signal: ctx.signal });
    await sleep(ms, ctx.signal);
    return `waited ${ms}`;
  }

  /** Runs until the test calls `release()` (or its signal aborts): a call that is surely in flight. */
  @Method() held(@Ctx() ctx: CallContext): Promise<string> {
    const signal = ctx.signal;
    this.signals.push({ method: 'held', signal });
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      this.waiting.push(() => resolve('released'));
    });
  }

  /** Never settles and ignores its signal (which it records). */
  @Method() hang(@Ctx() ctx: CallContext): Promise<string> {
    this.signals.push({ method: 'hang', signal: ctx.signal });
    return new Promise<string>(() => undefined);
  }

  @Method({ timeoutMs: 150 }) hangBriefly(@Ctx() ctx: CallContext): Promise<string> {
    this.signals.push({ method: 'hangBriefly', signal: ctx.signal });
    return new Promise<string>(() => undefined);
  }

  /** Not a @Method: the signal of the first call to `method` (throws when there was none). */
  signalOf(method: string): AbortSignal {
    const found = this.signals.find((s) => s.method === method);
    if (!found) throw new Error(`no call to ${method} reached the handler`);
    return found.signal;
  }

  /** Not a @Method: the test's hand on `held` calls. */
  release(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

export const SECRET = 'hunter2';

@Service('Faulty')
export class Faulty {
  @Method() leak(): string {
    throw new Error(`db password is ${SECRET}`);
  }

  @Method() async leakAsync(): Promise<string> {
    throw new Error(`db password is ${SECRET}`);
  }

  @Method() async notFound(id: number): Promise<string> {
    throw new RpcError(RpcCode.NOT_FOUND, `user ${id} not found`, {
      details: [{ path: 'args[0]', constraint: 'exists', message: `no user with id ${id}` }],
    });
  }

  @Method() rejectString(): Promise<string> {
    return Promise.reject(`the ${SECRET} string`);
  }

  @Method() throwUndefined(): string {
    throw undefined;
  }

  @Method() bigint(): unknown {
    return 10n;
  }

  @Method() circular(): unknown {
    const o: Record<string, unknown> = { name: 'loop' };
    o.self = o;
    return o;
  }

  @Method() circularClass(): TreeNode {
    const root = new TreeNode();
    const child = new TreeNode();
    child.parent = root;
    root.children.push(child);
    return root;
  }

  @Method() async circularClassAsync(): Promise<TreeNode> {
    return this.circularClass();
  }

  @Method() fn(): unknown {
    return () => SECRET;
  }

  @Method() async unencodableDetails(): Promise<string> {
    throw new RpcError(RpcCode.NOT_FOUND, 'nothing here', { details: [{ message: 'id', id: 10n }] });
  }

  @Method() hugeError(chars: number): string {
    throw new RpcError(RpcCode.NOT_FOUND, `no such thing: ${'x'.repeat(chars)}`, { details: [{ message: 'y'.repeat(chars) }] });
  }

  @Method() account(): Account {
    return new Account(7, 'bcrypt$secret');
  }

  @Method() accounts(): Account[] {
    return [new Account(1, 'bcrypt$one'), new Account(2, 'bcrypt$two')];
  }

  @Method() page(): { items: Account[]; total: number; at: Date } {
    return { items: [new Account(3, 'bcrypt$three')], total: 1, at: new Date(0) };
  }
}
