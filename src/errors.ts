// Every operating error Honu reports, in one table (style.md, "Error model").
// Errors cross threads as data: a numeric `id` (ring frames carry it as uint16) plus a detail
// string. Error subclasses lose their fields in structured clone, so never post an Error.
// test/errors.test.ts checks that every code is documented in docs/errors.md.

export interface ErrorSpec {
  readonly id: number; // wire id across threads; 0 is reserved for success
  readonly message: string;
  readonly grpcStatus: number; // @grpc/grpc-js status; Kahuna outcomes use OK + Type instead
  readonly httpStatus: number;
  readonly retryable: boolean;
}

// grpc status numbers (from @grpc/grpc-js `status`), written out so this file stays pure.
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNIMPLEMENTED = 12;
const GRPC_INTERNAL = 13;
const GRPC_UNAVAILABLE = 14;

export const errors = {
  HONU_ERR_MUST_RETRY: {
    id: 1, message: 'no decision was made; the request may be repeated',
    grpcStatus: GRPC_UNAVAILABLE, httpStatus: 503, retryable: true,
  },
  HONU_ERR_INVALID_INPUT: {
    id: 2, message: 'invalid input', grpcStatus: GRPC_INVALID_ARGUMENT, httpStatus: 400,
    retryable: false,
  },
  HONU_ERR_WORKER_DOWN: {
    id: 3, message: 'the partition worker is down; it is being restarted',
    grpcStatus: GRPC_UNAVAILABLE, httpStatus: 503, retryable: true,
  },
  HONU_ERR_BODY_TOO_LARGE: {
    id: 4, message: 'request body too large', grpcStatus: GRPC_RESOURCE_EXHAUSTED,
    httpStatus: 413, retryable: false,
  },
  HONU_ERR_BAD_JSON: {
    id: 5, message: 'malformed JSON body', grpcStatus: GRPC_INVALID_ARGUMENT, httpStatus: 400,
    retryable: false,
  },
  HONU_ERR_ROUTE_NOT_FOUND: {
    id: 6, message: 'no such route', grpcStatus: GRPC_UNIMPLEMENTED, httpStatus: 404,
    retryable: false,
  },
  HONU_ERR_WRITE_FAILED: {
    id: 7, message: 'the storage write failed', grpcStatus: GRPC_INTERNAL, httpStatus: 500,
    retryable: true,
  },
  HONU_ERR_SHUTTING_DOWN: {
    id: 8, message: 'the node is shutting down', grpcStatus: GRPC_UNAVAILABLE, httpStatus: 503,
    retryable: true,
  },
  HONU_ERR_INTERNAL: {
    id: 9, message: 'internal error', grpcStatus: GRPC_INTERNAL, httpStatus: 500,
    retryable: false,
  },
  HONU_ERR_METHOD_NOT_ALLOWED: {
    id: 10, message: 'method not allowed', grpcStatus: GRPC_UNIMPLEMENTED, httpStatus: 405,
    retryable: false,
  },
  HONU_ERR_QUEUE_FULL: {
    id: 11, message: 'the partition queue is full; retry', grpcStatus: GRPC_UNAVAILABLE,
    httpStatus: 503, retryable: true,
  },
  HONU_ERR_BAD_HTTP: {
    id: 12, message: 'malformed HTTP/1.1 request', grpcStatus: GRPC_INVALID_ARGUMENT,
    httpStatus: 400, retryable: false,
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errors;

/** An error as it travels between threads and into replies. */
export interface ErrorData {
  readonly code: ErrorCode;
  readonly detail: string;
}

const codeById: ErrorCode[] = [];
for (const code of Object.keys(errors) as ErrorCode[]) {
  const id = errors[code].id;
  if (codeById[id] !== undefined) throw new Error(`errors.ts: duplicate id ${id}`);
  codeById[id] = code;
}

export function errorId(code: ErrorCode): number {
  return errors[code].id;
}

/** Maps a wire id back to its code; unknown ids become HONU_ERR_INTERNAL. */
export function errorCodeOf(id: number): ErrorCode {
  return codeById[id] ?? 'HONU_ERR_INTERNAL';
}

export function errorData(code: ErrorCode, detail?: string): ErrorData {
  return { code, detail: detail ?? errors[code].message };
}

/** The one Error class thrown inside a thread; convert with toData() before crossing. */
export class HonuError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, detail?: string) {
    super(detail ?? errors[code].message);
    this.code = code;
    this.name = 'HonuError';
  }
  toData(): ErrorData {
    return { code: this.code, detail: this.message };
  }
}
