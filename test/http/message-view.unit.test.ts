import { BODY_PREVIEW_CHARS, BODY_PREVIEW_LINES, bodyBlock, prettyBody } from '../../src/http/ui/message-view.js';

describe('message bodies on pages', () => {
  it('pretty-prints JSON and leaves everything else as sent', () => {
    expect(prettyBody('{"a":[1,{"b":"<x>"}]}')).toEqual({ text: '{\n  "a": [\n    1,\n    {\n      "b": "<x>"\n    }\n  ]\n}', json: true });
    expect(prettyBody('{not json')).toEqual({ text: '{not json', json: false });
    expect(prettyBody('42')).toEqual({ text: '42', json: false }); // only objects and arrays count as JSON documents here
  });
  it('escapes every body, short or cut', () => {
    expect(bodyBlock('</pre><script>x</script>').value).toContain('<pre class="body">&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;</pre>');
    const long = `${'<b>'.repeat(BODY_PREVIEW_CHARS)}`;
    const out = bodyBlock(long).value;
    expect(out).not.toContain('<b>');
    expect(out).toContain('<details><summary>Show all');
  });
  it('cuts at the character limit or the line limit, whichever comes first, and keeps the whole text behind Show all', () => {
    const lines = Array.from({ length: BODY_PREVIEW_LINES + 10 }, (_, i) => `line ${i}`).join('\n');
    const out = bodyBlock(lines).value;
    const preview = /<pre class="body">([^<]*)…<\/pre>/.exec(out)?.[1] ?? '';
    expect(preview.split('\n')).toHaveLength(BODY_PREVIEW_LINES);
    expect(out).toContain(`line ${BODY_PREVIEW_LINES + 9}</pre></details>`);
    expect(bodyBlock('short').value).not.toContain('<details>');
  });
});
