import 'reflect-metadata';
import { RpcClient, withOptions, type RpcError, type TlsClientOptions } from 'myrpc';
import { AccountsService } from './accounts';
import type { SecureKeys } from './server';

/** Calls the secure server as the app, then as ops; returns (and prints) what happened. */
export async function runSecureClient(
  port: number,
  tls: TlsClientOptions,
  keys: SecureKeys,
  out: (line: string) => void = console.log,
): Promise<string[]> {
  const lines: string[] = [];
  const say = (line: string): void => void (lines.push(line), out(line));
  const outcome = (p: Promise<unknown>): Promise<string> =>
    p.then(
      (v) => JSON.stringify(v),
      (e: RpcError) => e.code,
    );
  const anonymous = new RpcClient({ port, tls });
  const app = new RpcClient({ port, tls, metadata: { authorization: `Bearer ${keys.app}` } });
  try {
    say(`anonymous balance(alice) -> ${await outcome(anonymous.proxy(AccountsService).balance('alice'))}`);
    const accounts = app.proxy(AccountsService);
    say(`app balance(alice) -> ${await outcome(accounts.balance('alice'))}`);
    say(`app balance(carol) -> ${await outcome(accounts.balance('carol'))}`);
    say(`app close(bob) -> ${await outcome(accounts.close('bob'))}`);
    const asOps = withOptions(accounts, { metadata: { authorization: `Bearer ${keys.admin}` } });
    say(`ops close(bob) -> ${await outcome(asOps.close('bob'))}`);
  } finally {
    await Promise.all([anonymous.close(), app.close()]);
  }
  return lines;
}
