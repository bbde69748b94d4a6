// Kahuna's script, session and exclusive-lock routes (wire.md 3.4): try-execute-tx-script,
// start-tx-session, commit-tx-session, rollback-tx-session, try-acquire-exclusive-lock,
// try-acquire-prefix-lock and try-release-prefix-lock under /v1/kv/. Always HTTP 200; the
// outcome is `type` (KvType). The semantics (wire.md 4.4, 4.5) are the TxBackend's; this file
// maps JSON to the plain requests and back, and adds the one check only REST has: a null or
// missing `script` is InvalidInput. REST carries priority and conflict policy as the C# values
// (priority 0-4, absent = 0 = Background), which is what the TxBackend takes.
import { KvType } from '../../core/api/codes.js';
import type { Hlc } from '../../core/api/types.js';
import { hlcZero } from '../../core/api/types.js';
import type {
  EndTxRequest, EndTxResponse, ExclusiveLockRequest, ExclusiveLockResponse,
  ReleaseExclusiveLockRequest, ScriptRequest, ScriptResponse, ScriptValue, StartTxRequest,
  TxBackend,
} from '../../core/api/tx-types.js';
import type { RestReply, RestRouter } from './router.js';
import { addJsonPost, base64OrNull, hlcJson, type JsonFields } from './json-fields.js';

export interface TxRouteDeps {
  readonly tx: TxBackend;
}

const invalid = KvType.InvalidInput;

// ------------------------------------------------------------------ requests

/** `parameters` may be null or missing (none); a member of the wrong type is InvalidInput. */
function scriptRequest(f: JsonFields): ScriptRequest {
  const rows = f.objects('parameters');
  const parameters = rows?.map((p) => ({ key: p.string('key'), value: p.stringOrNull('value') }))
    ?? [];
  f.absorb(rows ?? []);
  return { hash: f.stringOrNull('hash'), script: f.bytes('script'), parameters,
    priority: f.int32('priority') };
}

function startRequest(f: JsonFields): StartTxRequest {
  return {
    coordinatorKey: f.string('coordinatorKey'), lockingType: f.int32('lockingType'),
    timeout: f.int32('timeout'), asyncRelease: f.bool('asyncRelease'),
    autoCommit: f.bool('autoCommit'), readValidation: f.int32('readValidation'),
    decisionDurability: f.int32('decisionDurability'), readTimestamp: f.hlc('readTimestamp'),
    priority: f.int32('priority'), admissionWaitMs: f.int32('admissionWaitMs'),
    conflictPolicy: f.int32('conflictPolicy'),
  };
}

function endRequest(f: JsonFields): EndTxRequest {
  return { coordinatorKey: f.string('coordinatorKey'), transactionId: f.hlc('transactionId'),
    recordAnchorKey: f.stringOrNull('recordAnchorKey') };
}

/** try-acquire-exclusive-lock and try-acquire-prefix-lock (`key` is the bucket there). */
function lockRequest(f: JsonFields): ExclusiveLockRequest {
  return {
    transactionId: f.hlc('transactionId'), key: f.string('key'), expiresMs: f.int32('expiresMs'),
    durability: f.int32('durability'), coordinatorKey: f.string('coordinatorKey'),
    operationIdHigh: f.uint64('operationIdHigh'), operationIdLow: f.uint64('operationIdLow'),
  };
}

function releaseRequest(f: JsonFields): ReleaseExclusiveLockRequest {
  return { transactionId: f.hlc('transactionId'), key: f.string('key'),
    durability: f.int32('durability') };
}

// ------------------------------------------------------------------ replies

function scriptValueJson(v: ScriptValue): object {
  return { key: v.key, value: base64OrNull(v.value), revision: v.revision,
    expires: hlcJson(v.expires), lastModified: hlcJson(v.lastModified) };
}

/** The legacy top-level value, revision and expires are the first value's (wire.md 4.5). */
function scriptReply(res: ScriptResponse): RestReply {
  const first = res.values[0];
  return { json: { servedFrom: '', type: res.type, value: base64OrNull(first?.value ?? null),
    revision: first?.revision ?? 0, expires: hlcJson(first?.expires ?? hlcZero),
    reason: res.reason, values: res.values.map(scriptValueJson) } };
}

function invalidScript(reason: string): RestReply {
  return scriptReply({ type: invalid, reason, values: [], timeElapsedMs: 0 });
}

function startReply(type: number, transactionId: Hlc): RestReply {
  return { json: { servedFrom: '', type, transactionId: hlcJson(transactionId) } };
}

function endReply(res: EndTxResponse): RestReply {
  return { json: { servedFrom: '', type: res.type, recordAnchorKey: res.recordAnchorKey } };
}

function lockReply(res: ExclusiveLockResponse): RestReply {
  return { json: { servedFrom: '', type: res.type, holderTransactionId: hlcJson(res.holder) } };
}

const invalidEnd = endReply({ type: invalid, recordAnchorKey: null });
const invalidLock = lockReply({ type: invalid, holder: hlcZero });

// ------------------------------------------------------------------ routes

function registerScriptRoute(router: RestRouter, tx: TxBackend): void {
  addJsonPost(router, '/v1/kv/try-execute-tx-script', KvType.MustRetry, async (f) => {
    const req = scriptRequest(f);
    if (f.problem !== null) return invalidScript(f.problem);
    if (req.script === null) return invalidScript('script is required');
    return scriptReply(await tx.executeScript(req));
  });
}

function registerSessionRoutes(router: RestRouter, tx: TxBackend): void {
  const must = KvType.MustRetry;
  addJsonPost(router, '/v1/kv/start-tx-session', must, async (f) => {
    const req = startRequest(f);
    if (f.problem !== null) return startReply(invalid, hlcZero);
    const res = await tx.startTransaction(req);
    return startReply(res.type, res.transactionId);
  });
  addJsonPost(router, '/v1/kv/commit-tx-session', must, async (f) => {
    const req = endRequest(f);
    return f.problem !== null ? invalidEnd : endReply(await tx.commitTransaction(req));
  });
  addJsonPost(router, '/v1/kv/rollback-tx-session', must, async (f) => {
    const req = endRequest(f);
    return f.problem !== null ? invalidEnd : endReply(await tx.rollbackTransaction(req));
  });
}

function registerExclusiveLockRoutes(router: RestRouter, tx: TxBackend): void {
  const must = KvType.MustRetry;
  addJsonPost(router, '/v1/kv/try-acquire-exclusive-lock', must, async (f) => {
    const req = lockRequest(f);
    return f.problem !== null ? invalidLock : lockReply(await tx.acquireExclusiveLock(req));
  });
  addJsonPost(router, '/v1/kv/try-acquire-prefix-lock', must, async (f) => {
    const req = lockRequest(f);
    return f.problem !== null ? invalidLock : lockReply(await tx.acquireExclusivePrefixLock(req));
  });
  addJsonPost(router, '/v1/kv/try-release-prefix-lock', must, async (f) => {
    const req = releaseRequest(f);
    return f.problem !== null ? invalidLock : lockReply(await tx.releaseExclusivePrefixLock(req));
  });
}

export function registerTxRoutes(router: RestRouter, deps: TxRouteDeps): void {
  registerScriptRoute(router, deps.tx);
  registerSessionRoutes(router, deps.tx);
  registerExclusiveLockRoutes(router, deps.tx);
}
