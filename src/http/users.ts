import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { LoginThrottle } from './login-throttle.js';
import { nameValueLines } from '../name-value-lines.js';

interface Hash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** The answer to a login: ok, or why not (each a stable code the HTTP layer maps). */
export type LoginResult =
  | { ok: true }
  | { ok: false; code: 'InvalidLocalUser' }
  | { ok: false; code: 'TooManyFailedLogins'; retryAfterS: number }
  | { ok: false; code: 'LoginBusy' };

/** scrypt as node:crypto has it (replaceable in tests, to see which work a check does). */
export type Kdf = (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }, cb: (err: Error | null, key: Buffer) => void) => void;

/** Password checks waiting for a thread at most; past it a login gets 503 at once. */
const MAX_WAITING = 64;

/**
 * Local users for --credentials chain: the daemon signs with its own AWS credentials, so
 * Basic auth is only a local access check. The file holds one `name:scrypt$N$r$p$salt$hash`
 * line per user (made by `sqs-accelerator hash-password`); `#` starts a comment.
 *
 * A check costs the event loop nothing: scrypt runs on libuv's thread pool, at most
 * `concurrency` at a time (one fewer than the cores, so a flood of logins leaves a core to
 * the ack path), with a bounded wait. An unknown name costs exactly what a known one does
 * (a decoy hash with the first user's parameters), every compare is constant-time, and
 * failures are throttled per client (LoginThrottle). Verified passwords are remembered (as a
 * SHA-256) so scrypt runs once per user, not per request.
 */
export class LocalUsers {
  private readonly hashes = new Map<string, Hash>();
  private readonly verified = new Map<string, Buffer>();
  private readonly decoy: Hash;
  private readonly concurrency = Math.max(1, Math.min(2, availableParallelism() - 1));
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  readonly throttle = new LoginThrottle();

  private readonly kdf: Kdf;

  constructor(text: string, source = 'users file', options: { kdf?: Kdf } = {}) {
    this.kdf = options.kdf ?? scrypt;
    for (const { lineNo, name, value } of nameValueLines(text)) {
      const parts = value.split('$');
      if (name === '' || parts.length !== 6 || parts[0] !== 'scrypt') {
        throw new Error(`${source} line ${lineNo}: expected name:scrypt$N$r$p$salt$hash (make one with: sqs-accelerator hash-password)`);
      }
      const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
      this.hashes.set(name, { N: Number(n), r: Number(r), p: Number(p), salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') });
    }
    const first = this.hashes.values().next().value;
    if (!first) throw new Error(`${source} names no users`);
    this.decoy = { ...first, salt: randomBytes(first.salt.length || 16), hash: randomBytes(first.hash.length) };
  }

  static fromFile(path: string): LocalUsers {
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0) {
      // Hashes, not passwords, but still nobody else's business.
      process.emitWarning(`users file ${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    return new LocalUsers(readFileSync(path, 'utf8'), `users file ${path}`);
  }

  get size(): number {
    return this.hashes.size;
  }

  /** A login from `client` (its address): throttled, then checked. */
  async login(client: string, name: string, password: string): Promise<LoginResult> {
    const known = this.answerAtOnce(client, name, password);
    if (known) return known;
    if (this.running >= this.concurrency && this.waiting.length >= MAX_WAITING) return { ok: false, code: 'LoginBusy' };
    if (await this.check(name, password)) {
      this.throttle.succeeded(client, name);
      return { ok: true };
    }
    this.throttle.failed(client, name);
    return { ok: false, code: 'InvalidLocalUser' };
  }

  /**
   * What login() answers without an scrypt, synchronously: ok for a password verified before
   * (a constant-time compare of its SHA-256), TooManyFailedLogins for a throttled client;
   * undefined when the password must be checked. The send fast path answers a throttled
   * client from this alone (src/http/refusal.ts).
   */
  answerAtOnce(client: string, name: string, password: string): LoginResult | undefined {
    if (this.cachedMatch(name, password)) return { ok: true };
    const retryAfterS = this.throttle.retryAfterS(client, name);
    if (retryAfterS > 0) return { ok: false, code: 'TooManyFailedLogins', retryAfterS };
    return undefined;
  }

  /** Whether `password` is `name`'s. Never throttled: use login() for requests. */
  async check(name: string, password: string): Promise<boolean> {
    if (this.cachedMatch(name, password)) return true;
    const entry = this.hashes.get(name);
    const h = entry ?? this.decoy; // same work, so timing does not tell which names exist
    const got = await this.scrypt(password, h);
    const match = timingSafeEqual(got, h.hash);
    if (!entry || !match) return false;
    this.verified.set(name, sha256(password));
    return true;
  }

  private cachedMatch(name: string, password: string): boolean {
    const known = this.verified.get(name);
    return known !== undefined && timingSafeEqual(known, sha256(password));
  }

  private async scrypt(password: string, h: Hash): Promise<Buffer> {
    if (this.running < this.concurrency) this.running += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the slot is handed over
    try {
      return await new Promise<Buffer>((resolve, reject) =>
        this.kdf(password, h.salt, h.hash.length, { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r }, (err, key) => (err ? reject(err) : resolve(key))),
      );
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** One users-file line for `name` and `password`. */
export function hashPassword(name: string, password: string): string {
  const N = 16384;
  const r = 8;
  const p = 1;
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N, r, p });
  return `${name}:scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}
