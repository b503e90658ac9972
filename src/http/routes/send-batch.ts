import { type BatchResults, DETAILED_ERRORS } from '../../ingest/index.js';

/** Entries of a batch's answer written per turn of the event loop (batchReplyJson). */
export const REPLY_SLICE_ENTRIES = 1_000;

/**
 * The answer to a batch, as JSON text: `{queue, accepted, rejected, rejectedByCode?, results,
 * queueVerified?}`, one result per entry, in order (`{id}` or `{error: {code, message?}}`).
 * Rejected entries past the first DETAILED_ERRORS carry only their code (BatchResults keeps no
 * more), and `rejectedByCode` counts every rejection, so the reply stays bounded (about 40 bytes
 * an entry) however bad the batch. `queueVerified: false` comes last when `unverified`. Built
 * REPLY_SLICE_ENTRIES entries a turn of the event loop: a 10,000-entry batch's answer, its 10,000
 * result objects and their one JSON.stringify (~280 KB), was one turn of 5-10 ms (issue 11: no
 * request holds the loop more than a few ms). A batch of up to REPLY_SLICE_ENTRIES entries is
 * answered at once.
 */
export async function batchReplyJson(queue: string, results: BatchResults, unverified: boolean): Promise<string> {
  const n = results.count;
  let detailed = 0;
  const byCode: Record<string, number> = {};
  const pieces: string[] = [];
  for (let from = 0; from < n; from += REPLY_SLICE_ENTRIES) {
    if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const to = Math.min(n, from + REPLY_SLICE_ENTRIES);
    const out = new Array<{ id: string } | { error: { code: string; message?: string } }>(to - from);
    for (let i = from; i < to; i++) {
      const e = results.error(i);
      if (e === undefined) {
        out[i - from] = { id: results.id(i) as string };
        continue;
      }
      byCode[e.code] = (byCode[e.code] ?? 0) + 1;
      out[i - from] = { error: detailed++ < DETAILED_ERRORS && e.message !== undefined ? { code: e.code, message: e.message } : { code: e.code } };
    }
    // The slice's elements, without the brackets of its own array.
    pieces.push(JSON.stringify(out).slice(1, -1));
  }
  const accepted = results.accepted;
  const head = `{"queue":${JSON.stringify(queue)},"accepted":${accepted},"rejected":${n - accepted},${accepted < n ? `"rejectedByCode":${JSON.stringify(byCode)},` : ''}"results":[`;
  return `${head}${pieces.join(',')}]${unverified ? ',"queueVerified":false' : ''}}`;
}
