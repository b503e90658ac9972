import { createHash } from 'node:crypto';

/**
 * The whole stylesheet, served from GET /ui/style.css (the CSP allows styles from 'self' only,
 * no inline styles). No framework; readable without it too.
 */
export const STYLESHEET = `
:root {
  --fg: #1d2430; --muted: #5c6778; --line: #d9dee7; --bg: #f6f7f9; --card: #fff;
  --accent: #1f5fbf; --accent-dark: #174a96; --danger: #b42318; --danger-bg: #fef3f2;
  --ok: #067647; --ok-bg: #ecfdf3; --warn-bg: #fffaeb; --warn: #93370d;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body { margin: 0; color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, .mono { font-family: var(--mono); font-size: 0.92em; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem 0.8rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }

header.top { background: #16202e; color: #e8edf5; }
header.top .bar { max-width: 1100px; margin: 0 auto; padding: 0.6rem 1.2rem; display: flex; gap: 1.4rem; align-items: center; flex-wrap: wrap; }
header.top .brand { font-weight: 700; color: #fff; letter-spacing: 0.01em; }
header.top nav { display: flex; gap: 1rem; }
header.top nav a { color: #c3cddd; padding: 0.15rem 0; border-bottom: 2px solid transparent; }
header.top nav a.active, header.top nav a:hover { color: #fff; border-bottom-color: #6ea1f0; text-decoration: none; }
header.top .who { margin-left: auto; color: #9fb0c8; font-size: 0.88em; }

main { max-width: 1100px; margin: 0 auto; padding: 1.2rem; }
h1 { font-size: 1.6rem; margin: 0.4rem 0 1rem; word-break: break-all; }
h2 { font-size: 1.15rem; margin: 1.6rem 0 0.6rem; }
.lead { color: var(--muted); margin-top: -0.6rem; }
.badge { display: inline-block; font-size: 0.75rem; font-weight: 600; padding: 0.05rem 0.45rem; border-radius: 999px; background: #e8eefb; color: var(--accent-dark); vertical-align: middle; }
.badge.fifo { background: #f0e9fd; color: #5925a8; }
.muted { color: var(--muted); }

.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 1rem; }
.grid.narrow { grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); }
.stat { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 0.8rem 1rem; }
.stat .value { font-size: 1.5rem; font-weight: 650; overflow-wrap: anywhere; }
.stat .value.mono { font-size: 1rem; padding: 0.3rem 0; }
.stat .label { color: var(--muted); font-size: 0.85rem; }

table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 0.5rem 0.75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-size: 0.85rem; color: var(--muted); font-weight: 600; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { width: 34%; background: transparent; color: var(--fg); font-weight: 500; font-size: 0.95rem; }
table.kv td .raw { color: var(--muted); font-size: 0.85em; margin-left: 0.4rem; }

form.inline { display: inline; }
.toolbar { display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; margin-bottom: 0.8rem; }
.toolbar .spacer { flex: 1; }
label { font-weight: 550; }
input[type=text], input[type=search], input[type=number], textarea, select {
  font: inherit; padding: 0.4rem 0.55rem; border: 1px solid #b8c1cf; border-radius: 6px; background: #fff; color: var(--fg);
}
textarea { width: 100%; min-height: 7rem; font-family: var(--mono); font-size: 0.9em; }
input:focus, textarea:focus, select:focus { outline: 2px solid #9cc0f5; outline-offset: 0; border-color: var(--accent); }
button, .button {
  font: inherit; font-weight: 600; padding: 0.42rem 0.95rem; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer; display: inline-block;
}
button:hover, .button:hover { background: var(--accent-dark); text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.secondary:hover, .button.secondary:hover { background: #eef4fd; }
button.danger, .button.danger { background: var(--danger); border-color: var(--danger); }
button.danger:hover, .button.danger:hover { background: #8f1c13; }

.fields { display: grid; grid-template-columns: minmax(180px, 260px) minmax(0, 1fr); gap: 0.75rem 1.2rem; align-items: start; }
.fields > label { padding-top: 0.4rem; }
.field .hint { color: var(--muted); font-size: 0.85rem; margin-top: 0.2rem; }
.field .error { color: var(--danger); font-size: 0.88rem; font-weight: 600; margin-top: 0.2rem; }
.field.invalid input, .field.invalid select { border-color: var(--danger); background: var(--danger-bg); }
.field.checkbox { padding-top: 0.4rem; }
.attrs { display: grid; grid-template-columns: 1fr 7.5rem 1.4fr; gap: 0.4rem; }
.actions { margin-top: 1rem; display: flex; gap: 0.6rem; align-items: center; }

.flash { border-radius: 8px; padding: 0.7rem 1rem; margin-bottom: 1rem; border: 1px solid; }
.flash.ok { background: var(--ok-bg); color: var(--ok); border-color: #abefc6; }
.flash.error { background: var(--danger-bg); color: var(--danger); border-color: #fecdca; }
.flash.warn { background: var(--warn-bg); color: var(--warn); border-color: #fedf89; }
.flash code { color: inherit; }

.pager { display: flex; gap: 0.8rem; margin-top: 0.8rem; align-items: center; }
footer { max-width: 1100px; margin: 2rem auto 1rem; padding: 0 1.2rem; color: var(--muted); font-size: 0.85rem; }
@media (max-width: 640px) { .fields { grid-template-columns: 1fr; } .fields > label { padding-top: 0; } }
`.trim();

/** Changes whenever the stylesheet does; pages link `/ui/style.css?v=<hash>` so it can be cached for long. */
export const STYLESHEET_VERSION = createHash('sha256').update(STYLESHEET).digest('hex').slice(0, 12);

/** A small SVG icon, so browsers do not ask for /favicon.ico. */
export const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1f5fbf"/><path d="M7 11h18M7 16h13M7 21h8" stroke="#fff" stroke-width="3" stroke-linecap="round"/><path d="M21 19l5 2.5-5 2.5z" fill="#fff"/></svg>';
