/**
 * Pinned and unpinned runs in one sitting (issue 14): the bench's processes are started once and
 * moved between the two layouts with `taskset -a -p` (every thread of the process) before each
 * measured run, so both layouts are measured against the same servers, warmed the same way.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { Child } from './proc.js';

export type Pin = 'unpinned' | 'pinned';
/** Which core a process is pinned to in the pinned layout. */
export type Role = 'server' | 'client';

export const SERVER_CPU = 0;
export const CLIENT_CPU = 1;

/** The layouts a sitting measures, headline first. One core: unpinned only. */
export function pinVariants(pinning: 'both' | 'unpinned' | 'pinned'): Pin[] {
  if (availableParallelism() < 2) return ['unpinned'];
  return pinning === 'both' ? ['unpinned', 'pinned'] : [pinning];
}

/** Sets the CPU affinity of every thread of `pid`; throws if taskset refuses. */
export function setAffinity(pid: number, cpus: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpus} ${pid} failed: ${r.stderr.trim() || r.error?.message}`);
}

/** The CPU list of `pid` (its main thread), e.g. `0` or `0,1`, from /proc. */
export function affinityOf(pid: number): string {
  const r = spawnSync('taskset', ['-p', '-c', String(pid)], { encoding: 'utf8' });
  return /:\s*(\S+)\s*$/.exec(r.stdout.trim())?.[1] ?? '?';
}

/** Tracks the bench's processes by role and moves them to one layout or the other. */
export class Pinner {
  private readonly roles = new Map<Child, Role>();
  private readonly all = `0-${availableParallelism() - 1}`;

  add(child: Child, role: Role): void {
    this.roles.set(child, role);
  }

  apply(pin: Pin): void {
    for (const [child, role] of this.roles) {
      if (!child.running) {
        this.roles.delete(child);
        continue;
      }
      setAffinity(child.pid, pin === 'unpinned' ? this.all : String(role === 'server' ? SERVER_CPU : CLIENT_CPU));
    }
  }
}
