/**
 * The child side of the bench's IPC: answers `{ id, cmd, args }` with `{ id, ok, result | error }`,
 * announces itself with `{ ready: true, ...extra }`, and exits when the parent goes away.
 */
export type Handler = (args: Record<string, unknown>) => unknown;

export function serve(handlers: Record<string, Handler>, ready: Record<string, unknown> = {}): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('this script is started by bench/run.ts (it needs an IPC channel)');
  process.on('message', (raw: unknown) => {
    const msg = raw as { id: number; cmd: string; args: Record<string, unknown> };
    const handler = handlers[msg.cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${msg.cmd}`);
        return handler(msg.args ?? {});
      })
      .then(
        (result) => send({ id: msg.id, ok: true, result }),
        (err: unknown) => send({ id: msg.id, ok: false, error: (err as Error)?.stack ?? String(err) }),
      );
  });
  // The parent died or is done with us: nothing of ours may outlive it.
  process.on('disconnect', () => process.exit(0));
  // Stopped by the bench (SIGTERM): exit normally, so --cpu-prof writes its profile.
  process.on('SIGTERM', () => process.exit(0));
  send({ ready: true, ...ready });
}
