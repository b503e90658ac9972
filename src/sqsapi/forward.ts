/**
 * Every action the door does not answer itself goes to SQS as a JSON call signed with the
 * daemon's credentials, and SQS's answer comes back as it is: result or error, with the queue
 * URLs in it pointing at the daemon.
 */
import type { CredentialSource } from '../sqs/credentials.js';
import type { SqsClient } from '../sqs/client.js';
import { CREDENTIAL_REFRESH_CODES, normalizeCode } from '../sqs/errors.js';
import { SqsApiError } from './errors.js';
import { type QueueUrls, rewriteAnswerUrls } from './urls.js';

export interface ForwardDeps {
  client: SqsClient;
  credentials: CredentialSource;
  urls: QueueUrls;
  /** Timeout of a forwarded call (a long poll adds its wait to it). ms. */
  requestTimeoutMs: number;
}

/** ReceiveMessage's longest wait (SQS's WaitTimeSeconds maximum, also a queue's default at most). */
const MAX_WAIT_MS = 20_000;

function unavailable(message: string): SqsApiError {
  return new SqsApiError(503, 'ServiceUnavailable', message, { headers: { 'retry-after': '2' } });
}

/** Forwards `action`; returns SQS's result with local queue URLs, or throws SqsApiError with SQS's code, status and message. */
export async function forward(deps: ForwardDeps, action: string, params: Record<string, unknown>, localOrigin: string): Promise<Record<string, unknown>> {
  if (typeof params.QueueUrl === 'string') params = { ...params, QueueUrl: deps.urls.toUpstream(params.QueueUrl) };
  const body = JSON.stringify(params);
  const timeoutMs = action === 'ReceiveMessage' ? deps.requestTimeoutMs + MAX_WAIT_MS : deps.requestTimeoutMs;
  for (let attempt = 0; ; attempt++) {
    let creds;
    try {
      creds = await deps.credentials.get();
    } catch {
      throw unavailable('the daemon could not load its AWS credentials; try again');
    }
    let answer;
    try {
      answer = await deps.client.relay(action, body, creds, timeoutMs);
    } catch {
      throw unavailable(`SQS could not be reached for ${action}; try again`);
    }
    if (answer.status >= 200 && answer.status < 300) {
      let result: Record<string, unknown> = {};
      if (answer.text !== '') {
        try {
          result = JSON.parse(answer.text) as Record<string, unknown>;
        } catch {
          throw unavailable(`SQS answered ${action} with a body that is not JSON`);
        }
      }
      rewriteAnswerUrls(result, (u) => deps.urls.toLocal(u, localOrigin));
      return result;
    }
    const err = upstreamError(answer.status, answer.text, answer.queryError);
    // The daemon's own credentials expired: fetch fresh ones once, as the sender does.
    if (attempt === 0 && deps.credentials.refreshable && CREDENTIAL_REFRESH_CODES.has(err.code)) {
      await deps.credentials.refresh().catch(() => {});
      continue;
    }
    throw err;
  }
}

/** SQS's JSON error as an SqsApiError: `__type` code, message, status, and the Query code from x-amzn-query-error. */
export function upstreamError(status: number, text: string, queryError?: string): SqsApiError {
  let code = '';
  let message = '';
  try {
    const parsed = JSON.parse(text) as { __type?: unknown; message?: unknown; Message?: unknown };
    if (typeof parsed.__type === 'string') code = normalizeCode(parsed.__type);
    const m = parsed.message ?? parsed.Message;
    if (typeof m === 'string') message = m;
  } catch {
    // A proxy or load balancer answered.
  }
  if (code === '') code = status >= 500 ? 'ServiceUnavailable' : status === 403 ? 'AccessDenied' : 'InvalidRequest';
  if (message === '') message = `SQS answered HTTP ${status}`;
  const queryCode = queryError?.split(';')[0]?.trim();
  return new SqsApiError(status, code, message, queryCode ? { queryCode } : {});
}
