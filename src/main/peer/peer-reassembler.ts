// The receiving side of one stream: turns envelopes back into whole items (PeerQueue's
// fragments joined in order) as the plain PeerInbound of peer-transport.ts. Per kind, a
// fragmented item is pending until the fragment without <Kind>More arrives; the first item of
// that kind in each later envelope continues it. Pure bookkeeping: no I/O, no timers.
import type {
  HonuPeerEnvelope, HonuPeerReply, HonuPeerRequest,
} from '../grpc/generated/peer.js';
import { peerReassemblyBytesMax } from './peer-limits.js';
import type { ForwardedReply, ForwardedRequest, PeerInbound } from './peer-transport.js';
import { itemId } from './peer-wire.js';

/** A malformed envelope: the stream is ended with this detail. */
export class PeerProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerProtocolError';
  }
}

interface KindJoin<W, T> {
  readonly name: string;
  payload(wire: W): Uint8Array;
  /** The item from the first fragment's fields and the whole payload. */
  item(first: W, payload: Uint8Array): T;
  /** A continuation must belong to the pending item (same id); raft has no id to check. */
  continues(first: W, next: W): boolean;
}

const raftJoin: KindJoin<Buffer, Uint8Array> = {
  name: 'raft',
  payload: (wire) => wire,
  item: (_first, payload) => payload,
  continues: () => true,
};

const requestJoin: KindJoin<HonuPeerRequest, ForwardedRequest> = {
  name: 'request',
  payload: (wire) => wire.Payload,
  item: (first, payload) => ({
    id: checkedId(first), partition: first.Partition, op: first.Op, payload,
  }),
  continues: (first, next) => first.Id === next.Id,
};

const replyJoin: KindJoin<HonuPeerReply, ForwardedReply> = {
  name: 'reply',
  payload: (wire) => wire.Payload,
  item: (first, payload) => ({
    id: checkedId(first), code: first.Code, detail: first.Detail, payload,
  }),
  continues: (first, next) => first.Id === next.Id,
};

function checkedId(wire: HonuPeerRequest | HonuPeerReply): number {
  const id = itemId(wire);
  if (id < 0) throw new PeerProtocolError('peer item id is not a safe integer');
  return id;
}

/** One kind's pending fragmented item. */
class KindAssembly<W, T> {
  private first: W | null = null;
  private parts: Uint8Array[] = [];
  private partBytes = 0;

  constructor(private readonly join: KindJoin<W, T>) {}

  /** Appends the whole items of `wires` to `out`; `more`: the last one continues later. */
  accept(wires: readonly W[], more: boolean, out: T[]): void {
    for (let i = 0; i < wires.length; i++) {
      const wire = wires[i] as W;
      const continues = more && i === wires.length - 1;
      if (this.first !== null) {
        this.append(wire);
        if (!continues) out.push(this.finish());
      } else if (continues) {
        this.first = wire;
        this.parts = [];
        this.partBytes = 0;
        this.append(wire);
      } else {
        out.push(this.join.item(wire, this.join.payload(wire)));
      }
    }
  }

  private append(wire: W): void {
    const first = this.first as W;
    if (!this.join.continues(first, wire)) {
      throw new PeerProtocolError(`${this.join.name} fragment of another item`);
    }
    const payload = this.join.payload(wire);
    this.partBytes += payload.byteLength;
    if (this.partBytes > peerReassemblyBytesMax) {
      throw new PeerProtocolError(`${this.join.name} item over ${peerReassemblyBytesMax} bytes`);
    }
    this.parts.push(payload);
  }

  private finish(): T {
    const first = this.first as W;
    const whole = Buffer.concat(this.parts, this.partBytes);
    this.first = null;
    this.parts = [];
    this.partBytes = 0;
    return this.join.item(first, whole);
  }
}

export class PeerReassembler {
  private readonly raft = new KindAssembly(raftJoin);
  private readonly requests = new KindAssembly(requestJoin);
  private readonly replies = new KindAssembly(replyJoin);

  /** The whole items `env` completes, or null when it completes none. Throws
   *  PeerProtocolError on a malformed envelope. */
  accept(env: HonuPeerEnvelope): PeerInbound | null {
    const raft: Uint8Array[] = [];
    const requests: ForwardedRequest[] = [];
    const replies: ForwardedReply[] = [];
    this.raft.accept(env.Raft, env.RaftMore, raft);
    this.requests.accept(env.Requests, env.RequestsMore, requests);
    this.replies.accept(env.Replies, env.RepliesMore, replies);
    if (raft.length + requests.length + replies.length === 0) return null;
    return { raft, requests, replies };
  }
}
