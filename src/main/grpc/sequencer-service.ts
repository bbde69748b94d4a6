// The Sequencer service (wire.md 2.3): create, update (client-only RPC), get, next, reserve and
// delete. NextSequenceValue is a reservation of one value (kahuna-ts does the same through
// ReserveSequenceRange with Count 1). Every response sets TimeElapsedMs.
import { SeqType } from '../../core/api/codes.js';
import type {
  KahunaBackend, SequenceAllocationResponse, SequenceEntry, SequenceResponse,
} from '../../core/api/types.js';
import {
  GrpcSequenceAllocationResponse, GrpcSequenceResponse,
  type GrpcCreateSequenceRequest, type GrpcDeleteSequenceRequest, type GrpcGetSequenceRequest,
  type GrpcNextSequenceRequest, type GrpcReserveSequenceRangeRequest, type GrpcSequenceEntry,
  type GrpcUpdateSequenceRequest, type SequencerServer,
} from './generated/sequences.js';
import { elapsedMsSince, hlcTo, long, nowMs, num, optLong, optNum } from './convert.js';
import { hinted } from './route-hints.js';
import { unary, type HandlerContext } from './handlers.js';

function entryTo(e: SequenceEntry): GrpcSequenceEntry {
  return {
    Name: e.name, CurrentValue: long(e.currentValue), InitialValue: long(e.initialValue),
    Increment: long(e.increment), MaxValue: optLong(e.maxValue), Revision: long(e.revision),
    Durability: e.durability, ...hlcTo('CreatedAt', e.createdAt),
    ...hlcTo('UpdatedAt', e.updatedAt), BlockSize: e.blockSize ?? undefined,
    Incarnation: long(e.incarnation),
  };
}

/** Sequence is a message field: absent unless the backend returned an entry (Get). */
function sequenceTo(res: SequenceResponse, startedMs: number): GrpcSequenceResponse {
  return {
    ServedFrom: '', Type: res.type,
    Sequence: res.sequence === null ? undefined : entryTo(res.sequence),
    Revision: long(res.revision), TimeElapsedMs: elapsedMsSince(startedMs),
  };
}

function allocationTo(res: SequenceAllocationResponse,
  startedMs: number): GrpcSequenceAllocationResponse {
  const a = res.allocation;
  return {
    ServedFrom: '', Type: res.type,
    Allocation: a === null ? undefined : {
      Name: a.name, Start: long(a.start), End: long(a.end), Count: a.count,
      Revision: long(a.revision),
    },
    TimeElapsedMs: elapsedMsSince(startedMs),
  };
}

/** Times `call` and maps its plain response. */
function timed<P, R>(call: () => Promise<P>, to: (res: P, startedMs: number) => R): Promise<R> {
  const startedMs = nowMs();
  return call().then((res) => to(res, startedMs));
}

export function createSequencerService(backend: KahunaBackend,
  ctx: HandlerContext): SequencerServer {
  const failed = (): GrpcSequenceResponse =>
    GrpcSequenceResponse.fromPartial({ ServedFrom: '', Type: SeqType.MustRetry });
  const failedAllocation = (): GrpcSequenceAllocationResponse =>
    GrpcSequenceAllocationResponse.fromPartial({ ServedFrom: '', Type: SeqType.MustRetry });
  // Every sequence response carries the name's route hint (wire.md 2.5).
  const seq = <M extends { Name: string }, R extends object>(op: (m: M) => Promise<R>) =>
    hinted(backend, 'sequence', (m: M) => m.Name, op);
  return {
    createSequence: unary(ctx, 'CreateSequence', seq((m: GrpcCreateSequenceRequest) => timed(
      () => backend.seqCreate({
        name: m.Name, initialValue: num(m.InitialValue), increment: num(m.Increment),
        maxValue: optNum(m.MaxValue), durability: m.Durability, blockSize: m.BlockSize ?? null,
      }), sequenceTo)), failed),
    updateSequence: unary(ctx, 'UpdateSequence', seq((m: GrpcUpdateSequenceRequest) => timed(
      () => backend.seqUpdate({
        name: m.Name, currentValue: optNum(m.CurrentValue), increment: optNum(m.Increment),
        initialValue: optNum(m.InitialValue), maxValue: optNum(m.MaxValue),
        removeMaxValue: m.RemoveMaxValue, blockSize: m.BlockSize ?? null,
        removeBlockSize: m.RemoveBlockSize, durability: m.Durability,
      }), sequenceTo)), failed),
    getSequence: unary(ctx, 'GetSequence', seq((m: GrpcGetSequenceRequest) => timed(
      () => backend.seqGet({ name: m.Name, durability: m.Durability }), sequenceTo)), failed),
    deleteSequence: unary(ctx, 'DeleteSequence', seq((m: GrpcDeleteSequenceRequest) => timed(
      () => backend.seqDelete({ name: m.Name, durability: m.Durability }), sequenceTo)), failed),
    nextSequenceValue: unary(ctx, 'NextSequenceValue', seq((m: GrpcNextSequenceRequest) => timed(
      () => backend.seqReserve({
        name: m.Name, count: 1, idempotencyKey: m.IdempotencyKey ?? null,
        durability: m.Durability,
      }), allocationTo)), failedAllocation),
    reserveSequenceRange: unary(ctx, 'ReserveSequenceRange',
      seq((m: GrpcReserveSequenceRangeRequest) => timed(() => backend.seqReserve({
        name: m.Name, count: m.Count, idempotencyKey: m.IdempotencyKey ?? null,
        durability: m.Durability,
      }), allocationTo)), failedAllocation),
  };
}
