import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Destination } from './resolver.js';
import type { QueueLimits } from './types.js';

interface Entry {
  /** SHA-256 of the credential source's key: which credentials resolved it (never the key itself). */
  k: string;
  q: string;
  u: string;
  l: QueueLimits;
  /** When SQS last confirmed it (ms since the epoch). */
  at: number;
}

/**
 * Queue URLs and settings SQS gave, kept in a small JSON file beside the spool (`queues.json`,
 * mode 0600) so that after a restart sends to known queues are accepted at once, whether SQS
 * answers or not. Keyed per credentials by a SHA-256 of the credential source's key, so a send
 * with other credentials (a wrong secret) is still looked up, and refused, by SQS. Written
 * atomically (temporary file, rename) at most once a second; an unreadable file is ignored. The
 * file is written and synced in libuv's pool, off the event loop (an fsync took 1-20 ms there
 * every time a queue's settings were read again, issue 11), and renamed into place from the loop,
 * so a later write (the shutdown's, synchronous) always wins over one still under way.
 */
export class KnownQueues {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  /** A write in libuv's pool is under way (writeSoon). */
  private writing = false;
  /** Counts the writes begun: one under way renames its file into place only if no later one began. */
  private generation = 0;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
    private readonly maxEntries = 10_000,
  ) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return; // first start
    }
    try {
      const data = JSON.parse(text) as { queues?: Entry[] };
      for (const e of data.queues ?? []) {
        if (typeof e?.k === 'string' && typeof e.q === 'string' && typeof e.u === 'string' && e.u !== '' && isLimits(e.l)) this.entries.set(`${e.k}\0${e.q}`, e);
      }
    } catch {
      log.warn({ file }, 'known queues file unreadable; queues will be looked up again');
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get(credentialKey: string, queueName: string): { queueUrl: string; limits: QueueLimits } | undefined {
    const e = this.entries.get(`${hash(credentialKey)}\0${queueName}`);
    return e ? { queueUrl: e.u, limits: e.l } : undefined;
  }

  save(dest: Destination): void {
    if (dest.queueUrl === '') return;
    const k = hash(dest.credentials.key);
    const id = `${k}\0${dest.queueName}`;
    this.entries.delete(id); // re-inserted last: the oldest is forgotten first
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, { k, q: dest.queueName, u: dest.queueUrl, l: { ...dest.limits }, at: dest.checkedAt || Date.now() });
    this.schedule();
  }

  forget(dest: Destination): void {
    if (this.entries.delete(`${hash(dest.credentials.key)}\0${dest.queueName}`)) this.schedule();
  }

  forgetQueue(queueName: string): void {
    let changed = false;
    for (const [id, e] of this.entries) {
      if (e.q === queueName) {
        this.entries.delete(id);
        changed = true;
      }
    }
    if (changed) this.schedule();
  }

  /** Writes pending changes now, synchronously (shutdown); a write still under way is superseded. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty && !this.writing) return;
    this.dirty = false;
    this.generation += 1;
    const tmp = `${this.file}.tmp`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, this.text());
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
    } catch (err) {
      // Only a cache: the queues are looked up again after a restart.
      this.log.warn({ code: (err as NodeJS.ErrnoException).code, file: this.file }, 'could not write the known queues file');
    }
  }

  /** The file's text: every entry, oldest first. */
  private text(): string {
    return JSON.stringify({ v: 1, queues: [...this.entries.values()] });
  }

  /** Resolves once no write is under way (tests). */
  async settled(): Promise<void> {
    while (this.writing || this.timer) await new Promise((r) => setTimeout(r, 5));
  }

  private schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => this.writeSoon(), 1000);
    this.timer.unref();
  }

  /** The pending changes written and synced in libuv's pool, then renamed into place (unless a later write began meanwhile). */
  private writeSoon(): void {
    this.timer = undefined;
    if (!this.dirty) return;
    if (this.writing) {
      this.schedule(); // one at a time: the changes go with the next
      return;
    }
    this.dirty = false;
    const generation = ++this.generation;
    const tmp = `${this.file}.tmp-pool`;
    const json = this.text();
    this.writing = true;
    void (async () => {
      try {
        const fh = await open(tmp, 'w', 0o600);
        try {
          await fh.writeFile(json);
          await fh.sync();
        } finally {
          await fh.close();
        }
        if (generation === this.generation) renameSync(tmp, this.file);
        else await rm(tmp, { force: true });
      } catch (err) {
        // Only a cache: the queues are looked up again after a restart.
        this.log.warn({ code: (err as NodeJS.ErrnoException).code, file: this.file }, 'could not write the known queues file');
      } finally {
        this.writing = false;
      }
    })();
  }
}

function hash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function isLimits(l: unknown): l is QueueLimits {
  const o = l as QueueLimits;
  return typeof o === 'object' && o !== null && typeof o.fifo === 'boolean' && typeof o.contentBasedDedup === 'boolean' && Number.isInteger(o.maxMessageBytes) && o.maxMessageBytes > 0;
}
