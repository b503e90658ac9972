import {
  MAX_ATTRIBUTES,
  MAX_DELAY_SECONDS,
  SQS_MAX_MESSAGE_BYTES,
  invalidCharIndex,
  messageBytes,
  validateMessage,
  type MessageInput,
  type Validation,
} from '../../src/sqs/limits.js';
import type { QueueLimits } from '../../src/sqs/types.js';

const standard: QueueLimits = { fifo: false, maxMessageBytes: SQS_MAX_MESSAGE_BYTES, contentBasedDedup: false };
const fifo: QueueLimits = { fifo: true, maxMessageBytes: SQS_MAX_MESSAGE_BYTES, contentBasedDedup: false };
const small: QueueLimits = { fifo: false, maxMessageBytes: 1024, contentBasedDedup: false };

type Ok = Extract<Validation, { ok: true }>;
type Err = Extract<Validation, { ok: false }>;

function ok(input: MessageInput, queue: QueueLimits = standard, options?: { defaultGroupId?: string }): Ok {
  const r = validateMessage(input, queue, options);
  if (!r.ok) throw new Error(`expected ok, got ${r.code}: ${r.message}`);
  return r;
}

function err(input: MessageInput, queue: QueueLimits = standard, options?: { defaultGroupId?: string }): Err {
  const r = validateMessage(input, queue, options);
  if (r.ok) throw new Error(`expected a failure, got ok: ${JSON.stringify(r.message)}`);
  return r;
}

/** Shorthand: the attribute error for one attribute {name: value}. */
function attrErr(name: string, value: unknown): Err {
  return err({ body: 'b', attributes: { [name]: value } });
}

describe('exported constants', () => {
  it('match SQS limits', () => {
    expect(SQS_MAX_MESSAGE_BYTES).toBe(1_048_576);
    expect(MAX_ATTRIBUTES).toBe(10);
    expect(MAX_DELAY_SECONDS).toBe(900);
  });
});

describe('invalidCharIndex', () => {
  it('accepts plain ASCII, tab, newline and CR', () => {
    expect(invalidCharIndex('hello world')).toBe(-1);
    expect(invalidCharIndex('a\tb\nc\rd')).toBe(-1);
    expect(invalidCharIndex('')).toBe(-1);
  });

  it('accepts multi-byte and astral characters (emoji U+1F600)', () => {
    expect(invalidCharIndex('é€日本\u{1F600}')).toBe(-1);
    expect(invalidCharIndex('\u{10FFFF}')).toBe(-1);
    expect(invalidCharIndex('\uD7FF\uE000\uFFFD')).toBe(-1);
  });

  it('rejects other control characters at their index', () => {
    expect(invalidCharIndex('\u0000')).toBe(0);
    expect(invalidCharIndex('ab\u0001')).toBe(2);
    expect(invalidCharIndex('ab\u0008c')).toBe(2);
    expect(invalidCharIndex('x\u000B')).toBe(1);
    expect(invalidCharIndex('x\u000C')).toBe(1);
    expect(invalidCharIndex('x\u001F')).toBe(1);
  });

  it('accepts DEL and C1 controls, which the XML ranges allow', () => {
    expect(invalidCharIndex('\u007F\u0085')).toBe(-1);
  });

  it('rejects lone surrogates, high or low, anywhere', () => {
    expect(invalidCharIndex('\uD800')).toBe(0);
    expect(invalidCharIndex('a\uD83D')).toBe(1); // high surrogate at the very end
    expect(invalidCharIndex('a\uD83Db')).toBe(1); // high surrogate followed by a non-surrogate
    expect(invalidCharIndex('ab\uDE00')).toBe(2); // low surrogate alone
    expect(invalidCharIndex('\uDE00\uD83D')).toBe(0); // reversed pair
    expect(invalidCharIndex('\uD83D\uDE00\uDE00')).toBe(2); // valid pair then a stray low
  });

  it('rejects U+FFFE and U+FFFF', () => {
    expect(invalidCharIndex('ok\uFFFE')).toBe(2);
    expect(invalidCharIndex('\uFFFF')).toBe(0);
  });

  it('reports the first bad character', () => {
    expect(invalidCharIndex('a\u0002\u0003')).toBe(1);
  });
});

describe('messageBytes', () => {
  it('counts the body in UTF-8 bytes', () => {
    expect(messageBytes({ body: 'abc' })).toBe(3);
    expect(messageBytes({ body: 'é' })).toBe(2);
    expect(messageBytes({ body: '€' })).toBe(3);
    expect(messageBytes({ body: '\u{1F600}' })).toBe(4);
    expect(messageBytes({ body: 'a\u{1F600}é€' })).toBe(Buffer.byteLength('a\u{1F600}é€'));
  });

  it('adds name, DataType and value of each attribute; binary counted decoded', () => {
    expect(
      messageBytes({
        body: 'x', // 1
        attributes: {
          n: { DataType: 'String', StringValue: 'é' }, // 1 + 6 + 2
          b: { DataType: 'Binary', BinaryValue: 'AAECAw==' }, // 1 + 6 + 4
          c: { DataType: 'Binary.png', BinaryValue: 'AAE=' }, // 1 + 10 + 2
        },
      }),
    ).toBe(1 + 9 + 11 + 13);
  });

  it('ignores group id, dedup id and delay', () => {
    expect(messageBytes({ body: 'abc', groupId: 'g', dedupId: 'd', delaySeconds: 5 })).toBe(3);
  });
});

describe('body', () => {
  it('accepts a plain body and returns exactly the message', () => {
    const r = ok({ body: 'hello' });
    expect(r.message).toEqual({ body: 'hello' });
    expect(Object.keys(r.message)).toEqual(['body']);
    expect(r.bytes).toBe(5);
  });

  it('rejects a missing body with EmptyBody', () => {
    const e = err({});
    expect(e).toMatchObject({ status: 400, code: 'EmptyBody', field: 'body' });
    expect(err({ body: null }).code).toBe('EmptyBody');
  });

  it('rejects an empty body with EmptyBody', () => {
    const e = err({ body: '' });
    expect(e).toMatchObject({ status: 400, code: 'EmptyBody', field: 'body' });
    expect(e.message).toMatch(/body/);
  });

  it('rejects non-string bodies with BodyNotString', () => {
    for (const body of [42, true, { a: 1 }, ['x'], Buffer.from('x')]) {
      const e = err({ body });
      expect(e).toMatchObject({ status: 400, code: 'BodyNotString', field: 'body' });
      expect(e.message).toMatch(/^body is /);
    }
  });

  it('accepts whitespace-only and tab/newline/CR bodies', () => {
    expect(ok({ body: ' ' }).bytes).toBe(1);
    expect(ok({ body: '\t\n\r' }).message.body).toBe('\t\n\r');
  });

  it('accepts emoji and counts them as 4 bytes', () => {
    const r = ok({ body: 'hi \u{1F600}' });
    expect(r.bytes).toBe(3 + 4);
  });

  it('rejects a control character with its index and code point', () => {
    const e = err({ body: 'abc\u0001def' });
    expect(e).toMatchObject({ status: 400, code: 'InvalidCharacter', field: 'body' });
    expect(e.message).toContain('U+0001');
    expect(e.message).toContain('index 3');
  });

  it('reports a bad first character at index 0', () => {
    expect(err({ body: '\u0000abc' }).message).toMatch(/U\+0000 at index 0$/);
  });

  it('rejects a lone surrogate, naming it', () => {
    const e = err({ body: 'ab\uD83D' });
    expect(e.code).toBe('InvalidCharacter');
    expect(e.message).toContain('U+D83D');
    expect(e.message).toContain('index 2');
    expect(e.message).toMatch(/surrogate/);
  });

  it('rejects U+FFFE and U+FFFF', () => {
    expect(err({ body: '\uFFFE' }).message).toContain('U+FFFE');
    expect(err({ body: 'x\uFFFF' }).message).toContain('U+FFFF');
  });

  it('never echoes a large body into the error', () => {
    const body = 'a'.repeat(100_000) + '\u0000';
    const e = err({ body });
    expect(e.code).toBe('InvalidCharacter');
    expect(e.message.length).toBeLessThan(200);
  });
});

describe('size', () => {
  it('accepts exactly 1,048,576 bytes and rejects one more with 413', () => {
    const r = ok({ body: 'a'.repeat(SQS_MAX_MESSAGE_BYTES) });
    expect(r.bytes).toBe(SQS_MAX_MESSAGE_BYTES);
    const e = err({ body: 'a'.repeat(SQS_MAX_MESSAGE_BYTES + 1) });
    expect(e).toMatchObject({ status: 413, code: 'MessageTooLarge' });
    expect(e.message).toContain(String(SQS_MAX_MESSAGE_BYTES));
    expect(e.message.length).toBeLessThan(200);
  });

  it('honours a smaller queue limit: 1024 passes, 1025 fails, naming both numbers', () => {
    expect(ok({ body: 'a'.repeat(1024) }, small).bytes).toBe(1024);
    const e = err({ body: 'a'.repeat(1025) }, small);
    expect(e).toMatchObject({ status: 413, code: 'MessageTooLarge' });
    expect(e.message).toContain('1025');
    expect(e.message).toContain('1024');
  });

  it('never goes above the SQS ceiling even if the queue says so', () => {
    const e = err({ body: 'a'.repeat(SQS_MAX_MESSAGE_BYTES + 1) }, { ...standard, maxMessageBytes: 2 * SQS_MAX_MESSAGE_BYTES });
    expect(e.status).toBe(413);
  });

  it('counts multi-byte characters in bytes, not characters', () => {
    // 512 × "é" = 512 characters, 1024 bytes: fits exactly.
    expect(ok({ body: 'é'.repeat(512) }, small).bytes).toBe(1024);
    // 342 × "€" = 342 characters, 1026 bytes: too large although far below 1024 characters.
    const e = err({ body: '€'.repeat(342) }, small);
    expect(e).toMatchObject({ status: 413, code: 'MessageTooLarge' });
    expect(e.message).toContain('1026');
    // 256 emoji = 512 UTF-16 units, 1024 bytes: fits; one more char does not.
    expect(ok({ body: '\u{1F600}'.repeat(256) }, small).bytes).toBe(1024);
    expect(err({ body: '\u{1F600}'.repeat(256) + 'a' }, small).code).toBe('MessageTooLarge');
  });

  it('counts attributes: an attribute that pushes the message over the limit is rejected', () => {
    // name "k" (1) + "String" (6) + value (10) = 17 bytes of attributes.
    const attributes = { k: { DataType: 'String', StringValue: '0123456789' } };
    const fits = ok({ body: 'a'.repeat(1024 - 17), attributes }, small);
    expect(fits.bytes).toBe(1024);
    const e = err({ body: 'a'.repeat(1024 - 16), attributes }, small);
    expect(e).toMatchObject({ status: 413, code: 'MessageTooLarge', field: 'attributes' });
    expect(e.message).toContain('1025');
    expect(e.message).toContain('1024');
    expect(e.message).toMatch(/attributes 17/);
  });

  it('counts binary attributes by decoded size', () => {
    // "AAAA" decodes to 3 bytes: name (1) + "Binary" (6) + 3 = 10.
    const attributes = { b: { DataType: 'Binary', BinaryValue: 'AAAA' } };
    expect(ok({ body: 'a'.repeat(1014), attributes }, small).bytes).toBe(1024);
    expect(err({ body: 'a'.repeat(1015), attributes }, small).status).toBe(413);
  });

  it('bytes in the result equal messageBytes of the message', () => {
    const r = ok({ body: 'héllo \u{1F600}', attributes: { a: 'x', n: 12.5, b: { type: 'Binary', value: 'AQID' } } });
    expect(r.bytes).toBe(messageBytes(r.message));
  });
});

describe('attributes: shape and normalization', () => {
  it('normalizes shorthand strings and numbers to the wire shape', () => {
    const r = ok({ body: 'b', attributes: { s: 'text', n: 42, f: -1.5 } });
    expect(r.message.attributes).toEqual({
      s: { DataType: 'String', StringValue: 'text' },
      n: { DataType: 'Number', StringValue: '42' },
      f: { DataType: 'Number', StringValue: '-1.5' },
    });
  });

  it('accepts the wire shape, lowerCamel keys and type/value', () => {
    const r = ok({
      body: 'b',
      attributes: {
        a: { DataType: 'String', StringValue: 'A' },
        b: { dataType: 'Number', stringValue: '7' },
        c: { type: 'String.json', value: '{}' },
        d: { DataType: 'Binary', BinaryValue: 'AQID' },
        e: { dataType: 'Binary', binaryValue: 'AQID' },
        f: { type: 'Binary', value: 'AQID' },
        g: { type: 'Number', value: 3 },
      },
    });
    expect(r.message.attributes).toEqual({
      a: { DataType: 'String', StringValue: 'A' },
      b: { DataType: 'Number', StringValue: '7' },
      c: { DataType: 'String.json', StringValue: '{}' },
      d: { DataType: 'Binary', BinaryValue: 'AQID' },
      e: { DataType: 'Binary', BinaryValue: 'AQID' },
      f: { DataType: 'Binary', BinaryValue: 'AQID' },
      g: { DataType: 'Number', StringValue: '3' },
    });
  });

  it('outputs only DataType and one value key', () => {
    const r = ok({ body: 'b', attributes: { a: { type: 'String', value: 'v', extra: 1 } } });
    expect(Object.keys(r.message.attributes!['a']!)).toEqual(['DataType', 'StringValue']);
  });

  it('accepts a Buffer as a binary value and encodes it as base64', () => {
    const r = ok({ body: 'b', attributes: { raw: Buffer.from([1, 2, 3]), obj: { type: 'Binary', value: new Uint8Array([255]) } } });
    expect(r.message.attributes).toEqual({
      raw: { DataType: 'Binary', BinaryValue: 'AQID' },
      obj: { DataType: 'Binary', BinaryValue: '/w==' },
    });
  });

  it('treats absent, null and empty attributes as none', () => {
    expect('attributes' in ok({ body: 'b' }).message).toBe(false);
    expect('attributes' in ok({ body: 'b', attributes: null }).message).toBe(false);
    expect('attributes' in ok({ body: 'b', attributes: {} }).message).toBe(false);
  });

  it('rejects attributes that are not an object', () => {
    for (const attributes of ['a=b', 5, ['x'], new Map([['a', 'b']]), Buffer.from('ab')]) {
      const e = err({ body: 'b', attributes });
      expect(e).toMatchObject({ status: 400, code: 'AttributesNotObject', field: 'attributes' });
    }
  });

  it('keeps a "__proto__" attribute as an own property, not a prototype', () => {
    const attributes = JSON.parse('{"__proto__": "x"}') as unknown;
    const r = ok({ body: 'b', attributes });
    const attrs = r.message.attributes!;
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(Object.keys(attrs)).toEqual(['__proto__']);
    expect(JSON.stringify(attrs)).toBe('{"__proto__":{"DataType":"String","StringValue":"x"}}');
  });

  it('accepts 10 attributes and rejects 11 with TooManyAttributes', () => {
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, 'v']));
    expect(Object.keys(ok({ body: 'b', attributes: ten }).message.attributes!)).toHaveLength(10);
    const e = err({ body: 'b', attributes: { ...ten, a10: 'v' } });
    expect(e).toMatchObject({ status: 400, code: 'TooManyAttributes', field: 'attributes' });
    expect(e.message).toContain('11');
    expect(e.message).toContain('10');
  });

  it('rejects values of the wrong type', () => {
    for (const v of [true, null, ['x'], Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(attrErr('a', v)).toMatchObject({ status: 400, code: 'InvalidAttributeValue', field: 'attributes.a' });
    }
  });
});

describe('attributes: names', () => {
  it('accepts letters, digits, "_", "-" and inner "."', () => {
    expect(ok({ body: 'b', attributes: { 'Ab_9-x.y.z': 'v' } }).message.attributes).toHaveProperty(['Ab_9-x.y.z']);
  });

  it('accepts 256 characters, rejects 257', () => {
    expect(ok({ body: 'b', attributes: { ['n'.repeat(256)]: 'v' } }).ok).toBe(true);
    const e = attrErr('n'.repeat(257), 'v');
    expect(e.code).toBe('InvalidAttributeName');
    expect(e.message).toContain('257');
    expect(e.message.length).toBeLessThan(250);
  });

  it.each([
    ['', /empty/],
    ['has space', /U\+0020/],
    ['naïve', /U\+00EF/],
    ['a/b', /"\/"/],
    ['.lead', /starts with "\."/],
    ['trail.', /ends with "\."/],
    ['a..b', /"\.\."/],
    ['AWS.x', /reserved/],
    ['aws.x', /reserved/],
    ['Amazon.x', /reserved/],
    ['AMAZON.x', /reserved/],
    ['aMaZoN.foo', /reserved/],
  ])('rejects %j', (name, why) => {
    const e = attrErr(name, 'v');
    expect(e).toMatchObject({ status: 400, code: 'InvalidAttributeName' });
    expect(e.message).toMatch(why);
    expect(e.message).toContain('attribute name');
  });

  it('allows names that merely contain AWS or Amazon', () => {
    expect(ok({ body: 'b', attributes: { AWSx: 'v', 'my.AWS.x': 'v', Amazonian: 'v', AWS: 'v' } }).ok).toBe(true);
  });
});

describe('attributes: DataType', () => {
  it('accepts String, Number and Binary with custom labels', () => {
    const r = ok({
      body: 'b',
      attributes: {
        a: { DataType: 'String.my-type_1', StringValue: 'x' },
        b: { DataType: 'Number.int', StringValue: '1' },
        c: { DataType: 'Binary.gz.v2', BinaryValue: 'AA==' },
      },
    });
    expect(r.message.attributes!['c']).toEqual({ DataType: 'Binary.gz.v2', BinaryValue: 'AA==' });
  });

  it('names the attribute and the bad type', () => {
    const e = err({ body: 'b', attributes: { 'x.y': { DataType: 'Strin', StringValue: 'v' } } });
    expect(e).toMatchObject({ status: 400, code: 'InvalidAttributeType', field: 'attributes.x.y' });
    expect(e.message).toBe(
      'attribute "x.y" has DataType "Strin"; expected String, Number or Binary, optionally with a ".custom" suffix',
    );
  });

  it.each([
    ['string'], // case-sensitive
    ['Str'],
    ['String.'], // empty label
    ['String.a b'],
    ['String.ü'],
    ['Integer'],
    [''],
  ])('rejects DataType %j', (type) => {
    expect(attrErr('a', { DataType: type, StringValue: 'v' }).code).toBe('InvalidAttributeType');
  });

  it('accepts a 256-character DataType, rejects 257', () => {
    const t256 = 'String.' + 'x'.repeat(256 - 7);
    expect(ok({ body: 'b', attributes: { a: { DataType: t256, StringValue: 'v' } } }).ok).toBe(true);
    expect(attrErr('a', { DataType: t256 + 'x', StringValue: 'v' }).code).toBe('InvalidAttributeType');
  });

  it('rejects a missing or non-string DataType', () => {
    expect(attrErr('a', { StringValue: 'v' }).message).toMatch(/no DataType/);
    expect(attrErr('a', { DataType: 5, StringValue: 'v' }).code).toBe('InvalidAttributeType');
  });
});

describe('attributes: String values', () => {
  it('rejects a missing, empty or non-string StringValue', () => {
    expect(attrErr('a', { DataType: 'String' })).toMatchObject({ code: 'InvalidAttributeValue' });
    expect(attrErr('a', { DataType: 'String' }).message).toMatch(/no StringValue/);
    expect(attrErr('a', '').message).toMatch(/empty StringValue/);
    expect(attrErr('a', { DataType: 'String', StringValue: '' }).code).toBe('InvalidAttributeValue');
    expect(attrErr('a', { DataType: 'String', StringValue: 5 }).code).toBe('InvalidAttributeValue');
  });

  it('rejects invalid characters in a StringValue', () => {
    const e = attrErr('a', 'ok\u0007');
    expect(e).toMatchObject({ code: 'InvalidCharacter', field: 'attributes.a' });
    expect(e.message).toContain('U+0007');
    expect(e.message).toContain('index 2');
    expect(attrErr('a', '\uDC00').code).toBe('InvalidCharacter');
  });

  it('accepts tab, newline and emoji in a StringValue', () => {
    expect(ok({ body: 'b', attributes: { a: 'x\ty\n\u{1F600}' } }).ok).toBe(true);
  });

  it('rejects a BinaryValue on a String attribute and a StringValue on a Binary one', () => {
    expect(attrErr('a', { DataType: 'String', StringValue: 'x', BinaryValue: 'AA==' }).message).toMatch(/BinaryValue/);
    expect(attrErr('a', { DataType: 'Binary', StringValue: 'x', BinaryValue: 'AA==' }).message).toMatch(/StringValue/);
  });
});

describe('attributes: Number values', () => {
  it.each([
    '0',
    '-0',
    '42',
    '+42',
    '-1.5e3',
    '1E-5',
    '1e+10',
    '3.',
    '.5',
    '0.000',
    '00012',
    '1' + '0'.repeat(100), // one significant digit, magnitude 10^100
    '1'.repeat(38),
    '0.' + '1'.repeat(38),
    '1'.repeat(19) + '.' + '1'.repeat(19),
    '9.9999999999999999999999999999999999999e125',
    '1e-128',
    '-1e-128',
    '0e99999', // zero, whatever its exponent
  ])('accepts %j', (value) => {
    const r = ok({ body: 'b', attributes: { n: { DataType: 'Number', StringValue: value } } });
    expect(r.message.attributes!['n']).toEqual({ DataType: 'Number', StringValue: value });
  });

  it.each([
    ['abc', /not a decimal number/],
    ['', /empty/],
    [' 1', /not a decimal number/],
    ['1 ', /not a decimal number/],
    ['1,5', /not a decimal number/],
    ['1.2.3', /not a decimal number/],
    ['0x10', /not a decimal number/],
    ['NaN', /not a decimal number/],
    ['Infinity', /not a decimal number/],
    ['-', /not a decimal number/],
    ['.', /not a decimal number/],
    ['1e', /exponent/],
    ['1e+', /exponent/],
    ['e5', /not a decimal number/],
    ['--1', /not a decimal number/],
    ['1'.repeat(39), /39 significant digits/],
    ['1.' + '1'.repeat(38), /39 significant digits/],
    ['1e126', /too large/],
    ['10' + '0'.repeat(125), /too large/],
    ['1e-129', /too small/],
    ['0.' + '0'.repeat(128) + '1', /too small/],
    ['1e99999999999999999999', /too large/],
  ])('rejects %j', (value, why) => {
    const e = attrErr('n', { DataType: 'Number', StringValue: value });
    expect(e).toMatchObject({ status: 400, code: 'InvalidAttributeValue', field: 'attributes.n' });
    expect(e.message).toMatch(why);
  });

  it('applies to custom Number types and shorthand numbers', () => {
    expect(attrErr('n', { DataType: 'Number.float', StringValue: '1.2.3' }).code).toBe('InvalidAttributeValue');
    expect(ok({ body: 'b', attributes: { n: 1e21 } }).message.attributes!['n']).toEqual({ DataType: 'Number', StringValue: '1e+21' });
  });

  it('rejects a shorthand number below SQS range', () => {
    expect(attrErr('n', 5e-324).message).toMatch(/too small/);
  });
});

describe('attributes: Binary values', () => {
  it.each(['AA==', 'AAA=', 'AAAA', 'aGVsbG8gd29ybGQ=', '+/+/', 'AQIDBAUGBwgJ'])('accepts %j', (value) => {
    const r = ok({ body: 'b', attributes: { b: { DataType: 'Binary', BinaryValue: value } } });
    expect(r.message.attributes!['b']).toEqual({ DataType: 'Binary', BinaryValue: value });
  });

  it.each([
    ['AA', /multiple of 4/],
    ['AAAAA', /multiple of 4/],
    ['AA=A', /"="/],
    ['A===', /"="/],
    ['====', /"="/],
    ['-_-_', /"-"/], // URL-safe alphabet is not accepted
    ['AA A', /U\+0020/],
    ['AA\nA', /U\+000A/],
    ['not base64!', /multiple of 4|"!"/],
  ])('rejects %j', (value, why) => {
    const e = attrErr('b', { DataType: 'Binary', BinaryValue: value });
    expect(e).toMatchObject({ status: 400, code: 'InvalidAttributeValue', field: 'attributes.b' });
    expect(e.message).toMatch(/base64/);
    expect(e.message).toMatch(why);
  });

  it('rejects a missing, empty or non-string BinaryValue', () => {
    expect(attrErr('b', { DataType: 'Binary' }).message).toMatch(/no BinaryValue/);
    expect(attrErr('b', { DataType: 'Binary', BinaryValue: '' }).message).toMatch(/empty BinaryValue/);
    expect(attrErr('b', { DataType: 'Binary', BinaryValue: 5 }).code).toBe('InvalidAttributeValue');
    expect(attrErr('b', Buffer.alloc(0)).message).toMatch(/empty BinaryValue/);
  });

  it('caps a long bad value in the message', () => {
    const e = attrErr('b', { DataType: 'Binary', BinaryValue: '!'.repeat(10_000) });
    expect(e.message.length).toBeLessThan(250);
    expect(e.message).toContain('10000 characters');
  });
});

describe('delaySeconds', () => {
  it('accepts integers 0..900 as numbers and numeric strings', () => {
    expect(ok({ body: 'b', delaySeconds: 0 }).message.delaySeconds).toBe(0);
    expect(ok({ body: 'b', delaySeconds: 900 }).message.delaySeconds).toBe(900);
    expect(ok({ body: 'b', delaySeconds: '5' }).message.delaySeconds).toBe(5);
    expect(ok({ body: 'b', delaySeconds: '0900' }).message.delaySeconds).toBe(900);
  });

  it('omits the field when absent, null or ""', () => {
    for (const delaySeconds of [undefined, null, '']) {
      expect('delaySeconds' in ok({ body: 'b', delaySeconds }).message).toBe(false);
    }
  });

  it.each([901, -1, 1.5, Number.NaN, '901', '-1', '1.5', ' 5', '5s', '1e2', '00001', true, {}])('rejects %p', (delaySeconds) => {
    const e = err({ body: 'b', delaySeconds });
    expect(e).toMatchObject({ status: 400, code: 'InvalidDelay', field: 'delaySeconds' });
    expect(e.message).toMatch(/delaySeconds/);
    expect(e.message).toContain('900');
  });

  it('rejects a non-zero delay on a FIFO queue, pointing at the queue-level DelaySeconds', () => {
    const e = err({ body: 'b', groupId: 'g', delaySeconds: 5 }, fifo);
    expect(e).toMatchObject({ status: 400, code: 'DelayNotAllowedOnFifo', field: 'delaySeconds' });
    expect(e.message).toMatch(/FIFO/);
    expect(e.message).toMatch(/queue's DelaySeconds/);
    expect(err({ body: 'b', groupId: 'g', delaySeconds: '1' }, fifo).code).toBe('DelayNotAllowedOnFifo');
  });

  it('drops a zero delay on a FIFO queue (a no-op there) instead of rejecting it', () => {
    const r = ok({ body: 'b', groupId: 'g', delaySeconds: 0 }, fifo);
    expect('delaySeconds' in r.message).toBe(false);
    expect(ok({ body: 'b', groupId: 'g', delaySeconds: '0' }, fifo).message).toEqual({ body: 'b', groupId: 'g' });
  });

  it('still reports an out-of-range delay on FIFO as InvalidDelay', () => {
    expect(err({ body: 'b', groupId: 'g', delaySeconds: 1000 }, fifo).code).toBe('InvalidDelay');
  });
});

describe('groupId', () => {
  it('is required on FIFO queues', () => {
    const e = err({ body: 'b' }, fifo);
    expect(e).toMatchObject({ status: 400, code: 'MissingGroupId', field: 'groupId' });
    expect(e.message).toMatch(/FIFO/);
    expect(err({ body: 'b', groupId: '' }, fifo).code).toBe('MissingGroupId');
  });

  it('falls back to defaultGroupId on FIFO queues', () => {
    expect(ok({ body: 'b' }, fifo, { defaultGroupId: 'default' }).message.groupId).toBe('default');
    expect(ok({ body: 'b', groupId: '' }, fifo, { defaultGroupId: 'default' }).message.groupId).toBe('default');
    expect(ok({ body: 'b', groupId: 'mine' }, fifo, { defaultGroupId: 'default' }).message.groupId).toBe('mine');
    expect(err({ body: 'b' }, fifo, { defaultGroupId: '' }).code).toBe('MissingGroupId');
  });

  it('validates the default group id too', () => {
    const e = err({ body: 'b' }, fifo, { defaultGroupId: 'has space' });
    expect(e).toMatchObject({ code: 'InvalidGroupId', field: 'groupId' });
    expect(e.message).toMatch(/default/);
  });

  it('does not apply defaultGroupId to standard queues', () => {
    expect('groupId' in ok({ body: 'b' }, standard, { defaultGroupId: 'default' }).message).toBe(false);
  });

  it('is allowed on standard queues (fair queues)', () => {
    expect(ok({ body: 'b', groupId: 'tenant-1' }).message).toEqual({ body: 'b', groupId: 'tenant-1' });
  });

  it('accepts every alphanumeric and punctuation character, up to 128', () => {
    const all = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ABCXYZabcxyz0189';
    expect(ok({ body: 'b', groupId: all }, fifo).message.groupId).toBe(all);
    expect(ok({ body: 'b', groupId: 'g'.repeat(128) }, fifo).message.groupId).toHaveLength(128);
  });

  it.each([
    ['g'.repeat(129), /129/],
    ['a b', /space/],
    ['é', /U\+00E9/],
    ['a\tb', /U\+0009/],
    ['\u{1F600}', /U\+D83D/],
  ])('rejects %j', (groupId, why) => {
    for (const queue of [fifo, standard]) {
      const e = err({ body: 'b', groupId }, queue);
      expect(e).toMatchObject({ status: 400, code: 'InvalidGroupId', field: 'groupId' });
      expect(e.message).toMatch(why);
    }
  });

  it('rejects a non-string groupId', () => {
    expect(err({ body: 'b', groupId: 5 }, fifo).code).toBe('InvalidGroupId');
  });
});

describe('deduplicationId', () => {
  it('is passed through on FIFO queues as dedupId', () => {
    const r = ok({ body: 'b', groupId: 'g', deduplicationId: 'd-1' }, fifo);
    expect(r.message).toEqual({ body: 'b', groupId: 'g', dedupId: 'd-1' });
  });

  it('is not generated when absent (delivery does that)', () => {
    expect('dedupId' in ok({ body: 'b', groupId: 'g' }, fifo).message).toBe(false);
    expect('dedupId' in ok({ body: 'b', groupId: 'g' }, { ...fifo, contentBasedDedup: true }).message).toBe(false);
  });

  it('is rejected on standard queues', () => {
    const e = err({ body: 'b', deduplicationId: 'd' });
    expect(e).toMatchObject({ status: 400, code: 'DeduplicationIdOnStandardQueue', field: 'deduplicationId' });
    expect(e.message).toMatch(/FIFO/);
    expect('dedupId' in ok({ body: 'b', deduplicationId: '' }).message).toBe(false);
  });

  it.each([['d'.repeat(129)], ['a b'], ['ü'], [7]])('rejects %p', (deduplicationId) => {
    const e = err({ body: 'b', groupId: 'g', deduplicationId }, fifo);
    expect(e).toMatchObject({ status: 400, code: 'InvalidDeduplicationId', field: 'deduplicationId' });
  });

  it('accepts 128 characters of punctuation', () => {
    const id = '!~'.repeat(64);
    expect(ok({ body: 'b', groupId: 'g', deduplicationId: id }, fifo).message.dedupId).toBe(id);
  });
});

describe('full message', () => {
  it('validates and normalizes everything together', () => {
    const r = ok(
      {
        body: '{"order": 1}',
        attributes: { kind: 'order', qty: 3, blob: { type: 'Binary', value: 'AQID' } },
        groupId: 'customer-9',
        deduplicationId: 'order-1',
      },
      fifo,
    );
    expect(r.message).toEqual({
      body: '{"order": 1}',
      attributes: {
        kind: { DataType: 'String', StringValue: 'order' },
        qty: { DataType: 'Number', StringValue: '3' },
        blob: { DataType: 'Binary', BinaryValue: 'AQID' },
      },
      groupId: 'customer-9',
      dedupId: 'order-1',
    });
    expect(r.bytes).toBe(12 + (4 + 6 + 5) + (3 + 6 + 1) + (4 + 6 + 3));
  });

  it('every failure has status 400 or 413, a code, a message and a field', () => {
    const failures = [
      err({ body: '' }),
      err({ body: 'a'.repeat(2000) }, small),
      attrErr('a..b', 'x'),
      err({ body: 'b', delaySeconds: 'x' }),
      err({ body: 'b' }, fifo),
    ];
    for (const f of failures) {
      expect([400, 413]).toContain(f.status);
      expect(f.code).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(f.message.length).toBeGreaterThan(10);
      expect(typeof f.field).toBe('string');
    }
  });
});
