// The interpreter's async steps without `await` (src/core bans it, tidy.test.ts): a statement
// is a generator that yields the host's promises, and drive() resumes it with each settled
// value or error. Only host calls yield; expressions and control flow run synchronously, so a
// script that never touches the store finishes in one turn of drive(). Pure.

/** A computation that may wait on the host: yields promises, returns T. */
export type Co<T> = Generator<Promise<unknown>, T, unknown>;

/** Waits for one promise inside a Co; `yield* wait(p)` is the await of this code. */
export function* wait<T>(promise: Promise<T>): Co<T> {
  return (yield promise) as T;
}

/** Runs a Co to completion: resolves with its return value, rejects with what it throws. */
export function drive<T>(co: Co<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const resume = (failed: boolean, input: unknown): void => {
      let step: IteratorResult<Promise<unknown>, T>;
      try {
        step = failed ? co.throw(input) : co.next(input);
      } catch (err) {
        reject(err);
        return;
      }
      if (step.done === true) {
        resolve(step.value);
        return;
      }
      Promise.resolve(step.value).then((value) => resume(false, value),
        (err: unknown) => resume(true, err));
    };
    resume(false, undefined);
  });
}
