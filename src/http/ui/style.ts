import { createHash } from 'node:crypto';

/**
 * The whole stylesheet, served from GET /ui/style.css (the CSP allows styles from 'self' only,
 * no inline styles). No framework; readable without it too.
 */
export const STYLESHEET = `
:root {
  color-scheme: light dark;
  --fg: #1d2430; --muted: #5c6778; --line: #d9dee7; --bg: #f6f7f9; --card: #fff; --th: #eef1f5;
  --input-bg: #fff; --input-line: #b8c1cf; --hover: #eef4fd;
  --accent: #1f5fbf; --accent-dark: #174a96; --danger: #b42318; --danger-dark: #8f1c13; --danger-bg: #fef3f2; --danger-line: #fecdca;
  --ok: #067647; --ok-bg: #ecfdf3; --ok-line: #abefc6; --warn-bg: #fffaeb; --warn: #93370d; --warn-line: #fedf89;
  --badge-bg: #e8eefb; --badge-fg: #174a96; --fifo-bg: #f0e9fd; --fifo-fg: #5925a8;
  --band: #16202e; --band-fg: #e8edf5; --band-link: #c3cddd; --band-muted: #9fb0c8;
  --c1: #1f5fbf; --c2: #067647; --c3: #b54708; --c4: #b42318; --c5: #6941c6; --grid-line: #e4e8ee;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e4e8ef; --muted: #9aa5b5; --line: #2e3846; --bg: #0f141b; --card: #171e28; --th: #1e2733;
    --input-bg: #0f141b; --input-line: #465366; --hover: #1d2b40;
    --accent: #7aa7f0; --accent-dark: #a5c4f5; --danger: #f97066; --danger-dark: #fda29b; --danger-bg: #2a1715; --danger-line: #7a271a;
    --ok: #75e0a7; --ok-bg: #0f2a1d; --ok-line: #085d3a; --warn-bg: #2a2110; --warn: #fec84b; --warn-line: #7a4b0a;
    --badge-bg: #1d2b40; --badge-fg: #a5c4f5; --fifo-bg: #2b2140; --fifo-fg: #c8b5f5;
    --band: #0a0e14; --band-fg: #e8edf5; --band-link: #b3bfd1; --band-muted: #8d9bb0;
    --c1: #7aa7f0; --c2: #75e0a7; --c3: #fdb022; --c4: #f97066; --c5: #b692f6; --grid-line: #263040;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body { margin: 0; color: var(--fg); background: var(--bg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.lead, .flash, .card, p { overflow-wrap: anywhere; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, .mono { font-family: var(--mono); font-size: 0.92em; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem 0.8rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: 0.3rem 0; }

header.top { background: var(--band); color: var(--band-fg); }
header.top .bar { max-width: 1100px; margin: 0 auto; padding: 0.6rem 1.2rem; display: flex; gap: 0.4rem 1.4rem; align-items: center; flex-wrap: wrap; }
header.top .brand { font-weight: 700; color: #fff; letter-spacing: 0.01em; }
header.top nav { display: flex; gap: 0.3rem 1rem; flex-wrap: wrap; }
header.top nav a { color: var(--band-link); padding: 0.15rem 0; border-bottom: 2px solid transparent; }
header.top nav a.active, header.top nav a:hover { color: #fff; border-bottom-color: #6ea1f0; text-decoration: none; }
header.top .who { margin-left: auto; color: var(--band-muted); font-size: 0.88em; }

main { max-width: 1100px; margin: 0 auto; padding: 1.2rem; }
h1 { font-size: 1.6rem; margin: 0.4rem 0 1rem; word-break: break-all; }
h2 { font-size: 1.15rem; margin: 1.6rem 0 0.6rem; }
.lead { color: var(--muted); margin-top: -0.6rem; }
.badge { display: inline-block; font-size: 0.75rem; font-weight: 600; padding: 0.05rem 0.45rem; border-radius: 999px; background: var(--badge-bg); color: var(--badge-fg); vertical-align: middle; }
.badge.fifo { background: var(--fifo-bg); color: var(--fifo-fg); }
.muted { color: var(--muted); }

.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(220px, 100%), 1fr)); gap: 1rem; }
.grid.narrow { grid-template-columns: repeat(auto-fit, minmax(min(160px, 100%), 1fr)); }
.stat { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 0.8rem 1rem; min-width: 0; }
.stat .value { font-size: 1.5rem; font-weight: 650; overflow-wrap: anywhere; }
.stat .value.mono { font-size: 1rem; padding: 0.3rem 0; }
.stat .label { color: var(--muted); font-size: 0.85rem; }

table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 0.5rem 0.75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--th); font-size: 0.85rem; color: var(--muted); font-weight: 600; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { width: 34%; background: transparent; color: var(--fg); font-weight: 500; font-size: 0.95rem; }
table.kv td .raw { color: var(--muted); font-size: 0.85em; margin-left: 0.4rem; }
.scroll { overflow-x: auto; max-width: 100%; border-radius: 8px; }
.scroll > table { min-width: 100%; }
.scroll th, .scroll td.num, .scroll td.when, .scroll .badge { white-space: nowrap; }

form.inline { display: inline; }
.toolbar { display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; margin-bottom: 0.8rem; }
.toolbar .spacer, .actions .spacer { flex: 1; }
label { font-weight: 550; }
input[type=text], input[type=search], input[type=number], textarea, select {
  font: inherit; padding: 0.4rem 0.55rem; border: 1px solid var(--input-line); border-radius: 6px; background: var(--input-bg); color: var(--fg); max-width: 100%; min-width: 0;
}
textarea { width: 100%; min-height: 7rem; font-family: var(--mono); font-size: 0.9em; }
input:focus, textarea:focus, select:focus { outline: 2px solid #9cc0f5; outline-offset: 0; border-color: var(--accent); }
button, .button {
  font: inherit; font-weight: 600; padding: 0.42rem 0.95rem; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; display: inline-block;
}
button:hover, .button:hover { background: var(--accent-dark); text-decoration: none; }
button.secondary, .button.secondary { background: var(--card); color: var(--accent); }
button.secondary:hover, .button.secondary:hover { background: var(--hover); }
button.danger, .button.danger { background: var(--danger); border-color: var(--danger); }
button.danger:hover, .button.danger:hover { background: var(--danger-dark); }
@media (prefers-color-scheme: dark) { button, .button { color: #0f141b; } button.secondary, .button.secondary { color: var(--accent); } }

.fields { display: grid; grid-template-columns: minmax(180px, 260px) minmax(0, 1fr); gap: 0.75rem 1.2rem; align-items: start; }
.fields > label { padding-top: 0.4rem; }
.field { min-width: 0; }
.field .hint { color: var(--muted); font-size: 0.85rem; margin-top: 0.2rem; }
.field .error { color: var(--danger); font-size: 0.88rem; font-weight: 600; margin-top: 0.2rem; }
.field.invalid input, .field.invalid select { border-color: var(--danger); background: var(--danger-bg); }
.field.checkbox { padding-top: 0.4rem; }
.attrs { display: grid; grid-template-columns: minmax(0, 1fr) 7.5rem minmax(0, 1.4fr); gap: 0.4rem; }
.attrs > * { width: 100%; }
.actions { margin-top: 1rem; display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; }

.flash { border-radius: 8px; padding: 0.7rem 1rem; margin-bottom: 1rem; border: 1px solid; }
.flash.ok { background: var(--ok-bg); color: var(--ok); border-color: var(--ok-line); }
.flash.error { background: var(--danger-bg); color: var(--danger); border-color: var(--danger-line); }
.flash.warn { background: var(--warn-bg); color: var(--warn); border-color: var(--warn-line); }
.flash code { color: inherit; }

.msg { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 0.8rem 1rem; margin-bottom: 0.8rem; }
.msg .head { display: flex; gap: 0.4rem 1rem; flex-wrap: wrap; align-items: baseline; }
.msg .head .spacer { flex: 1; }
.msg dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.15rem 0.8rem; margin: 0.4rem 0; font-size: 0.9rem; }
.msg dt { color: var(--muted); }
.msg dd { margin: 0; overflow-wrap: anywhere; }
details > summary { cursor: pointer; color: var(--accent); }

.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(440px, 100%), 1fr)); gap: 1rem; }
.chart { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 0.8rem; min-width: 0; }
.chart h3 { font-size: 0.9rem; margin: 0 0 0.3rem; font-weight: 600; }
.chart svg { display: block; width: 100%; height: auto; }
.chart .gridline { stroke: var(--grid-line); stroke-width: 1; }
.chart .axis { fill: var(--muted); font-size: 10px; font-family: system-ui, sans-serif; }
.chart .s1 { stroke: var(--c1); } .chart .s2 { stroke: var(--c2); } .chart .s3 { stroke: var(--c3); } .chart .s4 { stroke: var(--c4); } .chart .s5 { stroke: var(--c5); }
.chart polyline { fill: none; stroke-width: 2; stroke-linejoin: round; }
.chart polyline.s1 { stroke-dasharray: 6 3; stroke-width: 2.5; }
.legend { display: flex; flex-wrap: wrap; gap: 0.2rem 0.9rem; font-size: 0.82rem; color: var(--muted); margin-top: 0.2rem; }
.legend .k1::before, .legend .k2::before, .legend .k3::before, .legend .k4::before, .legend .k5::before { content: ""; display: inline-block; width: 0.8rem; height: 0.2rem; margin-right: 0.3rem; vertical-align: middle; }
.legend .k1::before { background: var(--c1); } .legend .k2::before { background: var(--c2); } .legend .k3::before { background: var(--c3); } .legend .k4::before { background: var(--c4); } .legend .k5::before { background: var(--c5); }

.pager { display: flex; gap: 0.8rem; margin-top: 0.8rem; align-items: center; flex-wrap: wrap; }
footer { max-width: 1100px; margin: 2rem auto 1rem; padding: 0 1.2rem; color: var(--muted); font-size: 0.85rem; }
@media (max-width: 640px) {
  main { padding: 0.9rem; }
  .fields { grid-template-columns: minmax(0, 1fr); gap: 0.4rem; }
  .fields > label, .fields > span { padding-top: 0.5rem; }
  .attrs { grid-template-columns: minmax(0, 1fr) 6.5rem; }
  .attrs > input[name=attr_value] { grid-column: 1 / -1; margin-bottom: 0.4rem; }
  table.kv, table.kv tbody, table.kv tr, table.kv th, table.kv td { display: block; width: auto; }
  table.kv th { border-bottom: 0; padding-bottom: 0; color: var(--muted); font-size: 0.85rem; }
  header.top .who { margin-left: 0; }
}
`.trim();

/** Changes whenever the stylesheet does; pages link `/ui/style.css?v=<hash>` so it can be cached for long. */
export const STYLESHEET_VERSION = createHash('sha256').update(STYLESHEET).digest('hex').slice(0, 12);

/** A small SVG icon, so browsers do not ask for /favicon.ico. */
export const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1f5fbf"/><path d="M7 11h18M7 16h13M7 21h8" stroke="#fff" stroke-width="3" stroke-linecap="round"/><path d="M21 19l5 2.5-5 2.5z" fill="#fff"/></svg>';
