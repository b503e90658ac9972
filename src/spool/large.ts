import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SpoolError } from './lock.js';
import { PendingWork } from './pending.js';

/** Message ids as newMessageId() makes them (and request/reply's): safe as file names. */
const ID = /^[A-Za-z0-9._-]{1,120}$/;
const PART = '.part';

/**
 * The payloads of large messages, one file each (`<spool>/large/<message id>`), written before
 * the message's accept record and kept until SQS accepted its pointer (or, for a dead letter,
 * until the letter is replayed or purged). A body is streamed into `<id>.part` and renamed when
 * complete, so a file without `.part` is always whole. Bounded: the files together stay within
 * `maxBytes` (--max-spool-bytes); past it a new payload is refused with SpoolFull.
 *
 * With --durability memory the directory is a fresh temporary one, removed at close: nothing
 * survives a restart there, as for every other message in that mode.
 */
export class LargePayloads {
  readonly dir: string;
  private bytesOnDisk = 0;
  private readonly sizes = new Map<string, number>();
  private readonly temporary: boolean;
  /** Payload files being deleted in libuv's pool (remove). */
  private readonly removals = new PendingWork();

  constructor(
    private readonly options: {
      spoolDir?: string;
      fsync: boolean;
      maxBytes: number;
      log: Logger;
      /** Deletes a file in libuv's pool: fs.promises.unlink (tests hold it back). */
      unlink?: (path: string) => Promise<void>;
    },
  ) {
    if (options.spoolDir !== undefined) {
      this.dir = join(options.spoolDir, 'large');
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.temporary = false;
    } else {
      this.dir = mkdtempSync(join(tmpdir(), 'sqs-accelerator-large-'));
      this.temporary = true;
    }
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      if (name.endsWith(PART) || !ID.test(name)) {
        rmSync(path, { force: true }); // a body still arriving when the daemon stopped: never acknowledged
        continue;
      }
      try {
        const size = statSync(path).size;
        this.sizes.set(name, size);
        this.bytesOnDisk += size;
      } catch {
        /* gone meanwhile */
      }
    }
  }

  /** Bytes of payload files on disk. */
  get bytes(): number {
    return this.bytesOnDisk;
  }

  get count(): number {
    return this.sizes.size;
  }

  pathOf(id: string): string {
    if (!ID.test(id)) throw new Error(`not a message id: ${JSON.stringify(id)}`);
    return join(this.dir, id);
  }

  has(id: string): boolean {
    return this.sizes.has(id);
  }

  /** Throws SpoolFull unless `bytes` more fit. */
  reserve(bytes: number): void {
    if (this.bytesOnDisk + bytes > this.options.maxBytes) {
      throw new SpoolError('ESPOOLFULL', `no room for a ${bytes}-byte payload: large-message files hold ${this.bytesOnDisk} of ${this.options.maxBytes} bytes (--max-spool-bytes)`);
    }
  }

  /**
   * Writes a payload from chunks as they come (back-pressure: the next chunk is asked for only
   * once the last is written), `<id>.part` first, renamed to `<id>` once whole (and fsync'ed in
   * fsync mode). A chunk source that throws, or more than `limit` bytes, leaves nothing behind.
   */
  async write(id: string, chunks: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, limit: number): Promise<number> {
    const path = this.pathOf(id);
    const part = `${path}${PART}`;
    const fh = await open(part, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
      throw new SpoolError('ESPOOLWRITE', `cannot write a large-message file (${err.code ?? 'EIO'})`, err.code);
    });
    let size = 0;
    let counted = 0;
    try {
      for await (const chunk of chunks) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        size += buf.length;
        if (size > limit) throw new LargeBodyError('PayloadTooLarge', `the message payload is larger than ${limit} bytes (--max-large-message-bytes)`);
        this.reserve(buf.length);
        this.bytesOnDisk += buf.length;
        counted += buf.length;
        try {
          await fh.write(buf);
        } catch (err) {
          throw new SpoolError('ESPOOLWRITE', `cannot write a large-message file (${(err as NodeJS.ErrnoException).code ?? 'EIO'})`, (err as NodeJS.ErrnoException).code);
        }
      }
      if (this.options.fsync) await fh.datasync();
      await fh.close();
      await rename(part, path);
      if (this.options.fsync) await syncDir(this.dir);
      this.sizes.set(id, size);
      return size;
    } catch (err) {
      this.bytesOnDisk -= counted;
      await fh.close().catch(() => undefined);
      await rm(part, { force: true });
      throw err;
    }
  }

  /**
   * Deletes a payload file (delivered, refused at ingest, or its dead letter purged): counted
   * gone at once, unlinked in libuv's pool (freeing a file of megabytes held the event loop, once
   * for every large message delivered). A crash before the unlink leaves a file no message
   * claims, which the next start deletes.
   */
  remove(id: string): void {
    const size = this.sizes.get(id);
    if (size === undefined) return;
    this.sizes.delete(id);
    this.bytesOnDisk -= size;
    this.removals.track(
      (this.options.unlink ?? unlink)(this.pathOf(id)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') this.options.log.warn({ msgId: id, code: err.code }, 'could not delete a large-message file');
      }),
    );
  }

  /** Resolves once the payload files removed so far are unlinked (tests, close). */
  removed(): Promise<void> {
    return this.removals.settled();
  }

  /** Ids of the payload files on disk (recovery keeps those of unfinished messages and dead letters). */
  ids(): string[] {
    return [...this.sizes.keys()];
  }

  /** Waits for the deletions under way; in memory-only mode removes the temporary directory. */
  async close(): Promise<void> {
    await this.removals.settled();
    if (this.temporary) rmSync(this.dir, { recursive: true, force: true });
  }
}

export class LargeBodyError extends Error {
  override readonly name = 'LargeBodyError';
  constructor(readonly code: 'PayloadTooLarge' | 'InvalidEncoding' | 'InvalidCharacter' | 'BodyReadError' | 'EmptyBody', message: string) {
    super(message);
  }
}

/** Syncs a directory (a rename in it), in libuv's pool: on the event loop it was a journal commit per large message. */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* best effort: the rename is on disk at the next sync anyway */
  }
}
