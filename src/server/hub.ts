/**
 * The metrics hub: the latest tick, a bounded history, a bounded event buffer and the live
 * subscribers (SSE streams) that each new tick is pushed to.
 *
 * @module
 */

import type { MetricsTick, TickEvent } from "../contracts/metrics.ts";
import { Ring } from "./ring.ts";

/** An event kept by the hub, numbered so clients can tell which ones they already have. */
export type HubEvent = TickEvent & { seq: number; tick_ops: number };

/** A subscriber callback; it must not throw (a throwing subscriber is dropped). */
export type TickSubscriber = (tick: MetricsTick) => void;

/** Options of {@linkcode MetricsHub}. */
export interface MetricsHubOptions {
  /** Ticks kept for `/api/metrics/history` (default 360). */
  historyLimit?: number;
  /** Events kept for `/api/events` (default 512). */
  eventLimit?: number;
  /** An A/B comparison document served by `/api/compare`. */
  compare?: unknown;
}

/** Default number of ticks the history keeps. */
export const DEFAULT_HISTORY_LIMIT = 360;
/** Largest `serve --history-limit`. */
export const MAX_SERVE_HISTORY = 100_000;
/** Default number of events the event buffer keeps. */
export const DEFAULT_EVENT_LIMIT = 512;

function checkLimit(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw new RangeError(`${name} must be an integer in 1..1000000, got ${value}`);
  }
  return value;
}

/**
 * Receives ticks and fans them out. Its buffers are rings (oldest dropped first) of exactly their
 * limits, so memory stays bounded whatever the length of the run.
 */
export class MetricsHub {
  /** Ticks kept for `/api/metrics/history`. */
  readonly historyLimit: number;
  /** Events kept for `/api/events`. */
  readonly eventLimit: number;
  readonly #history: Ring<MetricsTick>;
  readonly #events: Ring<HubEvent>;
  #seq = 0;
  #received = 0;
  #latestAt: number | null = null;
  #subscribers = new Set<TickSubscriber>();
  #compare: unknown;

  /** An empty hub; throws RangeError for a limit that is not an integer in 1..1,000,000. */
  constructor(options: MetricsHubOptions = {}) {
    this.historyLimit = checkLimit("historyLimit", options.historyLimit ?? DEFAULT_HISTORY_LIMIT);
    this.eventLimit = checkLimit("eventLimit", options.eventLimit ?? DEFAULT_EVENT_LIMIT);
    this.#history = new Ring(this.historyLimit);
    this.#events = new Ring(this.eventLimit);
    this.#compare = options.compare ?? null;
  }

  /** Records `tick` and pushes it to every subscriber. */
  publish(tick: MetricsTick): void {
    this.#received++;
    this.#latestAt = Date.now();
    this.#history.push(tick);
    // Ticks carry only the events since the previous tick, so appending never duplicates.
    for (const ev of tick.events) {
      this.#events.push({ ...ev, seq: ++this.#seq, tick_ops: tick.ops });
    }
    for (const fn of [...this.#subscribers]) {
      try {
        fn(tick);
      } catch {
        this.#subscribers.delete(fn);
      }
    }
  }

  /** When (ms since the epoch) the latest tick was published; null before the first. */
  get latestAt(): number | null {
    return this.#latestAt;
  }

  /** The most recent tick, or null before the first. */
  latest(): MetricsTick | null {
    return this.#history.newest() ?? null;
  }

  /** Ticks received since start (including those dropped from the history). */
  get received(): number {
    return this.#received;
  }

  /** The last `limit` ticks (all kept ticks when omitted), oldest first. */
  history(limit?: number): MetricsTick[] {
    return this.#history.last(limit);
  }

  /** The last `limit` events, oldest first. */
  events(limit?: number): HubEvent[] {
    return this.#events.last(limit);
  }

  /** The comparison document, or null. */
  get compare(): unknown {
    return this.#compare;
  }

  set compare(doc: unknown) {
    this.#compare = doc ?? null;
  }

  /** Calls `fn` with every tick published from now on; returns the unsubscribe function. */
  subscribe(fn: TickSubscriber): () => void {
    this.#subscribers.add(fn);
    return () => {
      this.#subscribers.delete(fn);
    };
  }

  /** Live subscribers (each open SSE stream is one). */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }
}
