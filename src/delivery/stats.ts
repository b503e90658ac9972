/** Per queue name, what this daemon did (summed over credentials). */
export interface QueueStats {
  accepted: number;
  sent: number;
  retried: number;
  deadLettered: number;
  md5Mismatch: number;
  backlog: number;
  inFlight: number;
}

/** What the pipeline did since start, all queues together (metrics, status page). */
export interface PipelineTotals {
  accepted: number;
  sent: number;
  retried: number;
  deadLettered: number;
  md5Mismatch: number;
  requests: number;
  requestErrors: number;
}

/** The pipeline's counters: per queue name, and in total. */
export class PipelineStats {
  readonly totals: PipelineTotals = { accepted: 0, sent: 0, retried: 0, deadLettered: 0, md5Mismatch: 0, requests: 0, requestErrors: 0 };
  private readonly queueStats = new Map<string, QueueStats>();

  get(queueName: string): QueueStats | undefined {
    return this.queueStats.get(queueName);
  }

  all(): ReadonlyMap<string, QueueStats> {
    return this.queueStats;
  }

  /** The stats of a queue, made on first use. */
  statsFor(queueName: string): QueueStats {
    let s = this.queueStats.get(queueName);
    if (!s) {
      s = { accepted: 0, sent: 0, retried: 0, deadLettered: 0, md5Mismatch: 0, backlog: 0, inFlight: 0 };
      this.queueStats.set(queueName, s);
    }
    return s;
  }
}
