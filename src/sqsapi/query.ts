/**
 * The Query protocol (form-encoded `Action=...` requests, XML answers), translated to and from
 * the JSON protocol's shapes, so one handler serves both and forwarded calls go upstream as
 * JSON (SQS accepts both; emulators such as fauxqs speak JSON only).
 */
import { ACTIONS, type Shape, type StructShape, wireName } from './shapes.js';
import { SqsApiError } from './errors.js';

export const XMLNS = 'http://queue.amazonaws.com/doc/2012-11-05/';

/** Most parameters one Query request may carry (SQS's own requests need well under 1,000). */
export const MAX_QUERY_PARAMS = 10_000;
/** Largest list index accepted (`Entry.N`); SQS's lists hold at most a few dozen entries. */
const MAX_INDEX = 1_000;

const malformed = (message: string): SqsApiError => new SqsApiError(400, 'MalformedQueryString', message);

/** Longest parameter name accepted; SQS's longest is about 90 characters. */
const MAX_KEY_LENGTH = 256;

/**
 * Parses `a=1&b=2` (form encoding: `+` is a space); invalid percent-encoding or UTF-8 is refused,
 * not replaced. Scans without splitting the whole text first, so a body of a million `&` costs
 * nothing before the parameter count is refused.
 */
export function parseQuery(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let count = 0;
  let start = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('&', start);
    if (end < 0) end = n;
    if (end > start) {
      if (++count > MAX_QUERY_PARAMS) throw malformed(`the request has more than ${MAX_QUERY_PARAMS} parameters`);
      const eq = text.indexOf('=', start);
      const keyEnd = eq >= 0 && eq < end ? eq : end;
      const rawKey = text.slice(start, keyEnd);
      if (rawKey.length > MAX_KEY_LENGTH * 3) throw malformed(`a parameter name is longer than ${MAX_KEY_LENGTH} characters`);
      const rawValue = keyEnd < end ? text.slice(keyEnd + 1, end) : '';
      let key: string;
      let value: string;
      try {
        key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
        value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
      } catch {
        throw malformed(`parameter ${JSON.stringify(rawKey.slice(0, 100))} is not valid percent-encoded UTF-8`);
      }
      if (key.length > MAX_KEY_LENGTH) throw malformed(`a parameter name is longer than ${MAX_KEY_LENGTH} characters`);
      out.set(key, value);
    }
    start = end + 1;
  }
  return out;
}

interface Node {
  value?: string;
  children?: Map<string, Node>;
}

/** `A.1.B=x` -> a tree A -> 1 -> B = x. */
function toTree(params: ReadonlyMap<string, string>): Node {
  const root: Node = {};
  for (const [key, value] of params) {
    let node = root;
    for (const part of key.split('.')) {
      node.children ??= new Map();
      let next = node.children.get(part);
      if (next === undefined) {
        next = {};
        node.children.set(part, next);
      }
      node = next;
    }
    node.value = value;
  }
  return root;
}

/** Children of a list or map node, in index order (`.1`, `.2`, ...). */
function indexed(node: Node, name: string): Node[] {
  if (!node.children) return [];
  const entries: Array<[number, Node]> = [];
  for (const [k, child] of node.children) {
    const n = /^[1-9]\d{0,5}$/.test(k) ? Number(k) : NaN;
    if (!(n <= MAX_INDEX)) throw malformed(`parameter ${name}.${k.slice(0, 20)}: expected an index from 1 to ${MAX_INDEX}`);
    entries.push([n, child]);
  }
  entries.sort((a, b) => a[0] - b[0]);
  return entries.map((e) => e[1]);
}

function decode(shape: Shape, node: Node, name: string): unknown {
  if (shape === 'string') return node.value;
  if (shape === 'integer') {
    if (node.value === undefined) return undefined;
    if (!/^-?\d{1,15}$/.test(node.value)) throw new SqsApiError(400, 'InvalidParameterValue', `Value ${node.value.slice(0, 100)} for parameter ${name} is invalid. Reason: must be an integer.`);
    return Number(node.value);
  }
  if (shape === 'boolean') return node.value === undefined ? undefined : node.value === 'true';
  if (shape.kind === 'list') return indexed(node, name).map((child, i) => decode(shape.member, child, `${name}.${i + 1}`));
  if (shape.kind === 'map') {
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const entry of indexed(node, name)) {
      const key = entry.children?.get(shape.key)?.value;
      if (key === undefined) throw new SqsApiError(400, 'MissingParameter', `The request must contain the parameter ${name}.N.${shape.key}.`);
      const valueNode = entry.children?.get(shape.value) ?? {};
      out[key] = decode(shape.valueShape, valueNode, `${name}.${shape.value}`);
    }
    return out;
  }
  return decodeStruct(shape, node, name);
}

function decodeStruct(shape: StructShape, node: Node, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [member, memberShape] of Object.entries(shape.members)) {
    const wire = wireName(member, memberShape);
    const child = node.children?.get(wire);
    if (child === undefined) continue;
    const v = decode(memberShape, child, prefix === '' ? wire : `${prefix}.${wire}`);
    if (v !== undefined) out[member] = v;
  }
  return out;
}

/** A Query request's parameters as the JSON protocol's input for `action`. Unknown parameters are ignored. */
export function queryToJson(action: string, params: ReadonlyMap<string, string>): Record<string, unknown> {
  const shape = ACTIONS[action];
  if (!shape) throw new SqsApiError(400, 'InvalidAction', `The action ${action.slice(0, 100)} is not valid for this web service.`);
  return decodeStruct(shape.input, toTree(params), '');
}

/** XML text escaping; `\r` as a character reference, or XML parsers would turn `\r\n` into `\n`. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"'\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : c === "'" ? '&apos;' : '&#xD;'));
}

function encode(shape: Shape, value: unknown, name: string, out: string[]): void {
  if (value === undefined || value === null) return;
  if (typeof shape === 'string') {
    out.push(`<${name}>${escapeXml(String(value))}</${name}>`);
    return;
  }
  if (shape.kind === 'list') {
    if (!Array.isArray(value)) return;
    for (const item of value) encode(shape.member, item, shape.xml, out);
    return;
  }
  if (shape.kind === 'map') {
    if (typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out.push(`<${shape.xml}><${shape.key}>${escapeXml(k)}</${shape.key}>`);
      encode(shape.valueShape, v, shape.value, out);
      out.push(`</${shape.xml}>`);
    }
    return;
  }
  out.push(`<${name}>`);
  encodeMembers(shape, value, out);
  out.push(`</${name}>`);
}

function encodeMembers(shape: StructShape, value: unknown, out: string[]): void {
  if (typeof value !== 'object' || value === null) return;
  const v = value as Record<string, unknown>;
  for (const [member, memberShape] of Object.entries(shape.members)) encode(memberShape, v[member], wireName(member, memberShape), out);
}

/** A JSON protocol answer to `action` as the Query protocol's XML. */
export function jsonToXml(action: string, result: unknown, requestId: string): string {
  const shape = ACTIONS[action];
  const out: string[] = [`<?xml version="1.0"?><${action}Response xmlns="${XMLNS}">`];
  if (shape?.output) {
    out.push(`<${action}Result>`);
    encodeMembers(shape.output, result, out);
    out.push(`</${action}Result>`);
  }
  out.push(`<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></${action}Response>`);
  return out.join('');
}

/** The Query protocol's error answer. */
export function errorXml(err: { fault: string; queryCode: string; message: string }, requestId: string): string {
  return (
    `<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}"><Error><Type>${err.fault}</Type><Code>${escapeXml(err.queryCode)}</Code>` +
    `<Message>${escapeXml(err.message)}</Message><Detail/></Error><RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`
  );
}
