// Programmer errors: assertions stay on in production (style.md rule 4). A failed assertion
// crashes its thread; the supervisor restarts a crashed worker from disk.
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}
