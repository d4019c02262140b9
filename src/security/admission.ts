// Admission control for REST model work: a bounded queue per model and a bounded share per client.
// Without it every /trace is accepted and queued for the model's workers, so a burst of requests holds memory and
// main-thread time until it drains; with it, a request beyond the bound is refused at once with Retry-After.
import { serviceUnavailable, tooManyRequests, type ProblemError } from '../errors/problem-error.js';

export interface AdmissionLimits {
  /** Requests one model runs at once (its worker count); more wait in its queue. */
  parallel: number;
  /** Requests allowed to wait per model beyond the running ones (MODEL_QUEUE_MAX). */
  queue: number;
  /** Requests one client may have in flight across models (MODEL_REQUESTS_PER_CLIENT). */
  perClient: number;
}

/** A refusal with the seconds after which a retry has a chance. */
export interface Refused {
  error: ProblemError;
  retryAfterS: number;
}

/** Weight of the newest duration in the running mean used to estimate Retry-After. */
const EWMA_ALPHA = 0.2;
const MAX_RETRY_AFTER_S = 60;

export class Admission {
  private readonly perModel = new Map<string, number>();
  private readonly perClient = new Map<string, number>();
  private readonly meanMs = new Map<string, number>();

  constructor(private readonly limits: AdmissionLimits) {}

  /** Admit one request for `model` from `client`: a release function (call once, when the work ends) or a refusal. */
  enter(model: string, client: string): (() => void) | Refused {
    const { parallel, queue, perClient } = this.limits;
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= perClient) {
      return {
        error: tooManyRequests(
          'too_many_client_requests',
          `This client already has ${perClient} model requests in flight (MODEL_REQUESTS_PER_CLIENT); wait for one to finish.`,
        ),
        retryAfterS: this.retryAfter(model, 1),
      };
    }
    const inFlight = this.perModel.get(model) ?? 0;
    if (inFlight >= parallel + queue) {
      return {
        error: serviceUnavailable(
          'model_busy',
          `The model "${model}" is busy: ${inFlight - parallel} requests are already waiting (MODEL_QUEUE_MAX ${queue}); try again shortly.`,
        ),
        retryAfterS: this.retryAfter(model, (inFlight - parallel + 1) / parallel),
      };
    }
    this.perModel.set(model, inFlight + 1);
    this.perClient.set(client, mine + 1);
    const started = performance.now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.decrement(this.perModel, model);
      this.decrement(this.perClient, client);
      const ms = performance.now() - started;
      const prev = this.meanMs.get(model);
      this.meanMs.set(model, prev === undefined ? ms : prev + EWMA_ALPHA * (ms - prev));
    };
  }

  /** Requests in flight (running and waiting) per model and per client. */
  stats(): { models: Record<string, number>; clients: Record<string, number> } {
    return { models: Object.fromEntries(this.perModel), clients: Object.fromEntries(this.perClient) };
  }

  /** Seconds for `rounds` mean request durations of this model, at least 1 (nothing measured yet: 1). */
  private retryAfter(model: string, rounds: number): number {
    const ms = this.meanMs.get(model) ?? 0;
    return Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((ms * rounds) / 1000)));
  }

  private decrement(map: Map<string, number>, key: string): void {
    const n = (map.get(key) ?? 1) - 1;
    if (n <= 0) map.delete(key);
    else map.set(key, n);
  }
}
