/**
 * The debug page at /debug/myrpc: one self-contained HTML document that polls /debug/myrpc/stats.json
 * every second and redraws its tables. No external scripts, styles or fonts.
 */
export function renderDebugPage(): string {
  return PAGE;
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>MyRPC debug</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  #server { color: #555; margin-bottom: 1rem; }
  table { border-collapse: collapse; min-width: 60rem; }
  th, td { padding: .35rem .7rem; border-bottom: 1px solid #dde1e8; text-align: right; }
  th { background: #f2f4f8; font-weight: 600; }
  td.name, th.name { text-align: left; font-family: ui-monospace, monospace; }
  tr.errors td.errors { color: #b3261e; font-weight: 600; }
  #status { margin-top: .75rem; color: #777; font-size: .85rem; }
  #status.stale { color: #b3261e; }
</style>
</head>
<body>
<h1>MyRPC</h1>
<div id="server">loading…</div>
<table>
  <thead><tr>
    <th class="name">service</th><th class="name">method</th><th>calls</th><th>errors</th>
    <th>in flight</th><th title="calls finished in the last minute">p50 ms (1 min)</th><th title="calls finished in the last minute">p99 ms (1 min)</th><th>mean ms</th>
    <th title="streams open now">streams open</th><th title="stream items sent since start">items out</th><th title="stream items received since start">items in</th><th class="name">error codes</th>
  </tr></thead>
  <tbody id="methods"></tbody>
</table>
<div id="status"></div>
<script>
const count = (n, word) => n + ' ' + word + (n === 1 ? '' : 's');
const fmt = (v) => (v === null || v === undefined ? '–' : (Math.round(v * 100) / 100).toString());
function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}
function draw(snapshot) {
  const s = snapshot.server;
  document.getElementById('server').textContent =
    (s.address ? s.address + ' · ' : '') + 'up ' + s.uptimeSeconds + ' s · ' + count(s.connections, 'connection') + ' · ' + count(s.inFlight, 'call') + ' in flight' +
    (s.streams ? ' · ' + count(s.streams.open, 'stream') + ' open' : '');
  const body = document.getElementById('methods');
  body.replaceChildren(...snapshot.methods.map((m) => {
    const tr = document.createElement('tr');
    tr.dataset.method = m.service + '.' + m.method;
    if (m.errors > 0) tr.className = 'errors';
    const codes = Object.entries(m.codes).map(([c, n]) => c + ' ' + n).join(', ');
    const streaming = m.kind !== undefined && m.kind !== 'unary';
    const streamCell = (v, cls) => cell(streaming ? String(v) : '–', cls);
    if (streaming) tr.dataset.kind = m.kind;
    tr.append(cell(m.service, 'name'), cell(m.method, 'name'), cell(String(m.calls), 'calls'), cell(String(m.errors), 'errors'),
      cell(String(m.inFlight), 'inflight'), cell(fmt(m.p50Ms), 'p50'), cell(fmt(m.p99Ms), 'p99'), cell(fmt(m.meanMs), 'mean'),
      streamCell(m.streamsOpen, 'streams'), streamCell(m.itemsSent, 'itemsout'), streamCell(m.itemsReceived, 'itemsin'), cell(codes, 'name codes'));
    return tr;
  }));
}
async function refresh() {
  const status = document.getElementById('status');
  try {
    const res = await fetch('/debug/myrpc/stats.json', { cache: 'no-store' });
    draw(await res.json());
    status.textContent = 'updated ' + new Date().toLocaleTimeString() + ' · refreshes every second';
    status.className = '';
  } catch (err) {
    status.textContent = 'cannot reach the server: ' + err;
    status.className = 'stale';
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
