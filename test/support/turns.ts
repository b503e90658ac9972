// Shared by the tests that check a piece of work lets the event loop turn (issue 11).
/** `fn`'s result and how many turns of the event loop (check phases) passed while it ran. */
export async function withTurns<T>(fn: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let done = false;
  const count = (): void => {
    if (done) return;
    turns += 1;
    setImmediate(count);
  };
  setImmediate(count);
  const value = await fn();
  done = true;
  return { value, turns };
}
