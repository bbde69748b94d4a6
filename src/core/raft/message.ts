// Building messages: every message has every field (one object shape for the JIT), so callers
// name only what differs from `blankMessage`.
import type { Message } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type MessageFields = Partial<Mutable<Message>>;

export const blankMessage: Message = {
  kind: 0,
  group: 0,
  from: 0,
  to: 0,
  term: 0,
  logTerm: 0,
  index: 0,
  entries: [],
  commit: 0,
  reject: false,
  rejectHint: 0,
  rejectHintTerm: 0,
  snapshot: null,
  context: null,
};

export function makeMessage(fields: MessageFields): Message {
  return { ...blankMessage, ...fields };
}

/** The Vote context of an election started by TimeoutNow (leader transfer, thesis 3.10): such
 *  votes bypass the leader lease, as the old leader asked for them (etcd campaignTransfer). */
export const transferContext: Uint8Array = Uint8Array.of(0x43, 0x54); // "CT"

export function isTransferContext(context: Uint8Array | null): boolean {
  return context !== null && context.length === 2 && context[0] === 0x43 && context[1] === 0x54;
}
