import { type BatchResults, DETAILED_ERRORS } from '../../ingest/index.js';

/**
 * The answer to a batch: one result per entry, in order. Rejected entries past the first
 * DETAILED_ERRORS carry only their code (BatchResults keeps no more), and `rejectedByCode`
 * counts every rejection, so the reply stays bounded (about 40 bytes an entry) however bad the
 * batch.
 */
export function batchReply(queue: string, results: BatchResults) {
  let detailed = 0;
  const byCode: Record<string, number> = {};
  const out = new Array<{ id: string } | { error: { code: string; message?: string } }>(results.count);
  for (let i = 0; i < results.count; i++) {
    const e = results.error(i);
    if (e === undefined) {
      out[i] = { id: results.id(i) as string };
      continue;
    }
    byCode[e.code] = (byCode[e.code] ?? 0) + 1;
    out[i] = { error: detailed++ < DETAILED_ERRORS && e.message !== undefined ? { code: e.code, message: e.message } : { code: e.code } };
  }
  const accepted = results.accepted;
  return { queue, accepted, rejected: out.length - accepted, ...(accepted < out.length ? { rejectedByCode: byCode } : {}), results: out };
}
