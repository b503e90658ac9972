/** `name <value>` in `args`, or `dflt` when absent (`args` left as it is). For the small command-line tools of the bench. */
export function option(args: readonly string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : dflt;
}

/**
 * `name <number>` taken out of `args` (both words removed, so what is left is the positional
 * arguments), or undefined when absent. For the small command-line tools of the bench.
 */
export function takeNumber(args: string[], name: string): number | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
}
