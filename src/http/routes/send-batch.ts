import type { EntryResult } from '../../ingest/index.js';

/** Rejected entries answered with their message in full; past it, with their code only. */
export const DETAILED_ERRORS = 100;

/**
 * The answer to a batch: one result per entry, in order. Rejected entries past the first
 * DETAILED_ERRORS carry only their code, and `rejectedByCode` counts every rejection, so the
 * reply stays bounded (about 40 bytes an entry) however bad the batch.
 */
export function batchReply(queue: string, results: readonly EntryResult[]) {
  let detailed = 0;
  let accepted = 0;
  const byCode: Record<string, number> = {};
  const out = results.map((r) => {
    if (r.ok) {
      accepted += 1;
      return { id: r.id };
    }
    byCode[r.error.code] = (byCode[r.error.code] ?? 0) + 1;
    return { error: detailed++ < DETAILED_ERRORS ? { code: r.error.code, message: r.error.message } : { code: r.error.code } };
  });
  return { queue, accepted, rejected: out.length - accepted, ...(accepted < out.length ? { rejectedByCode: byCode } : {}), results: out };
}
