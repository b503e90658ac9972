import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/**
 * Local users for --credentials chain: the daemon signs with its own AWS credentials, so
 * Basic auth is only a local access check. The file holds one `name:scrypt$N$r$p$salt$hash`
 * line per user (made by `sqs-accelerator hash-password`); `#` starts a comment.
 * Verified passwords are remembered (as a SHA-256) so scrypt runs once per user, not per request.
 */
export class LocalUsers {
  private readonly hashes = new Map<string, { N: number; r: number; p: number; salt: Buffer; hash: Buffer }>();
  private readonly verified = new Map<string, string>();

  constructor(text: string, source = 'users file') {
    let lineNo = 0;
    for (const raw of text.split('\n')) {
      lineNo += 1;
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      const parts = line.slice(colon + 1).split('$');
      if (name === '' || parts.length !== 6 || parts[0] !== 'scrypt') {
        throw new Error(`${source} line ${lineNo}: expected name:scrypt$N$r$p$salt$hash (make one with: sqs-accelerator hash-password)`);
      }
      const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
      this.hashes.set(name, { N: Number(n), r: Number(r), p: Number(p), salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') });
    }
    if (this.hashes.size === 0) throw new Error(`${source} names no users`);
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

  check(name: string, password: string): boolean {
    const entry = this.hashes.get(name);
    const digest = createHash('sha256').update(password).digest('hex');
    if (!entry) {
      // Same work as a real check, so timing does not tell which names exist.
      scryptSync(password, 'no-such-user', 32, { N: 1024 });
      return false;
    }
    if (this.verified.get(name) === digest) return true;
    const got = scryptSync(password, entry.salt, entry.hash.length, { N: entry.N, r: entry.r, p: entry.p, maxmem: 256 * entry.N * entry.r });
    if (got.length === entry.hash.length && timingSafeEqual(got, entry.hash)) {
      this.verified.set(name, digest);
      return true;
    }
    return false;
  }
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
