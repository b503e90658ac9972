import { timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DeadLetter, DeadLetterStore, Owner, StoredDeadLetter } from '../delivery/store.js';
import { type Envelope, type FailureReason, messageOf } from '../delivery/envelope.js';
import type { Credentials } from '../sqs/types.js';

/** What a dead-letter file holds: the public record plus what replay needs. */
export type DeadLetterFile = StoredDeadLetter;

const NAME = /^(\d{15})\.([A-Za-z0-9-]+)\.([A-Za-z0-9_.-]+)\.json$/;

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

  constructor(spoolDir: string) {
    this.dir = join(spoolDir, 'dead-letters');
    this.removePayload = (id) => rmSync(join(spoolDir, 'large', id), { force: true });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  add(envs: readonly Envelope[], reason: FailureReason, credentialsOf: (env: Envelope) => Credentials | null): void {
    const deadAt = Date.now();
    for (const env of envs) {
      const m = messageOf(env.message);
      const creds = credentialsOf(env);
      const letter: DeadLetterFile = {
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
      this.write(letter);
    }
  }

  write(letter: DeadLetterFile): void {
    const name = `${String(letter.deadAt).padStart(15, '0')}.${letter.id}.${letter.queueName}.json`;
    const tmp = join(this.dir, `.${name}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(letter));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, name));
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

  count(): number {
    return this.names().length;
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
      this.removePayload(id);
      return true;
    } catch {
      return false;
    }
  }
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
