import type { Codec } from '../codec/codec';
import type { WireError } from '../errors/rpc-error';
import { payloadExceeds } from './frame-writer';

/**
 * Encodes an ERROR payload that fits the peer's `maxFrameBytes`. The code always survives; details go first,
 * then the message is cut to 200 characters with a note, or halved until it fits, then only `{code, notRun?}` is left. Returns
 * undefined only when even that does not fit, which a limit of at least 64 bytes rules out.
 */
export function fitErrorPayload(codec: Codec, wire: WireError, limitBytes: number): string | Uint8Array | undefined {
  let payload = encodeOrBare(codec, wire);
  if (!payloadExceeds(payload, limitBytes)) return payload;
  const base: WireError = { code: wire.code, message: '' };
  if (wire.notRun) base.notRun = true;
  if (wire.timeout !== undefined) base.timeout = wire.timeout;
  const note = `… (truncated to fit the client's frame limit of ${limitBytes} bytes)`;
  payload = codec.encode({ ...base, message: wire.message.slice(0, 200) + note });
  if (!payloadExceeds(payload, limitBytes)) return payload;
  for (let chars = Math.min(wire.message.length, limitBytes); chars > 0; chars = Math.floor(chars / 2)) {
    payload = codec.encode({ ...base, message: `${wire.message.slice(0, chars)}…` });
    if (!payloadExceeds(payload, limitBytes)) return payload;
  }
  const bare: Partial<WireError> = { code: wire.code };
  if (wire.notRun) bare.notRun = true;
  for (const last of [bare, { code: wire.code }]) {
    payload = codec.encode(last);
    if (!payloadExceeds(payload, limitBytes)) return payload;
  }
  return undefined;
}

/** Details a handler filled with something the codec cannot carry (a BigInt, a cycle) must not crash the server. */
function encodeOrBare(codec: Codec, wire: WireError): string | Uint8Array {
  try {
    return codec.encode(wire);
  } catch {
    const bare: WireError = { code: wire.code, message: wire.message };
    if (wire.notRun) bare.notRun = true;
    return codec.encode(bare);
  }
}
