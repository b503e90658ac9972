import { attributesBytes } from '../../src/sqs/attributes.js';
import { withTrace } from '../../src/sqs/trace.js';
import type { MessageAttributes } from '../../src/sqs/types.js';

const XRAY = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const limits = { fifo: false, contentBasedDedup: false, maxMessageBytes: 1024 };
const on = { attributes: true };
const base = { message: { body: 'hello' }, bytes: 5 };

describe('withTrace', () => {
  it('X-Amzn-Trace-Id becomes traceHeader (AWSTraceHeader), not counted in the size; the body field wins', () => {
    expect(withTrace(base, { amznTraceId: XRAY }, limits, on)).toEqual({ ok: true, message: { body: 'hello', traceHeader: XRAY }, bytes: 5 });
    const other = XRAY.replace('Sampled=1', 'Sampled=0');
    expect(withTrace(base, { amznTraceId: XRAY, awsTraceHeader: other }, limits, on)).toMatchObject({ ok: true, message: { traceHeader: other } });
  });

  it('a malformed header is ignored; a malformed body field is a 400', () => {
    expect(withTrace(base, { amznTraceId: 'garbage' }, limits, on)).toEqual({ ok: true, ...base });
    expect(withTrace(base, { awsTraceHeader: 'garbage' }, limits, on)).toMatchObject({ ok: false, status: 400, code: 'InvalidTraceHeader', field: 'awsTraceHeader' });
    expect(withTrace(base, { awsTraceHeader: 42 }, limits, on)).toMatchObject({ ok: false, code: 'InvalidTraceHeader' });
  });

  it('W3C traceparent and tracestate become String attributes, counted in the size; off with the flag', () => {
    const r = withTrace(base, { traceparent: TP, tracestate: 'congo=t61rcWkgMzE' }, limits, on);
    const attrs: MessageAttributes = { traceparent: { DataType: 'String', StringValue: TP }, tracestate: { DataType: 'String', StringValue: 'congo=t61rcWkgMzE' } };
    expect(r).toEqual({ ok: true, message: { body: 'hello', attributes: attrs }, bytes: 5 + attributesBytes(attrs) });
    expect(withTrace(base, { traceparent: TP }, limits, { attributes: false })).toEqual({ ok: true, ...base });
  });

  it.each([
    ['00-00000000000000000000000000000000-b7ad6b7169203331-01'], // zero trace id
    ['00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01'], // zero parent id
    ['ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'], // version ff
    ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra'], // version 00 has four fields
    ['not a traceparent'],
  ])('an invalid traceparent %j carries nothing (tracestate neither)', (tp) => {
    expect(withTrace(base, { traceparent: tp, tracestate: 'a=b' }, limits, on)).toEqual({ ok: true, ...base });
  });

  it('never past 10 attributes: tracestate goes first, then traceparent; the sender\'s own attributes win', () => {
    const own = (n: number): MessageAttributes => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }]));
    const nine = { message: { body: 'x', attributes: own(9) }, bytes: 1 + attributesBytes(own(9)) };
    const r9 = withTrace(nine, { traceparent: TP, tracestate: 'a=b' }, limits, on);
    expect(r9.ok && Object.keys(r9.message.attributes ?? {}).sort()).toEqual([...Object.keys(own(9)), 'traceparent'].sort());
    const ten = { message: { body: 'x', attributes: own(10) }, bytes: 1 + attributesBytes(own(10)) };
    expect(withTrace(ten, { traceparent: TP }, limits, on)).toEqual({ ok: true, ...ten });
    const mineTp = { message: { body: 'x', attributes: { traceparent: { DataType: 'String', StringValue: 'my own' } } }, bytes: 30 };
    const r = withTrace(mineTp, { traceparent: TP, tracestate: 'a=b' }, limits, on);
    expect(r.ok && r.message.attributes?.traceparent?.StringValue).toBe('my own');
    expect(r.ok && r.message.attributes?.tracestate).toBeUndefined(); // not mixed with another context
  });

  it('never past the queue\'s size limit: trace attributes are dropped, the message is kept', () => {
    const full = { message: { body: 'x'.repeat(1000) }, bytes: 1000 };
    expect(withTrace(full, { traceparent: TP, tracestate: 'a=b' }, limits, on)).toMatchObject({ ok: true, bytes: 1000, message: { body: 'x'.repeat(1000) } });
  });
});
