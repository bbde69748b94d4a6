// Membership changes (etcd confchange/, thesis 4.3): ConfChange entries' encoding, and the
// changer that turns a configuration plus a ConfChange into the next configuration. Learners
// never vote; a voter is demoted to a learner only once the joint configuration is left.
import { assert } from '../../assert.js';
import { cloneConfig, isJoint, type TrackerConfig } from './progress.js';
import {
  type ConfChange,
  ConfChangeKind,
  type ConfChangeKindValue,
  type ConfChangeSingle,
  type NodeId,
} from './types.js';

const confChangeVersion = 1;
const headerBytes = 6; // version u8, flags u8, count u32
const changeBytes = 9; // kind u8, node f64

/** Bytes of a ConfChange entry's data: header, the changes, then the context if any (u32
 *  length and bytes; data that ends after the changes has none). */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const body = headerBytes + changeBytes * cc.changes.length;
  const context = cc.context;
  const bytes = new Uint8Array(body + (context === undefined ? 0 : 4 + context.length));
  const view = new DataView(bytes.buffer);
  if (context !== undefined) {
    view.setUint32(body, context.length, true);
    bytes.set(context, body + 4);
  }
  view.setUint8(0, confChangeVersion);
  view.setUint8(1, (cc.leaveJoint ? 1 : 0) | (cc.autoLeave === false ? 2 : 0));
  view.setUint32(2, cc.changes.length, true);
  cc.changes.forEach((c, i) => {
    view.setUint8(headerBytes + i * changeBytes, c.kind);
    view.setFloat64(headerBytes + i * changeBytes + 1, c.node, true);
  });
  return bytes;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  assert(data.length >= headerBytes, 'conf change data too short');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  assert(view.getUint8(0) === confChangeVersion, 'unknown conf change version');
  const flags = view.getUint8(1);
  const count = view.getUint32(2, true);
  const body = headerBytes + count * changeBytes;
  assert(data.length === body || (data.length >= body + 4 &&
    data.length === body + 4 + view.getUint32(body, true)), 'conf change data length');
  const changes: ConfChangeSingle[] = [];
  for (let i = 0; i < count; i++) {
    const kind = view.getUint8(headerBytes + i * changeBytes) as ConfChangeKindValue;
    assert(kind <= ConfChangeKind.Remove, 'unknown conf change kind');
    changes.push({ kind, node: view.getFloat64(headerBytes + i * changeBytes + 1, true) });
  }
  let cc: ConfChange = { changes, leaveJoint: (flags & 1) !== 0 };
  if ((flags & 2) !== 0) cc = { ...cc, autoLeave: false };
  if (data.length > body) cc = { ...cc, context: data.slice(body + 4) };
  return cc;
}

/** Changing a configuration: the result, or why the change is invalid (as data). */
export type ChangeResult =
  | { readonly ok: true; readonly config: TrackerConfig }
  | { readonly ok: false; readonly reason: string };

/** Enters a joint configuration for more than one change, else changes one voter at a time. */
export function changeConfig(cfg: TrackerConfig, cc: ConfChange): ChangeResult {
  if (cc.leaveJoint) {
    if (cc.changes.length > 0) return fail('leaving a joint config takes no changes');
    return leaveJoint(cfg);
  }
  if (cc.changes.length > 1 || cc.joint === true) {
    return enterJoint(cfg, cc.autoLeave !== false, cc.changes);
  }
  return simple(cfg, cc.changes);
}

function fail(reason: string): ChangeResult {
  return { ok: false, reason };
}

function enterJoint(cfg: TrackerConfig, autoLeave: boolean,
  changes: readonly ConfChangeSingle[]): ChangeResult {
  if (isJoint(cfg)) return fail('config is already joint');
  if (cfg.voters[0].size === 0) return fail('cannot make a zero-voter config joint');
  const next = cloneConfig(cfg);
  for (const id of next.voters[0]) next.voters[1].add(id);
  const err = applyChanges(next, changes);
  if (err !== null) return fail(err);
  next.autoLeave = autoLeave;
  return { ok: true, config: next };
}

function leaveJoint(cfg: TrackerConfig): ChangeResult {
  if (!isJoint(cfg)) return fail('config is not joint');
  const next = cloneConfig(cfg);
  for (const id of next.learnersNext) next.learners.add(id);
  next.learnersNext.clear();
  next.voters[1].clear();
  next.autoLeave = false;
  return { ok: true, config: next };
}

function simple(cfg: TrackerConfig, changes: readonly ConfChangeSingle[]): ChangeResult {
  if (isJoint(cfg)) return fail('cannot apply a simple change to a joint config');
  const next = cloneConfig(cfg);
  const err = applyChanges(next, changes);
  if (err !== null) return fail(err);
  let diff = 0;
  for (const id of cfg.voters[0]) if (!next.voters[0].has(id)) diff++;
  for (const id of next.voters[0]) if (!cfg.voters[0].has(id)) diff++;
  if (diff > 1) return fail('more than one voter changed without a joint config');
  return { ok: true, config: next };
}

function applyChanges(cfg: TrackerConfig, changes: readonly ConfChangeSingle[]): string | null {
  for (const c of changes) {
    if (c.node <= 0) continue;
    if (c.kind === ConfChangeKind.AddVoter) makeVoter(cfg, c.node);
    else if (c.kind === ConfChangeKind.AddLearner) makeLearner(cfg, c.node);
    else remove(cfg, c.node);
  }
  if (cfg.voters[0].size === 0) return 'removed all voters';
  return null;
}

function makeVoter(cfg: TrackerConfig, id: NodeId): void {
  cfg.learners.delete(id);
  cfg.learnersNext.delete(id);
  cfg.voters[0].add(id);
}

function makeLearner(cfg: TrackerConfig, id: NodeId): void {
  if (cfg.learners.has(id)) return;
  cfg.voters[0].delete(id);
  cfg.learners.delete(id);
  cfg.learnersNext.delete(id);
  // A voter of the outgoing half stays one until the joint config is left (etcd).
  if (cfg.voters[1].has(id)) cfg.learnersNext.add(id);
  else cfg.learners.add(id);
}

function remove(cfg: TrackerConfig, id: NodeId): void {
  cfg.voters[0].delete(id);
  cfg.learners.delete(id);
  cfg.learnersNext.delete(id);
}

/** Every node the configuration tracks (voters of both halves, learners, learnersNext). */
export function trackedNodes(cfg: TrackerConfig): Set<NodeId> {
  const ids = new Set<NodeId>(cfg.voters[0]);
  for (const id of cfg.voters[1]) ids.add(id);
  for (const id of cfg.learners) ids.add(id);
  for (const id of cfg.learnersNext) ids.add(id);
  return ids;
}
