// Test helper: make a WorkerRuntime's worker thread crash the way a bug in it would.
import type { Worker } from 'node:worker_threads';
import type { WorkerRuntime } from '../../src/runtime/worker-runtime.js';

/**
 * A message the worker's handler cannot process throws an uncaught exception in that thread, which ends it
 * (white box: reaches the slot's Worker). Not terminate(): a thread stopped while onnxruntime is inside run()
 * aborts the whole process, which is why WorkerRuntime itself never terminates a busy worker.
 */
export function crashWorker(rt: WorkerRuntime, i: number): void {
  const w = (rt as unknown as { slots: { worker: Worker | null }[] }).slots[i]!.worker!;
  w.postMessage({ op: 'release', caches: null });
}
