import { lineChart, niceMax } from '../../src/http/ui/chart.js';

describe('lineChart (server-rendered SVG)', () => {
  const now = 1_000_000;
  it('draws one polyline per series with 2+ points inside the window, with the latest values in the legend', () => {
    const out = lineChart({
      title: 'Messages per second',
      now,
      windowMs: 60_000,
      unit: 'rate',
      series: [
        { label: 'accepted', points: [[now - 120_000, 9], [now - 20_000, 2], [now - 10_000, 4], [now, 3]] },
        { label: 'failed', points: [[now, 1]] },
      ],
    }).value;
    expect(out.match(/<polyline /g)).toHaveLength(1);
    expect(/<polyline class="s1" points="([^"]+)"/.exec(out)?.[1]?.split(' ')).toHaveLength(3); // the point outside the window is left out
    expect(out).toContain('<span class="k1">accepted <strong>3.0/s</strong></span>');
    expect(out).toContain('aria-label="Messages per second: accepted 3.0/s, failed 1.0/s"');
    expect(out).not.toContain('style=');
  });
  it('says it is collecting while there is not enough data, and escapes every label', () => {
    const out = lineChart({ title: '<b>t</b>', now, windowMs: 60_000, unit: 'count', series: [{ label: '"x"<y>', points: [] }] }).value;
    expect(out).toContain('collecting samples…');
    expect(out).not.toMatch(/<b>|<y>/);
    expect(out).toContain('&lt;b&gt;t&lt;/b&gt;');
  });
  it('rounds the axis top up', () => {
    expect([niceMax(0), niceMax(0.7), niceMax(13), niceMax(260), niceMax(1000)]).toEqual([1, 0.75, 15, 300, 1000]);
  });
});
