// Requests on a fixed schedule (an open loop), the way users arrive: the next one leaves on time
// whether or not the last was answered. Each latency counts from when the request was due, so a
// target that falls behind shows it in the figures instead of slowing the sender down.

export type Outcome = 'ok' | 'rate-limited' | 'refused' | 'failed';

export interface PacedResult {
  /** Latencies in ms of every answered request, from when it was due. */
  latencies: Float64Array;
  outcomes: Record<Outcome | 'not-sent', number>;
  /** The first answer of each kind that was not ok, to say what went wrong. */
  examples: Partial<Record<Outcome, string>>;
  elapsedSeconds: number;
}

export interface PacedOptions {
  ratePerSecond: number;
  durationSeconds: number;
  /** Requests waiting at once; one more due is not sent and counted (the target is too slow). */
  maxInFlight: number;
  send(index: number): Promise<{ outcome: Outcome; detail?: string }>;
}

export async function sendPaced(options: PacedOptions): Promise<PacedResult> {
  const total = Math.round(options.ratePerSecond * options.durationSeconds);
  const latencies = new Float64Array(total);
  const outcomes: PacedResult['outcomes'] = { ok: 0, 'rate-limited': 0, refused: 0, failed: 0, 'not-sent': 0 };
  const examples: PacedResult['examples'] = {};
  let answered = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  const interval = 1000 / options.ratePerSecond;

  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (inFlight >= options.maxInFlight) {
      outcomes['not-sent']++;
      continue;
    }
    inFlight++;
    const request = options
      .send(i)
      .catch((error: unknown) => ({ outcome: 'failed' as const, detail: error instanceof Error ? error.message : String(error) }))
      .then(({ outcome, detail }) => {
        latencies[answered++] = performance.now() - due;
        outcomes[outcome]++;
        if (outcome !== 'ok' && detail && !examples[outcome]) examples[outcome] = detail;
      })
      .finally(() => {
        inFlight--;
        pending.delete(request);
      });
    pending.add(request);
  }
  await Promise.all(pending);
  return { latencies: latencies.slice(0, answered), outcomes, examples, elapsedSeconds: (performance.now() - started) / 1000 };
}

/** The value below which `fraction` of the samples fall (nearest rank); NaN without samples. */
export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}
