// Two real threads: the main thread writes 1,000,000 frames of varying sizes into a small ring,
// a worker (test/ipc/fixtures/ring-echo.mjs, compiled ring from dist/) checksums and echoes each
// into a second small ring, and the main thread checks every echoed frame and the checksums.
// Small rings and pauses on both sides make both producers wait for space and both consumers
// sleep on their doorbells; both producers also wrap early (at 512 and 1024 bytes).
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/env/paths.js';
import {
  createDoorbell,
  createRingBuffer,
  Doorbell,
  RingConsumer,
  RingProducer,
} from '../../src/ipc/ring.js';

const frameCount = 1_000_000;
const ringCapacityBytes = 4096;
const producerPauseEvery = 40_000;
const workerPauseEvery = 50_000;
const mainEarlyWrapBytes = 512;
const workerEarlyWrapBytes = 1024;

/** Workers run dist/: rebuild when a compiled file the fixture loads is missing or stale. */
function ensureBuilt(): void {
  const sources = ['src/ipc/ring', 'src/limits', 'src/assert', 'src/errors'];
  const stale = sources.some((s) => {
    const js = join(repoRoot, 'dist', s + '.js');
    return !existsSync(js) || statSync(js).mtimeMs < statSync(join(repoRoot, s + '.ts')).mtimeMs;
  });
  if (!stale) return;
  try {
    execFileSync('npx', ['tsc', '-p', repoRoot], { cwd: repoRoot, stdio: 'pipe' });
  } catch (error) {
    const out = (error as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error('dist/ is stale and `npx tsc -p .` failed:\n' + out);
  }
}

function fnv(h: number, frame: Uint8Array): number {
  h = Math.imul(h ^ frame.length, 0x01000193);
  for (let i = 0; i < frame.length; i++) h = Math.imul(h ^ frame[i]!, 0x01000193);
  return h;
}

/** Frame i, a pure function of i: mostly small, sometimes up to frameBytesMax. */
function makeFrame(i: number, scratch: Uint8Array, frameBytesMax: number): Uint8Array {
  let h = Math.imul(i + 1, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  const size = i % 97 === 0 ? h % (frameBytesMax + 1) : h % 120;
  const frame = scratch.subarray(0, size);
  for (let j = 0; j < size; j++) frame[j] = (h + j * 131) & 0xff;
  return frame;
}

describe('ring across two threads', () => {
  beforeAll(ensureBuilt);

  it('passes 1M frames of varying sizes with a checksum, under backpressure both ways',
    async () => {
      const ringOut = createRingBuffer(ringCapacityBytes);
      const ringBack = createRingBuffer(ringCapacityBytes);
      const bellWorker = createDoorbell();
      const bellMain = createDoorbell();
      const worker = new Worker(new URL('./fixtures/ring-echo.mjs', import.meta.url), {
        workerData: {
          ringIn: ringOut, ringOut: ringBack, bellIn: bellWorker, bellOut: bellMain,
          frameCount, pauseEvery: workerPauseEvery, earlyWrapBytes: workerEarlyWrapBytes,
        },
      });
      const report = new Promise<Record<string, number>>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`echo worker exited with ${code}`)));
      });
      const producer = new RingProducer(ringOut, bellWorker,
        { earlyWrapBytes: mainEarlyWrapBytes });
      const consumer = new RingConsumer(ringBack);
      const bell = new Doorbell(bellMain);
      const max = producer.frameBytesMax;

      let sentChecksum = 0x811c9dc5;
      const produce = async (): Promise<void> => {
        const scratch = new Uint8Array(max);
        for (let i = 0; i < frameCount; i++) {
          const frame = makeFrame(i, scratch, max);
          sentChecksum = fnv(sentChecksum, frame);
          if (!producer.tryWrite(frame)) await producer.write(frame);
          if (i % 32 === 31) producer.publish();
          if (i % producerPauseEvery === 0) {
            producer.publish();
            await sleep(2); // the worker drains everything and sleeps on its doorbell
          }
        }
        producer.publish();
      };

      let echoed = 0;
      let echoChecksum = 0x811c9dc5;
      let mismatches = 0;
      const consume = async (): Promise<void> => {
        const scratch = new Uint8Array(max);
        const onFrame = (frame: Uint8Array): void => {
          const want = makeFrame(echoed, scratch, max);
          if (!Buffer.from(frame.buffer, frame.byteOffset, frame.length).equals(want)) {
            mismatches++;
          }
          echoChecksum = fnv(echoChecksum, frame);
          echoed++;
        };
        while (echoed < frameCount) {
          await bell.wait(() => consumer.hasData(), 100);
          consumer.drain(onFrame, 256);
        }
      };

      await Promise.all([produce(), consume()]);
      const r = await report;
      expect(mismatches).toBe(0);
      expect(echoed).toBe(frameCount);
      expect(r['received']).toBe(frameCount);
      expect(r['checksum']).toBe(sentChecksum >>> 0);
      expect(echoChecksum >>> 0).toBe(sentChecksum >>> 0);
      // Both directions of backpressure happened, and both consumers slept and were woken.
      expect(producer.stats().spaceWaitCount).toBeGreaterThan(0);
      expect(r['spaceWaits']).toBeGreaterThan(0);
      expect(r['wakeups']).toBeGreaterThan(0);
      expect(bell.notifyCount()).toBeGreaterThan(0);
      expect(consumer.hasData()).toBe(false);
      await worker.terminate();
    });
});
