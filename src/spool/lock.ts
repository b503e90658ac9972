import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class SpoolError extends Error {
  override readonly name = 'SpoolError';
  constructor(
    readonly code: 'ESPOOLFULL' | 'ESPOOLWRITE' | 'ESPOOLLOCKED',
    message: string,
    /** The errno code behind an ESPOOLWRITE (ENOSPC, EIO...). */
    readonly errno?: string,
  ) {
    super(message);
  }
}

/**
 * One daemon per spool directory: two writers would recover and delete each other's
 * segments. LOCK holds `<pid> <boot id> <process start time>`. It is honoured only while that
 * very process lives: after kill -9 the PID is dead; after a reboot the boot id differs; and if
 * the PID was reused by another process, its start time differs. Otherwise a stale LOCK would
 * keep the daemon down (exit 2, which systemd does not restart) until someone deleted it.
 */
export function lockSpoolDir(dir: string): void {
  const path = join(dir, 'LOCK');
  const me = `${process.pid} ${bootId()} ${startTime(process.pid)}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, me);
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let held = '';
    try {
      held = readFileSync(path, 'utf8');
    } catch {
      /* vanished meanwhile: try again */
    }
    const owner = ownerOf(held);
    if (owner !== undefined) {
      throw new SpoolError('ESPOOLLOCKED', `spool directory ${dir} is in use by another sqs-accelerator (pid ${owner}); give each daemon its own --spool-dir`);
    }
    try {
      unlinkSync(path); // stale: its owner is gone
    } catch {
      /* someone else took it over first; the next attempt sees theirs */
    }
  }
  throw new SpoolError('ESPOOLLOCKED', `could not lock spool directory ${dir}`);
}

export function unlockSpoolDir(dir: string): void {
  const path = join(dir, 'LOCK');
  try {
    if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** The PID holding a LOCK's content, if that process still exists and is the one that wrote it. */
function ownerOf(content: string): number | undefined {
  const [pidText, boot, start] = content.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !processAlive(pid)) return undefined;
  // A LOCK written without these (or where /proc is missing) is judged by the PID alone.
  if (boot && boot !== '-' && bootId() !== '-' && boot !== bootId()) return undefined;
  if (start && start !== '-' && startTime(pid) !== '-' && start !== startTime(pid)) return undefined;
  return pid;
}

/**
 * Whether `pid` is a running process. A zombie (exited, not yet reaped by its parent: a quick
 * restart by a supervisor that has not waited yet) still answers kill(pid, 0), but it holds
 * nothing any more: it counts as dead, or the new daemon would exit 2 and stay down.
 */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const state = processState(pid);
  return state !== 'Z' && state !== 'X';
}

/** Field 3 of /proc/<pid>/stat (R, S, D, Z...), or '-'. */
function processState(pid: number): string {
  return statFields(pid)?.[0] ?? '-';
}

/** The fields of /proc/<pid>/stat after the command name (field 3 onwards), or undefined. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '-';
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or '-'. */
function startTime(pid: number): string {
  return statFields(pid)?.[19] ?? '-';
}

/** Checks at start that the spool directory can be used; throws a clear message if not. */
export function checkSpoolDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    if (!st.isDirectory()) throw new Error('not a directory');
    const probe = join(dir, `.probe-${process.pid}`);
    const fd = openSync(probe, 'w', 0o600);
    closeSync(fd);
    unlinkSync(probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SpoolError('ESPOOLWRITE', `spool directory ${dir} is not usable: ${e.code ?? e.message} (set --spool-dir, or --durability memory to run without a spool)`);
  }
}
