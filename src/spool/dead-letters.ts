import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readdirSync, readFile, rmSync, statSync } from 'node:fs';
import { open, opendir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeadLetter, DeadLetterStore, Owner, StoredDeadLetter } from '../delivery/store.js';
import { type Envelope, type FailureReason, messageOf } from '../delivery/envelope.js';
import type { Credentials } from '../sqs/types.js';

/** What a dead-letter file holds: the public record plus what replay needs. */
export type DeadLetterFile = StoredDeadLetter;

const NAME = /^(\d{15})\.([A-Za-z0-9-]+)\.([A-Za-z0-9_.-]+)\.json$/;

/** How old the index of letters may get before the directory is walked again (count(), list()). */
export const COUNT_REFRESH_MS = 5_000;
/** The directory is walked at least this often even when its mtime says nothing changed. */
export const FULL_WALK_MS = 60_000;
/** Letter files read at once (a page of a list; learning whose letters are). */
const READS = 16;

/** A letter the index knows: its file name's parts, and whose key pair sent it once read. */
interface Indexed {
  readonly name: string;
  readonly id: string;
  readonly queue: string;
  /** ownerKey() of its credentials, '' for none (the daemon's own): undefined until read from its file. */
  owner: string | undefined;
  /** Removed; left in the array until it is compacted. */
  gone: boolean;
  /** The walk that last found it, or during which it was written (walk()). */
  seen: number;
  /** Another letter with the same id (a message dead-lettered again after a restart), newer. */
  next: Indexed | undefined;
}

/**
 * Dead letters as one JSON file each (mode 0600) in `<spool>/dead-letters/`, named
 * `<deadAt>.<id>.<queue>.json`. Files are written to a temporary name and renamed, so a
 * reader (the CLI while the daemon runs, or the daemon while the CLI replays) never sees a
 * half-written letter, and replay/purge is an unlink: no lock is needed between processes.
 *
 * The letters are known from an index in memory (name, id, queue and, once read, whose key pair):
 * every list, lookup and removal read and sorted the whole directory on the event loop, and an
 * owner-scoped list read every file (issue 11): with 100,000 letters a lookup took ~150 ms, an
 * owner's list 1.2-1.4 s and a purge of 100 letters 21 s of the loop. The index takes this
 * process's own writes and removals at once; the directory is walked again, off the loop, at most
 * every COUNT_REFRESH_MS (and only when its mtime moved: walk) for what another process (the CLI)
 * changed, and a letter whose file is
 * found gone when read leaves the index then. Files are read and removed in libuv's pool.
 */
export class DeadLetterDir implements DeadLetterStore {
  readonly dir: string;
  /**
   * A letter of a large message keeps its payload file (`<spool>/large/<id>`) for replay; it goes
   * with the letter. The daemon sets this to its LargePayloads' remove (which keeps its byte count
   * true); by default (the CLI) the file is unlinked.
   */
  removePayload: (id: string) => void;
  /** The letters, by file name (oldest first). */
  private index: Indexed[] = [];
  private readonly byId = new Map<string, Indexed>();
  /** Letters in the index not gone. */
  private live = 0;
  private gone = 0;
  /** When the directory was last walked. */
  private listedAt = 0;
  /** The directory's mtime when it was last read whole, and when (walk skips a walk while it is the same). */
  private walkedMtime = -1;
  private walkedAt = 0;
  /** A walk of the directory under way (walk), off the event loop. */
  private listing: Promise<void> | undefined;
  /** Walks begun: an entry's `seen` says which found it. */
  private walks = 0;
  /** Letters removed while a walk is under way: it may still find their names. */
  private removedInWalk: Set<string> | undefined;
  /** Owners being read from files (knowOwners), one reading at a time. */
  private owning: Promise<void> | undefined;
  /** Keys ownerKey() makes: per process, so the index holds no secret nor anything to test one against. */
  private readonly salt = randomBytes(32);
  /** Letters' owner keys, each once (ownerOf); those of removed letters go at compaction (forget). */
  private ownerKeys = new Map<string, string>();
  /** The letters being written in the pool (add), in order. */
  private writing: Promise<void> = Promise.resolve();

  /** Most letters kept (--max-dead-letters); past it add() keeps none of a call's (DeadLettersFull). */
  readonly maxLetters: number;

  constructor(spoolDir: string, options: { maxLetters?: number } = {}) {
    this.maxLetters = options.maxLetters ?? Number.POSITIVE_INFINITY;
    this.dir = join(spoolDir, 'dead-letters');
    this.removePayload = (id) => rmSync(join(spoolDir, 'large', id), { force: true });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Once, on the event loop: the daemon at start (as it reads its journal), or the CLI.
    this.indexOf(this.namesNow());
  }

  /**
   * Keeps the letters of messages refused for good, each written, synced and renamed in libuv's
   * pool (a call's letters together, later calls' after them): on the event loop each was a fsync
   * (issue 11). Resolves once every letter is kept; rejects if one could not be (the others stay),
   * or with DeadLettersFull, keeping none, if they would take the store past maxLetters.
   */
  add(envs: readonly Envelope[], reason: FailureReason, credentialsOf: (env: Envelope) => Credentials | null): Promise<void> {
    const deadAt = Date.now();
    const letters = envs.map((env) => letterOf(env, reason, credentialsOf(env), deadAt));
    // A call's letters at once (the pool has threads for several), the calls one after another.
    const written = this.writing.then(async () => {
      if (this.live + letters.length > this.maxLetters) throw new DeadLettersFull(this.live, this.maxLetters);
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
    if (!this.named(letter.id, name)) this.insert(this.entry(name, letter.id, letter.queueName, this.ownerOf(letter.credentials)));
  }

  /**
   * How many letters there are, from the index: info() asks for it on every /metrics gauge, health
   * check and spool-full refusal, and reading a directory of 100,000 letters took ~120 ms of the
   * loop each time (issue 11). Letters another process (the CLI) removes show within
   * COUNT_REFRESH_MS (the next walk), or as soon as a request finds their file gone.
   */
  count(): number {
    this.current();
    return this.live;
  }

  /** Resolves once a walk of the directory under way is done (tests). */
  async recounted(): Promise<void> {
    await this.listing;
  }

  /** Every letter's id (optionally of one queue), oldest first. */
  ids(queue?: string): string[] {
    const out: string[] = [];
    for (const e of this.current()) if (!e.gone && (queue === undefined || e.queue === queue)) out.push(e.id);
    return out;
  }

  /** Whether there is a letter of this id (from the index: no file is read). */
  has(id: string): boolean {
    this.current();
    return this.byId.has(id);
  }

  /**
   * A page of letters, oldest first. `maxBodyChars` bounds the page by its bodies too (a page of
   * 1,000 letters of 1 MiB each was a gigabyte answer): letters are read READS at a time and
   * the page ends once their bodies pass it, so a caller pages on by the items it got.
   */
  async list(options: { queue?: string; limit?: number; offset?: number; owner?: Owner; maxBodyChars?: number } = {}): Promise<{ total: number; items: DeadLetter[] }> {
    const limit = options.limit ?? 100;
    const offset = options.offset ?? 0;
    const { owner } = options;
    const maxChars = options.maxBodyChars ?? Number.POSITIVE_INFINITY;
    const chosen = await this.chosen(options.queue, owner);
    const page = chosen.slice(offset, offset + limit);
    const items: DeadLetter[] = [];
    let missing = 0;
    let chars = 0;
    let full = false;
    for (let i = 0; i < page.length && !full; i += READS) {
      for (const l of await Promise.all(page.slice(i, i + READS).map((e) => this.read(e)))) {
        if (l === undefined || (owner && !ownedBy(l, owner))) missing += 1;
        else if (!full && (items.length === 0 || chars + l.body.length <= maxChars)) {
          items.push(publicView(l));
          chars += l.body.length;
        } else full = true;
      }
    }
    return { total: chosen.length - missing, items };
  }

  /** The index's letters of a queue (or all), the caller's own given an owner (read once to learn it). */
  private async chosen(queue: string | undefined, owner: Owner | undefined): Promise<Indexed[]> {
    const chosen = this.current().filter((e) => !e.gone && (queue === undefined || e.queue === queue));
    return owner ? this.ofOwner(chosen, owner) : chosen;
  }

  /** Of these letters, the owner's (their owners read from their files once, if not known yet). */
  private async ofOwner(entries: readonly Indexed[], owner: Owner): Promise<Indexed[]> {
    await this.knowOwners(entries);
    const key = this.ownerKey(owner);
    return entries.filter((e) => !e.gone && e.owner === key);
  }

  /**
   * The ids of the letters a selection means (of a queue, a caller's own), oldest first, at most
   * `limit`, and how many there are: from the index, no letter read but to learn owners once.
   * Replay and purge act on ids; reading up to 1,000 letters of up to 1 MiB each to get them held
   * a gigabyte.
   */
  async select(options: { queue?: string; limit: number; owner?: Owner }): Promise<{ total: number; ids: string[] }> {
    const chosen = await this.chosen(options.queue, options.owner);
    return { total: chosen.length, ids: chosen.slice(0, options.limit).map((e) => e.id) };
  }

  /**
   * Learns whose every letter is (reading each file once, in libuv's pool), so the first list
   * scoped to a caller need not: the daemon starts it in pass-through mode, where every list is.
   */
  async learnOwners(): Promise<void> {
    await this.knowOwners(this.current());
  }

  /** Of these ids, those with a letter (the caller's own, given an owner), in the order given. */
  async owned(ids: readonly string[], owner?: Owner): Promise<string[]> {
    this.current();
    const entries = ids.map((id) => this.byId.get(id)).filter((e): e is Indexed => e !== undefined);
    return (owner ? await this.ofOwner(entries, owner) : entries).map((e) => e.id);
  }

  async get(id: string, owner?: Owner): Promise<DeadLetter | undefined> {
    const letter = await this.load(id);
    if (!letter || (owner && !ownedBy(letter, owner))) return undefined;
    return publicView(letter);
  }

  /** The full record, credentials included: for replay only, never for display. */
  async load(id: string): Promise<DeadLetterFile | undefined> {
    this.current();
    const e = this.byId.get(id);
    return e ? this.read(e) : undefined;
  }

  /** Removes a letter (after replay, or purge). False if it was not there. */
  async remove(id: string): Promise<boolean> {
    this.current();
    const e = this.byId.get(id);
    if (!e) return false;
    try {
      await unlink(join(this.dir, e.name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.forget(e);
      return false;
    }
    this.forget(e);
    this.removePayload(id);
    return true;
  }

  /** The index, the directory walked again in the background once it is older than COUNT_REFRESH_MS. */
  private current(): Indexed[] {
    if (Date.now() - this.listedAt >= COUNT_REFRESH_MS) void this.relist();
    return this.index;
  }

  private relist(): Promise<void> {
    this.listing ??= this.walk().finally(() => (this.listing = undefined));
    return this.listing;
  }

  /**
   * Walks the directory off the event loop (a few hundred names a turn) and brings the index in
   * line with it: letters not found any more leave it, letters it did not know join it (their
   * owner unknown). Letters this process writes or removes during the walk stay as they are.
   * Skipped while the directory's mtime is what it was at the last walk (nothing was added or
   * removed since: walking 100,000 names took ~100 ms of the loop in small turns each time the
   * gauge was scraped), but at least every FULL_WALK_MS (file systems with coarse times).
   */
  private async walk(): Promise<void> {
    const started = Date.now();
    let mtime = -1;
    try {
      mtime = (await stat(this.dir)).mtimeMs;
    } catch {
      /* walk, and fail there */
    }
    if (mtime >= 0 && mtime === this.walkedMtime && started - this.walkedAt < FULL_WALK_MS) {
      this.listedAt = started;
      return;
    }
    const walk = ++this.walks;
    const removed = new Set<string>();
    this.removedInWalk = removed;
    const found: string[] = [];
    try {
      const dir = await opendir(this.dir, { bufferSize: 256 });
      for await (const d of dir) {
        const m = NAME.exec(d.name);
        if (!m) continue;
        const known = this.named(m[2] as string, d.name);
        if (known) known.seen = walk;
        else found.push(d.name);
      }
    } catch {
      return; // keep the index as it was
    } finally {
      this.removedInWalk = undefined;
    }
    for (const e of this.index) if (!e.gone && e.seen < walk) this.forget(e);
    for (const name of found.sort()) {
      const m = NAME.exec(name) as RegExpExecArray;
      if (!removed.has(name) && !this.named(m[2] as string, name)) this.insert(this.entry(name, m[2] as string, m[3] as string, undefined));
    }
    this.listedAt = started;
    this.walkedAt = started;
    this.walkedMtime = mtime;
  }

  /** The letter names now, sorted (read on the event loop: at construction only). */
  private namesNow(): string[] {
    try {
      this.walkedMtime = statSync(this.dir).mtimeMs;
      this.walkedAt = Date.now();
      return readdirSync(this.dir).filter((n) => NAME.test(n)).sort();
    } catch {
      return [];
    }
  }

  /** A new index of these names (sorted). */
  private indexOf(names: readonly string[]): void {
    this.index = [];
    this.byId.clear();
    this.live = 0;
    this.gone = 0;
    for (const name of names) {
      const m = NAME.exec(name) as RegExpExecArray;
      this.insert(this.entry(name, m[2] as string, m[3] as string, undefined));
    }
    this.listedAt = Date.now();
  }

  private entry(name: string, id: string, queue: string, owner: string | undefined): Indexed {
    return { name, id, queue, owner, gone: false, seen: this.walks, next: undefined };
  }

  /** The entry of this id and file name, if the index has it. */
  private named(id: string, name: string): Indexed | undefined {
    for (let e = this.byId.get(id); e; e = e.next) if (e.name === name) return e;
    return undefined;
  }

  /** Puts a letter in the index in name order (a new letter's name sorts last, or nearly). */
  private insert(e: Indexed): void {
    const index = this.index;
    let i = index.length;
    while (i > 0 && (index[i - 1] as Indexed).name > e.name) i -= 1;
    if (i === index.length) index.push(e);
    else index.splice(i, 0, e);
    this.live += 1;
    const first = this.byId.get(e.id);
    if (!first) this.byId.set(e.id, e);
    else if (first.name > e.name) {
      e.next = first;
      this.byId.set(e.id, e);
    } else {
      let last = first;
      while (last.next && last.next.name < e.name) last = last.next;
      e.next = last.next;
      last.next = e;
    }
  }

  /** Takes a letter out of the index (removed, or its file found gone). */
  private forget(e: Indexed): void {
    if (e.gone) return;
    e.gone = true;
    this.live -= 1;
    this.gone += 1;
    this.removedInWalk?.add(e.name);
    const first = this.byId.get(e.id);
    if (first === e) {
      if (e.next) this.byId.set(e.id, e.next);
      else this.byId.delete(e.id);
    } else {
      for (let p = first; p; p = p.next) {
        if (p.next === e) {
          p.next = e.next;
          break;
        }
      }
    }
    // Removed entries leave the array once they are as many as the live ones (one pass, not one each).
    if (this.gone > 64 && this.gone >= this.live) {
      this.index = this.index.filter((x) => !x.gone);
      this.gone = 0;
      this.ownerKeys = new Map(this.index.filter((x) => x.owner).map((x) => [x.owner as string, x.owner as string]));
    }
  }

  /** A letter's file, read in libuv's pool; undefined (and out of the index) if it is gone. */
  private async read(e: Indexed): Promise<DeadLetterFile | undefined> {
    let letter: DeadLetterFile;
    try {
      letter = JSON.parse(await readText(join(this.dir, e.name))) as DeadLetterFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.forget(e);
      return undefined; // removed meanwhile by another process, or unreadable
    }
    e.owner ??= this.ownerOf(letter.credentials);
    return letter;
  }

  /** Learns whose the letters are whose owner the index does not know yet, reading their files (READS at once). */
  private async knowOwners(entries: readonly Indexed[]): Promise<void> {
    for (;;) {
      const unknown = entries.filter((e) => !e.gone && e.owner === undefined);
      if (unknown.length === 0) return;
      // One reading at a time: a second list waits for it, then reads what is still unknown.
      this.owning ??= (async () => {
        let next = 0;
        const reader = async (): Promise<void> => {
          while (next < unknown.length) {
            const e = unknown[next++] as Indexed;
            if (e.owner !== undefined || e.gone) continue;
            if ((await this.read(e)) === undefined && !e.gone) e.owner = ''; // unreadable: nobody's
          }
        };
        await Promise.all(Array.from({ length: READS }, reader));
      })().finally(() => (this.owning = undefined));
      await this.owning;
    }
  }

  /** Who a key pair is: an HMAC under this process's salt, '' for none. */
  private ownerKey(c: Owner | Credentials | null): string {
    if (!c) return '';
    return createHmac('sha256', this.salt).update(`${c.accessKeyId.length}:${c.accessKeyId}`).update(c.secretAccessKey).digest('base64url');
  }

  /**
   * A letter's owner key for the index: one string per key pair, shared by all its letters (a
   * string each took ~100 bytes a letter). Only letters' owners are kept, never a caller's.
   */
  private ownerOf(c: Credentials | null): string {
    const key = this.ownerKey(c);
    const known = this.ownerKeys.get(key);
    if (known !== undefined) return known;
    this.ownerKeys.set(key, key);
    return key;
  }
}

/**
 * A file's text, read in libuv's pool by fs.readFile (callback): fs/promises' readFile makes a
 * round trip to the pool per step in JavaScript, several times the cost for a small file.
 */
function readText(path: string): Promise<string> {
  return new Promise((resolve, reject) => readFile(path, 'utf8', (err, text) => (err ? reject(err) : resolve(text))));
}

/** The store holds --max-dead-letters letters: a call's letters are not written (they stay in the journal). */
export class DeadLettersFull extends Error {
  override readonly name = 'DeadLettersFull';
  constructor(
    readonly letters: number,
    readonly max: number,
  ) {
    super(`the dead-letter store holds ${letters} of at most ${max} letters (--max-dead-letters)`);
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
