import { Counter, Gauge, type Registry } from 'prom-client';
import type { S3Stats, UploadBacklog } from './stats.js';

/**
 * Large messages' S3 traffic, read from the S3 client's counters and the upload stage at scrape
 * time (nothing per message on the send path): objects uploaded, downloaded (worker side and
 * GET /payload) and deleted, their bytes, failures by operation and S3 error code (at most 100
 * distinct pairs), and the payloads waiting to be uploaded. No bucket, key or credential is a label.
 */
export function registerS3Metrics(registry: Registry, stats: S3Stats, backlog: (() => UploadBacklog) | undefined): void {
  const p = 'sqs_accelerator_s3_';
  const registers = [registry];
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name: `${p}${name}`,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counter('uploads_total', 'Large messages\' payloads uploaded to S3 (one per object, multipart or not).', () => stats.uploads);
  counter('uploaded_bytes_total', 'Bytes of the payloads uploaded to S3.', () => stats.uploadedBytes);
  counter('downloads_total', 'Payload objects opened for reading (the worker side, GET /payload).', () => stats.downloads);
  counter('downloaded_bytes_total', 'Bytes of payload objects read to the end.', () => stats.downloadedBytes);
  counter('deletes_total', 'Payload objects deleted (after the app handled a message, or a dead letter\'s purge).', () => stats.deletes);
  new Counter({
    name: `${p}failures_total`,
    help: 'S3 requests that failed, by operation (upload, download, delete, head) and S3 error code (NoSuchKey, SlowDown, NetworkError, ...). An upload retried after a failure counts each failed try.',
    labelNames: ['op', 'code'],
    registers,
    collect() {
      this.reset();
      for (const f of stats.failures()) this.inc({ op: f.op, code: f.code }, f.count);
    },
  });
  if (!backlog) return;
  const gauge = (name: string, help: string, read: (b: UploadBacklog) => number) =>
    new Gauge({
      name: `${p}${name}`,
      help,
      registers,
      collect() {
        this.set(read(backlog()));
      },
    });
  gauge('uploads_waiting', 'Accepted large messages whose payload waits for an upload slot or a retry.', (b) => b.waiting);
  gauge('uploads_in_flight', 'Payloads being uploaded now.', (b) => b.uploading);
  gauge('upload_backlog_bytes', 'Bytes of the payloads not yet in S3 (waiting or uploading).', (b) => b.bytes);
}
