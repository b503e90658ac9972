/** One line of a `name:value` file. */
export interface NameValueLine {
  /** 1-based, for errors that name the line. */
  lineNo: number;
  /** Before the first colon; '' when the line has no colon or starts with one. */
  name: string;
  /** After the first colon (the whole line when there is none). */
  value: string;
}

/**
 * The lines of the daemon's `name:value` files (the users file, the SQS API keys file): each
 * line trimmed, blank lines and `#` comments skipped, split at the first colon. What a valid
 * name or value is stays with each file's reader, which names the line in its errors.
 */
export function* nameValueLines(text: string): Generator<NameValueLine> {
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo += 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    yield { lineNo, name: colon > 0 ? line.slice(0, colon) : '', value: line.slice(colon + 1) };
  }
}
