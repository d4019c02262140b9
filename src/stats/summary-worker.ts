// Entry of the summary helper thread (parallel-summarize.ts): statistics + histograms of the tensors it is sent,
// which it sends back with the results, so the buffers make the round trip without a copy.
import { parentPort } from 'node:worker_threads';
import { summarizeTensors } from './summarize.js';
import type { SummaryJob, SummaryReply } from './parallel-summarize.js';

const port = parentPort;
if (!port) throw new Error('summary-worker must run in a worker thread');
port.on('message', ({ id, tensors, bins }: SummaryJob) => {
  let reply: SummaryReply;
  try {
    reply = { id, tensors, results: summarizeTensors(tensors, bins) };
  } catch (err) {
    reply = { id, tensors, error: String(err) };
  }
  port.postMessage(
    reply,
    tensors.map((t) => t.buffer as ArrayBuffer),
  );
});
