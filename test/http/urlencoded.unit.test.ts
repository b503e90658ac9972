/** parseUrlencoded against Node's own `new URLSearchParams(text)`: the same fields, in the same order, for every input. */
import { parseUrlencoded } from '../../src/http/urlencoded.js';

const viaNode = (text: string): string[] => [...new URLSearchParams(text)].flat();
const viaOurs = (text: string): string[] => [...parseUrlencoded(text).pairs];

function same(text: string): void {
  const want = viaNode(text);
  const got = viaOurs(text);
  if (got.length !== want.length || got.some((v, i) => v !== want[i])) {
    throw new Error(`differs for ${JSON.stringify(text)}: got ${JSON.stringify(got)}, URLSearchParams ${JSON.stringify(want)}`);
  }
}

const CASES = [
  '',
  '?',
  '??a=b',
  '?a=b',
  'a',
  'a=',
  '=a',
  '=',
  '==',
  'a==b',
  'a=b=c',
  '&',
  '&&',
  'a&',
  '&a',
  'a&&b',
  'a=1&a=2&a=3',
  'message_body=hello',
  'message_body=hello+world',
  'message_body=+',
  '+=+',
  'a+b=c+d',
  'message_body=h%C3%A9llo',
  'message_body=%e2%82%ac',
  'message_body=%F0%9F%98%80',
  'message_body=%',
  'message_body=%2',
  'message_body=%zz',
  'message_body=%%41',
  'message_body=%4',
  'message_body=50%25',
  'message_body=%C3',
  'message_body=%C3%28',
  'message_body=%FF%FE',
  'message_body=%ED%A0%80',
  'message_body=%2+0',
  'message_body=%+20',
  'message_body=%2%30',
  'message_body=é%zz',
  'message_body=é%41',
  'message_body=€%41',
  'message_body=😀%zz%41',
  'message_body=%26&x=%3D',
  'k%3Dx=v%26y',
  'message_body=a%2Bb+c',
  'message_body=héllo wörld',
  'message_body=😀',
  'message_body=\ud800',
  'message_body=a\udc00b&\ud83d=1',
  'message_body=\ufeffbom',
  '%EF%BB%BFa=b',
  'message_body=x&attr.kind=created&attr_name=a&attr_value=b&attr_type=Number',
  'message_body=line1%0Aline2%0D%0A',
  'message_body=%00',
  'a=%41%42%43&b=%61%62%63',
  'a=%4g%41',
  'a=%%%%',
  'a=%4%41',
];

it('matches URLSearchParams on hand-picked inputs: +, %XX, malformed %, unicode, empty, repeated keys', () => {
  for (const text of CASES) same(text);
});

it('matches URLSearchParams on 20,000 random inputs built from the characters that matter', () => {
  // A seeded generator: the same inputs every run.
  let seed = 14;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const atoms = ['&', '=', '+', '%', '%4', '%41', '%2B', '%26', '%3D', '%C3%A9', '%C3', '%E2%82', '%F0%9F%98%80', '%FF', '%zz', '%g1', '?', 'a', 'b', 'Z', '0', '9', 'f', 'é', '€', '😀', '\ud800', '\udfff', ' ', '\n', '\u0000', 'message_body', 'attr.x'];
  for (let k = 0; k < 20_000; k++) {
    let text = '';
    const len = rand(12);
    for (let j = 0; j < len; j++) text += atoms[rand(atoms.length)];
    same(text);
  }
});

it('matches on a large body and on every single code unit of the BMP', () => {
  same(`message_body=${'x'.repeat(300_000)}&message_body=${'%41+'.repeat(50_000)}`);
  for (let c = 0; c < 0x10000; c += 1) same(`a${String.fromCharCode(c)}=${String.fromCharCode(c)}%41`);
});

it('gives the fields in order with getAll, get and iteration as URLSearchParams does', () => {
  const text = 'a=1&b=2&a=3&c&a=';
  const ours = parseUrlencoded(text);
  const node = new URLSearchParams(text);
  expect(ours.getAll('a')).toEqual(node.getAll('a'));
  expect(ours.getAll('zz')).toEqual([]);
  expect(ours.get('b')).toBe(node.get('b'));
  expect(ours.get('c')).toBe('');
  expect(ours.get('zz')).toBeNull();
  expect([...ours]).toEqual([...node]);
  expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(node));
});

it('reads a plain form (no % or +) as its name and value', () => {
  const body = 'y'.repeat(200);
  const form = parseUrlencoded(`message_body=${body}`);
  expect(form.pairs).toEqual(['message_body', body]);
});

it('gives each form only its own fields, after a longer or a much larger one', () => {
  const many = Array.from({ length: 1000 }, (_, i) => `f${i}=${i}`).join('&');
  same(many);
  same('message_body=after');
  same('a=1&b=2&c=3&d=4');
  same('x');
  expect(parseUrlencoded('only=one').pairs).toEqual(['only', 'one']);
});
