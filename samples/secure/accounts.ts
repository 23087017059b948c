import { Ctx, Method, Service, type CallContext } from 'myrpc';

/** A domain error, mapped to NOT_FOUND by the server's `mapErrors` interceptor. */
export class AccountNotFound extends Error {}

@Service('Accounts')
export class AccountsService {
  private readonly balances = new Map<string, number>([
    ['alice', 120],
    ['bob', 7],
  ]);

  /** Open to every authenticated caller. */
  @Method()
  balance(id: string): number {
    const balance = this.balances.get(id);
    if (balance === undefined) throw new AccountNotFound(`no account '${id}'`);
    return balance;
  }

  /** Needs the `admin` role (checked by `bearerAuth`'s default `rolesAllowed`). */
  @Method({ meta: { roles: ['admin'] } })
  close(id: string, @Ctx() ctx: CallContext): string {
    if (!this.balances.delete(id)) throw new AccountNotFound(`no account '${id}'`);
    return `closed ${id} for ${(ctx.principal as { name: string }).name}`;
  }
}
