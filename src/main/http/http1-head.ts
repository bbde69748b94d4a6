// The head of an HTTP/1.1 request (RFC 9112 sections 2-7), parsed from one latin1 string that
// ends before the blank line. Pure: no sockets, no clocks. Strict where leniency is a request-
// smuggling risk: no obs-fold, no bare CR in a field, no Transfer-Encoding other than exactly
// `chunked`, no Content-Length together with Transfer-Encoding, no differing Content-Lengths.

export interface RequestHead {
  readonly method: string;
  /** The origin-form target: path and query (an absolute-form target is cut down to this). */
  readonly url: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: 0 | 1;
  /** Field names lower-cased; repeated fields joined with ", " (RFC 9110 5.3). */
  readonly headers: Readonly<Record<string, string>>;
  /** -1 for a chunked body; 0 when there is no body. */
  readonly contentLength: number;
  readonly chunked: boolean;
  /** Whether the connection may carry another request after this one. */
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
}

/** Why a head was refused, with the status to answer before closing. */
export interface HeadProblem {
  readonly status: 400 | 417 | 501 | 505;
  readonly reason: string;
}

const requestLine = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/(\d)\.(\d)$/;
// Field names are tokens (RFC 9110 5.6.2): 1 marks a token character below 128.
const tokenChars = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  tokenChars[c.charCodeAt(0)] = 1;
}
/** The latin1 characters String.prototype.trim removes: HTAB, LF, VT, FF, CR, SP, NBSP. */
function isTrimmed(c: number): boolean {
  return (c >= 9 && c <= 13) || c === 32 || c === 160;
}
const digits = /^\d{1,15}$/;

function problem(status: HeadProblem['status'], reason: string): HeadProblem {
  return { status, reason };
}

function hasToken(list: string, token: string): boolean {
  for (const part of list.split(',')) if (part.trim().toLowerCase() === token) return true;
  return false;
}

/** The origin-form of a request target, or null if it is neither origin- nor absolute-form. */
function originForm(target: string, method: string): string | null {
  if (target.charCodeAt(0) === 47 /* / */) return target;
  if (target === '*' && method === 'OPTIONS') return '*';
  const absolute = /^https?:\/\/[^/?#\s]+([/?][^#]*)?$/i.exec(target);
  if (absolute === null) return null;
  const rest = absolute[1] ?? '';
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** Parses `text`, the request line and fields without the final CRLF CRLF. */
export function parseRequestHead(text: string): RequestHead | HeadProblem {
  let start = 0;
  // RFC 9112 2.2: empty lines before the request line are ignored.
  while (text.startsWith('\r\n', start)) start += 2;
  const lineEnd = text.indexOf('\r\n', start);
  const first = lineEnd === -1 ? text.slice(start) : text.slice(start, lineEnd);
  const line = requestLine.exec(first);
  if (line === null) return problem(400, 'malformed request line');
  const method = line[1] ?? '';
  const major = line[3];
  const minorDigit = line[4];
  if (major !== '1') return problem(505, 'HTTP version not supported');
  const minor: 0 | 1 = minorDigit === '0' ? 0 : 1;
  const url = originForm(line[2] ?? '', method);
  if (url === null) return problem(400, 'malformed request target');

  const headers: Record<string, string> = {};
  let contentLength: string | undefined;
  // Without a CRLF after the request line the loop starts past the end: no fields.
  for (let at = lineEnd === -1 ? text.length + 2 : lineEnd + 2; at <= text.length;) {
    const found = text.indexOf('\r\n', at);
    const end = found === -1 ? text.length : found;
    const colon = text.indexOf(':', at);
    if (colon <= at || colon >= end) return problem(400, 'malformed header field');
    // One pass over the name: token characters only, and whether any is upper-case.
    let upper = false;
    for (let i = at; i < colon; i++) {
      const c = text.charCodeAt(i);
      if (c >= 128 || tokenChars[c] === 0) return problem(400, 'malformed header field name');
      if (c >= 65 && c <= 90) upper = true;
    }
    const name = text.slice(at, colon);
    const lower = upper ? name.toLowerCase() : name;
    // The value without surrounding whitespace (what String.prototype.trim strips in latin1).
    // Field values: visible ASCII, SP, HTAB and obs-text; never CR, LF, NUL or other controls.
    let from = colon + 1;
    let to = end;
    while (from < to && isTrimmed(text.charCodeAt(from))) from++;
    while (to > from && isTrimmed(text.charCodeAt(to - 1))) to--;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      if ((c < 32 && c !== 9) || c === 127) return problem(400, 'bad character in a header field');
    }
    const value = text.slice(from, to);
    at = end + 2;
    if (lower === 'content-length') {
      if (!digits.test(value)) return problem(400, 'malformed Content-Length');
      if (contentLength !== undefined && contentLength !== value) {
        return problem(400, 'conflicting Content-Length fields');
      }
      contentLength = value;
      headers[lower] = value;
      continue;
    }
    const earlier = headers[lower];
    headers[lower] = earlier === undefined ? value : `${earlier}, ${value}`;
  }

  const transferEncoding = headers['transfer-encoding'];
  let chunked = false;
  if (transferEncoding !== undefined) {
    if (contentLength !== undefined) {
      return problem(400, 'both Content-Length and Transfer-Encoding');
    }
    if (minor === 0) return problem(400, 'Transfer-Encoding in an HTTP/1.0 request');
    if (transferEncoding.toLowerCase() !== 'chunked') {
      return problem(501, 'only the chunked transfer coding is supported');
    }
    chunked = true;
  }
  const connection = headers['connection'];
  const keepAlive = minor === 1
    ? connection === undefined || !hasToken(connection, 'close')
    : connection !== undefined && hasToken(connection, 'keep-alive');
  const expect = headers['expect'];
  let expectContinue = false;
  if (expect !== undefined) {
    if (expect.toLowerCase() !== '100-continue') return problem(417, 'unsupported Expect');
    expectContinue = minor === 1;
  }
  return {
    method, url, minor, headers,
    contentLength: chunked ? -1 : contentLength === undefined ? 0 : Number(contentLength),
    chunked, keepAlive, expectContinue,
  };
}

export function isHeadProblem(head: RequestHead | HeadProblem): head is HeadProblem {
  return 'status' in head;
}
