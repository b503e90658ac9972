import { timingSafeEqual } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { open, opendir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeadLetter, DeadLetterStore, Owner, StoredDeadLetter } from '../delivery/store.js';
import { type Envelope, type FailureReason, messageOf } from '../delivery/envelope.js';
import type { Credentials } from '../sqs/types.js';

/** What a dead-letter file holds: the public record plus what replay needs. */
export type DeadLetterFile = StoredDeadLetter;

const NAME = /^(\d{15})\.([A-Za-z0-9-]+)\.([A-Za-z0-9_.-]+)\.json$/;

/** How old the count of letters may get before it is read from the directory again (count()). */
export const COUNT_REFRESH_MS = 5_000;

/**
 * Dead letters as one JSON file each (mode 0600) in `<spool>/dead-letters/`, named
 * `<deadAt>.<id>.<queue>.json`. Files are written to a temporary name and renamed, so a
 * reader (the CLI while the daemon runs, or the daemon while the CLI replays) never sees a
 * half-written letter, and replay/purge is an unlink: no lock is needed between processes.
 */
export class DeadLetterDir implements DeadLetterStore {
  readonly dir: string;
  /**
   * A letter of a large message keeps its payload file (`<spool>/large/<id>`) for replay; it goes
   * with the letter. The daemon sets this to its LargePayloads' remove (which keeps its byte count
   * true); by default (the CLI) the file is unlinked.
   */
  removePayload: (id: string) => void;
  /** The number of letters and when it was read from the directory (count()). */
  private counted: { n: number; at: number } | undefined;
  /** A count from the directory under way (recount), off the event loop. */
  private counting: Promise<void> | undefined;
  /** The letters being written in the pool (add), in order. */
  private writing: Promise<void> = Promise.resolve();

  constructor(spoolDir: string) {
    this.dir = join(spoolDir, 'dead-letters');
    this.removePayload = (id) => rmSync(join(spoolDir, 'large', id), { force: true });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /**
   * Keeps the letters of messages refused for good, each written, synced and renamed in libuv's
   * pool (a call's letters together, later calls' after them): on the event loop each was a fsync
   * (issue 11). Resolves once every letter is kept; rejects if one could not be (the others stay).
   */
  add(envs: readonly Envelope[], reason: FailureReason, credentialsOf: (env: Envelope) => Credentials | null): Promise<void> {
    const deadAt = Date.now();
    const letters = envs.map((env) => letterOf(env, reason, credentialsOf(env), deadAt));
    // A call's letters at once (the pool has threads for several), the calls one after another.
    const written = this.writing.then(async () => {
      await Promise.all(letters.map((letter) => this.write(letter)));
    });
    this.writing = written.catch(() => {});
    return written;
  }

  /** Writes one letter: to a temporary name, synced, then renamed into place (in libuv's pool). */
  async write(letter: DeadLetterFile): Promise<void> {
    const name = fileName(letter);
    const tmp = join(this.dir, `.${name}.tmp`);
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(letter));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, name));
    if (this.counted) this.counted.n += 1;
  }

  private names(): string[] {
    let entries: string[];
    try {
      entries = readdirSync(this.dir);
    } catch {
      return [];
    }
    return entries.filter((n) => NAME.test(n)).sort();
  }

  /**
   * How many letters there are. The directory is read for it the first time (the CLI: exact), and
   * after that again at most every COUNT_REFRESH_MS, walked off the event loop, this process's own
   * writes and removals counted at once: info() asks for it on every /metrics gauge, health check
   * and spool-full refusal, and reading a directory of 100,000 letters took ~120 ms of the loop
   * each time (issue 11). Letters another process (the CLI) removes show within that time.
   */
  count(): number {
    const now = Date.now();
    if (this.counted === undefined) {
      this.counted = { n: this.names().length, at: now };
      return this.counted.n;
    }
    if (now - this.counted.at >= COUNT_REFRESH_MS && this.counting === undefined) {
      this.counting = this.recount().finally(() => (this.counting = undefined));
    }
    return this.counted.n;
  }

  /** Resolves once a count from the directory under way is done (tests). */
  async recounted(): Promise<void> {
    await this.counting;
  }

  private async recount(): Promise<void> {
    const started = Date.now();
    let n = 0;
    try {
      const dir = await opendir(this.dir, { bufferSize: 256 });
      for await (const e of dir) if (NAME.test(e.name)) n += 1;
    } catch {
      return; // keep the count as it was
    }
    // A letter written or removed during the walk may or may not be in it: the next count settles it.
    this.counted = { n, at: started };
  }

  private read(name: string): DeadLetterFile | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as DeadLetterFile;
    } catch {
      return undefined; // removed meanwhile by another process, or unreadable
    }
  }

  private fileFor(id: string): string | undefined {
    return this.names().find((n) => NAME.exec(n)?.[2] === id);
  }

  /** The full record, credentials included: for replay only, never for display. */
  load(id: string): DeadLetterFile | undefined {
    const name = this.fileFor(id);
    return name ? this.read(name) : undefined;
  }

  /** Every letter's id (optionally of one queue), oldest first. */
  ids(queue?: string): string[] {
    const out: string[] = [];
    for (const n of this.names()) {
      const m = NAME.exec(n);
      if (m && (queue === undefined || m[3] === queue)) out.push(m[2] as string);
    }
    return out;
  }

  list(options: { queue?: string; limit?: number; offset?: number; owner?: Owner } = {}): { total: number; items: DeadLetter[] } {
    const limit = options.limit ?? 100;
    const offset = options.offset ?? 0;
    let names = this.names();
    if (options.queue !== undefined) names = names.filter((n) => NAME.exec(n)?.[3] === options.queue);
    if (!options.owner) {
      const items = names.slice(offset, offset + limit).map((n) => this.read(n)).filter((l): l is DeadLetterFile => l !== undefined).map(publicView);
      return { total: names.length, items };
    }
    const owned = names.map((n) => this.read(n)).filter((l): l is DeadLetterFile => l !== undefined && ownedBy(l, options.owner as Owner));
    return { total: owned.length, items: owned.slice(offset, offset + limit).map(publicView) };
  }

  get(id: string, owner?: Owner): DeadLetter | undefined {
    const letter = this.load(id);
    if (!letter || (owner && !ownedBy(letter, owner))) return undefined;
    return publicView(letter);
  }

  /** Removes a letter (after replay, or purge). False if it was not there. */
  remove(id: string): boolean {
    const name = this.fileFor(id);
    if (!name) return false;
    try {
      unlinkSync(join(this.dir, name));
      if (this.counted) this.counted.n = Math.max(0, this.counted.n - 1);
      this.removePayload(id);
      return true;
    } catch {
      return false;
    }
  }
}

/** A letter's file name: `<deadAt>.<id>.<queue>.json`. */
function fileName(letter: DeadLetterFile): string {
  return `${String(letter.deadAt).padStart(15, '0')}.${letter.id}.${letter.queueName}.json`;
}

/** The letter of a message refused for good, with what replay needs. */
function letterOf(env: Envelope, reason: FailureReason, creds: Credentials | null, deadAt: number): DeadLetterFile {
  const m = messageOf(env.message);
  return {
    id: env.id,
    queueName: env.dest.queueName,
    queueUrl: env.dest.queueUrl,
    accessKeyId: creds ? creds.accessKeyId : null,
    body: m.body,
    ...(m.attributes ? { attributes: m.attributes } : {}),
    ...(m.delaySeconds !== undefined ? { delaySeconds: m.delaySeconds } : {}),
    ...(m.groupId !== undefined ? { groupId: m.groupId } : {}),
    ...(m.dedupId !== undefined ? { dedupId: m.dedupId } : {}),
    ...(m.traceHeader !== undefined ? { traceHeader: m.traceHeader } : {}),
    code: reason.code,
    reason: reason.message,
    attempts: env.attempts,
    acceptedAt: env.accepted.at,
    ...(env.tries !== undefined ? { firstAttemptAt: env.tries.firstAt, lastAttemptAt: env.tries.lastAt } : {}),
    deadAt,
    ...(env.offload ? { offload: { bucket: env.offload.bucket, key: env.offload.key, bytes: env.offload.bytes } } : {}),
    credentials: creds,
  };
}

function publicView(letter: DeadLetterFile): DeadLetter {
  const { credentials: _c, queueUrl: _u, ...rest } = letter;
  return rest;
}

function ownedBy(letter: DeadLetterFile, owner: Owner): boolean {
  const c = letter.credentials;
  if (!c || c.accessKeyId !== owner.accessKeyId) return false;
  const a = Buffer.from(c.secretAccessKey);
  const b = Buffer.from(owner.secretAccessKey);
  return a.length === b.length && timingSafeEqual(a, b);
}
