/** Credit a client grants a server stream when it opens it, and again as the consumer takes items. */
export const DEFAULT_STREAM_WINDOW_MESSAGES = 256;
/** Byte credit of a server stream's window (encoded item payloads). */
export const DEFAULT_STREAM_WINDOW_BYTES = 1024 * 1024;

/** A stream's window: the credit its receiver grants as it opens, in items and in encoded payload bytes. */
export interface StreamWindow {
  readonly messages: number;
  readonly bytes: number;
}

/** The window a receiver grants when none is configured. */
export const DEFAULT_STREAM_WINDOW: StreamWindow = { messages: DEFAULT_STREAM_WINDOW_MESSAGES, bytes: DEFAULT_STREAM_WINDOW_BYTES };

/** What a stream's sender may still send: items and payload bytes. */
export class Credit {
  messages = 0;
  bytes = 0;

  /** An item may go while both counts are positive (one item may overshoot the byte credit). */
  get open(): boolean {
    return this.messages > 0 && this.bytes > 0;
  }

  /** Adds a WINDOW grant; refuses what is not two non-negative safe integers. */
  grant(value: unknown): boolean {
    if (!Array.isArray(value) || value.length !== 2) return false;
    const [messages, bytes] = value as unknown[];
    if (!isCount(messages) || !isCount(bytes)) return false;
    this.messages = Math.min(this.messages + messages, Number.MAX_SAFE_INTEGER);
    this.bytes = Math.min(this.bytes + bytes, Number.MAX_SAFE_INTEGER);
    return true;
  }

  spend(payloadBytes: number): void {
    this.messages -= 1;
    this.bytes -= payloadBytes;
  }
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}
