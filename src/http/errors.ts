/** An error that becomes an HTTP answer: status, stable code, a message safe to show. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, options: { headers?: Record<string, string>; details?: unknown } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.details = options.details;
  }
}

export function isHttpError(err: unknown): err is HttpError {
  return (err as { name?: unknown })?.name === 'HttpError' && typeof (err as { status?: unknown }).status === 'number';
}

export const BASIC_CHALLENGE = 'Basic realm="sqs-accelerator", charset="UTF-8"';
