package monitor

import (
	"io"
	"net/http"
)

// servePage serves the monitor's page.
func (m *Monitor) servePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return
	}
	_, _ = io.WriteString(w, pageHTML)
}

// pageHTML is the page: its CSS and script are inline, nothing is fetched
// but the monitor's own endpoints, relative to the page's path. Elements
// tests and scripts may rely on: #conn[data-state] ("live" or
// "reconnecting"), #stat-NAME[data-value] for each field of Stats,
// #slots-used and #slots-max, #keys tbody tr[data-task][data-key], and in
// svg#timeline the same classes as the timeline package's page (g.lane,
// g.bar[data-id][data-state], rect.seg, path.mark, path.dedupe).
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>perkey monitor</title>
<style>
:root { color-scheme: light; }
body { margin: 24px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1f2937; background: #fff; }
header { display: flex; align-items: baseline; gap: 14px; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 16px; margin: 22px 0 6px; }
.conn { font-size: 12px; padding: 1px 8px; border-radius: 9px; background: #e5e7eb; color: #374151; }
.conn[data-state="live"] { background: #dcfce7; color: #166534; }
.conn[data-state="reconnecting"] { background: #fee2e2; color: #991b1b; }
.meta { color: #6b7280; font-size: 12px; margin: 4px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 14px; margin-top: 14px; }
.card { border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 14px; min-width: 190px; }
.card .label { color: #6b7280; font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
.big { font-size: 28px; font-weight: 600; }
.big .of { font-size: 18px; color: #6b7280; font-weight: 400; }
.slots { display: flex; flex-wrap: wrap; gap: 3px; max-width: 260px; margin-top: 6px; }
.slot { width: 14px; height: 14px; border-radius: 3px; background: #e5e7eb; }
.slot.used { background: #2563eb; }
table.nums { border-collapse: collapse; }
table.nums th { text-align: left; font-weight: 400; color: #4b5563; padding: 1px 14px 1px 0; }
table.nums td { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
table.keys { border-collapse: collapse; min-width: 640px; }
table.keys th, table.keys td { padding: 3px 10px; border-bottom: 1px solid #f1f5f9; text-align: left; }
table.keys th { color: #6b7280; font-weight: 500; font-size: 12px; }
table.keys .n { text-align: right; font-variant-numeric: tabular-nums; }
table.keys .barcell { width: 240px; }
.kbar { display: inline-block; height: 8px; vertical-align: middle; }
.legend span { margin-right: 14px; font-size: 12px; color: #374151; white-space: nowrap; }
.legend i { display: inline-block; width: 18px; height: 8px; margin-right: 5px; vertical-align: middle; border-radius: 1.5px; }
svg { display: block; }
.tick { font-size: 11px; fill: #6b7280; text-anchor: middle; }
.grid { stroke: #e5e7eb; stroke-width: 1; }
.lane-bg { fill: #f9fafb; }
.lane-bg.odd { fill: #f1f5f9; }
.task { font-size: 11px; fill: #6b7280; font-weight: 600; letter-spacing: .04em; }
.key { font-size: 12px; fill: #111827; text-anchor: end; dominant-baseline: middle; }
.seg { stroke: none; }
.mark { stroke-width: 1; }
.queued { fill: #cbd5e1; background: #cbd5e1; }
.pending { fill: #f59e0b; background: #f59e0b; }
.running { fill: #2563eb; background: #2563eb; }
td.queued, td.pending, td.running { background: none; }
.succeeded { fill: #16a34a; stroke: #fff; background: #16a34a; }
.failed { fill: #dc2626; stroke: #fff; background: #dc2626; }
.dropped { fill: none; stroke: #ea580c; stroke-width: 2.4; stroke-linecap: round; background: #ea580c; }
.expired { fill: #7c3aed; stroke: #fff; background: #7c3aed; }
.canceled { fill: none; stroke: #4b5563; stroke-width: 1.8; background: #4b5563; }
.dedupe { fill: #06b6d4; stroke: #fff; stroke-width: .8; background: #06b6d4; }
.dedupe-count { font-size: 11px; fill: #0e7490; dominant-baseline: middle; }
</style>
</head>
<body>
<header><h1>perkey monitor</h1><span id="conn" class="conn" data-state="connecting">connecting…</span></header>
<section class="cards">
 <div class="card">
  <div class="label">slots in use</div>
  <div class="big"><span id="slots-used" data-value="0">0</span><span class="of"> / <span id="slots-max" data-value="0">0</span></span></div>
  <div id="slots" class="slots"></div>
 </div>
 <div class="card">
  <div class="label">now</div>
  <table class="nums">
   <tr><th>running</th><td id="stat-running" data-value="0">0</td></tr>
   <tr><th>pending (waiting for a slot)</th><td id="stat-pending" data-value="0">0</td></tr>
   <tr><th>queued (behind its key)</th><td id="stat-queued" data-value="0">0</td></tr>
   <tr><th>keys with work</th><td id="stat-actors" data-value="0">0</td></tr>
  </table>
 </div>
 <div class="card">
  <div class="label">since start</div>
  <table class="nums">
   <tr><th>submitted</th><td id="stat-submitted" data-value="0">0</td><th>&nbsp;&nbsp;succeeded</th><td id="stat-succeeded" data-value="0">0</td></tr>
   <tr><th>deduped</th><td id="stat-deduped" data-value="0">0</td><th>&nbsp;&nbsp;failed</th><td id="stat-failed" data-value="0">0</td></tr>
   <tr><th>dropped</th><td id="stat-dropped" data-value="0">0</td><th>&nbsp;&nbsp;expired</th><td id="stat-expired" data-value="0">0</td></tr>
   <tr><th>canceled</th><td id="stat-canceled" data-value="0">0</td><th>&nbsp;&nbsp;hook panics</th><td id="stat-hook_panics" data-value="0">0</td></tr>
  </table>
 </div>
</section>
<section>
 <h2>Busiest keys</h2>
 <table id="keys" class="keys"><thead><tr><th>task</th><th>key</th><th class="n">running</th><th class="n">pending</th><th class="n">queued</th><th></th></tr></thead><tbody></tbody></table>
 <p id="keys-empty" class="meta">No key has work right now.</p>
</section>
<section>
 <h2>Timeline of the last <span id="window">30s</span></h2>
 <div class="legend"><span><i class="queued"></i>queued</span><span><i class="pending"></i>pending</span><span><i class="running"></i>running</span><span><i class="succeeded"></i>succeeded</span><span><i class="failed"></i>failed</span><span><i class="dropped"></i>dropped</span><span><i class="expired"></i>expired</span><span><i class="canceled"></i>canceled</span><span><i class="dedupe"></i>deduplicated submission</span></div>
 <svg id="timeline" class="timeline" width="800" height="40"></svg>
 <p id="events-info" class="meta"></p>
</section>
<script>
(function () {
  'use strict';
  var base = location.pathname + (location.pathname.endsWith('/') ? '' : '/');
  var FINAL = {succeeded: 1, failed: 1, dropped: 1, expired: 1, canceled: 1};
  var MAXINV = 5000, MAXLANES = 40;
  var invs = new Map();   // "task#id" -> invocation, oldest first
  var laneOrder = new Map(); // "task\u0000key" -> order of first appearance
  var lastSeq = 0, laneSeq = 0, offset = 0, windowMs = 30000, missed = 0, slotsHTML = '';

  function byId(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  function setNum(id, v) {
    var el = byId(id), s = String(v);
    if (el && el.textContent !== s) { el.textContent = s; el.setAttribute('data-value', s); }
  }
  function fmtDur(ms) {
    if (ms >= 1000) return +(ms / 1000).toFixed(2) + 's';
    if (ms >= 1) return +ms.toFixed(1) + 'ms';
    return Math.round(ms * 1000) + 'µs';
  }
  function nice(d) {
    var p = Math.pow(10, Math.floor(Math.log10(d)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= d) return steps[i] * p;
    return 10 * p;
  }

  function onState(st) {
    offset = st.now - Date.now();
    windowMs = st.window_ms || windowMs;
    byId('window').textContent = fmtDur(windowMs);
    Object.keys(st.stats).forEach(function (k) { setNum('stat-' + k, st.stats[k]); });
    setNum('slots-used', st.slots.used);
    setNum('slots-max', st.slots.max);
    var html = '';
    for (var i = 0; i < Math.min(st.slots.max, 128); i++) html += '<span class="slot' + (i < st.slots.used ? ' used' : '') + '"></span>';
    if (html !== slotsHTML) { byId('slots').innerHTML = html; slotsHTML = html; }
    drawKeys(st.keys || []);
    var ev = st.events, older = Object.keys(ev.evicted || {}).map(function (k) { return ev.evicted[k] + ' ' + k; });
    byId('events-info').textContent = (ev.watching ? 'Listening to events' : 'Not listening to events') +
      '; ' + ev.kept + ' recent events kept of ' + ev.capacity + (older.length ? '; older, let go: ' + older.join(', ') : '') +
      (missed ? '; ' + missed + ' missed by this page' : '') + '.';
  }

  function drawKeys(keys) {
    var max = 1;
    keys.forEach(function (k) { max = Math.max(max, k.running + k.pending + k.queued); });
    byId('keys').tBodies[0].innerHTML = keys.map(function (k) {
      var w = function (n) { return (n / max * 100).toFixed(1) + '%'; };
      return '<tr data-task="' + esc(k.task) + '" data-key="' + esc(k.key) + '"><td>' + esc(k.task) + '</td><td>' + esc(k.key) +
        '</td><td class="n running">' + k.running + '</td><td class="n pending">' + k.pending + '</td><td class="n queued">' + k.queued +
        '</td><td class="barcell"><span class="kbar running" style="width:' + w(k.running) + '"></span><span class="kbar pending" style="width:' +
        w(k.pending) + '"></span><span class="kbar queued" style="width:' + w(k.queued) + '"></span></td></tr>';
    }).join('');
    byId('keys-empty').hidden = keys.length > 0;
  }

  function onEvents(b) {
    if (b.reset) { invs.clear(); laneOrder.clear(); lastSeq = 0; laneSeq = 0; }
    missed += b.missed || 0;
    (b.events || []).forEach(function (e) {
      if (e.seq <= lastSeq) return;
      lastSeq = e.seq;
      var id = e.task + '#' + e.id, inv = invs.get(id);
      if (!inv) {
        inv = {task: e.task, id: e.id, key: e.key, label: '', phases: [], dedupes: [], final: '', end: 0};
        invs.set(id, inv);
        var lk = e.task + '\u0000' + e.key;
        if (!laneOrder.has(lk)) laneOrder.set(lk, laneSeq++);
      }
      if (!inv.label && e.label) inv.label = e.label;
      if (e.deduped) { inv.dedupes.push(e.t); if (inv.phases.length) return; }
      if (inv.final) return;
      var last = inv.phases[inv.phases.length - 1];
      if (last && last.s === e.state) return;
      inv.phases.push({s: e.state, t: e.t});
      if (FINAL[e.state]) { inv.final = e.state; inv.end = e.t; }
    });
    prune();
    draw();
  }

  function prune() {
    var t0 = Date.now() + offset - windowMs;
    invs.forEach(function (inv, id) { if (inv.final && inv.end < t0) invs.delete(id); });
    var over = invs.size - MAXINV;
    invs.forEach(function (inv, id) { if (over > 0) { invs.delete(id); over--; } });
    if (laneOrder.size > 4 * MAXLANES) { // forget the keys no longer shown, keeping the order of the rest
      var live = new Set();
      invs.forEach(function (inv) { live.add(inv.task + '\u0000' + inv.key); });
      Array.from(laneOrder.keys()).forEach(function (lk) { if (!live.has(lk)) laneOrder.delete(lk); });
    }
  }

  function markPath(s, x, y, r) {
    var f = function (v) { return v.toFixed(1); };
    switch (s) {
      case 'succeeded': return 'M' + f(x - r) + ' ' + f(y) + 'a' + r + ' ' + r + ' 0 1 0 ' + 2 * r + ' 0a' + r + ' ' + r + ' 0 1 0 ' + (-2 * r) + ' 0Z';
      case 'failed': return 'M' + f(x - r) + ' ' + f(y - r) + 'h' + 2 * r + 'v' + 2 * r + 'h' + (-2 * r) + 'Z';
      case 'dropped': return 'M' + f(x - r) + ' ' + f(y - r) + 'L' + f(x + r) + ' ' + f(y + r) + 'M' + f(x + r) + ' ' + f(y - r) + 'L' + f(x - r) + ' ' + f(y + r);
      case 'expired': return 'M' + f(x - r) + ' ' + f(y - r) + 'h' + 2 * r + 'L' + f(x - r) + ' ' + f(y + r) + 'h' + 2 * r + 'Z';
      default: return 'M' + f(x - r) + ' ' + f(y - r) + 'h' + 2 * r + 'v' + 2 * r + 'h' + (-2 * r) + 'ZM' + f(x - r) + ' ' + f(y + r) + 'L' + f(x + r) + ' ' + f(y - r);
    }
  }
  function diamond(x, y, r) {
    return 'M' + x.toFixed(1) + ' ' + (y - r) + 'L' + (x + r).toFixed(1) + ' ' + y + 'L' + x.toFixed(1) + ' ' + (y + r) + 'L' + (x - r).toFixed(1) + ' ' + y + 'Z';
  }
  function hover(inv, now) {
    var s = '#' + inv.id + ' ' + inv.task + (inv.key ? ' · ' + inv.key : '') + (inv.label ? ' · ' + inv.label : '');
    for (var i = 0; i < inv.phases.length; i++) {
      var p = inv.phases[i];
      if (FINAL[p.s]) { s += '\n' + p.s; break; }
      var next = i + 1 < inv.phases.length ? inv.phases[i + 1].t : now;
      s += '\n' + p.s + ' ' + fmtDur(next - p.t) + (i + 1 < inv.phases.length ? '' : ' so far');
    }
    if (inv.dedupes.length) s += '\n' + inv.dedupes.length + ' submissions deduplicated into it';
    return s;
  }

  function draw() {
    var svg = byId('timeline');
    var W = Math.max(640, Math.min(1400, svg.parentNode.clientWidth || 800));
    var labelW = 160, plotW = W - labelW - 110;
    var now = Date.now() + offset, t0 = now - windowMs;
    var x = function (t) { return labelW + Math.max(0, t - t0) / windowMs * plotW; };
    var byLane = new Map();
    invs.forEach(function (inv) {
      if ((inv.final ? inv.end : now) < t0 || !inv.phases.length) return;
      var lk = inv.task + '\u0000' + inv.key;
      if (!byLane.has(lk)) byLane.set(lk, []);
      byLane.get(lk).push(inv);
    });
    var lanes = Array.from(byLane.keys()).sort(function (a, b) { return laneOrder.get(a) - laneOrder.get(b); }).slice(-MAXLANES);
    var taskFirst = new Map();
    lanes.forEach(function (lk) { var t = byLane.get(lk)[0].task; if (!taskFirst.has(t)) taskFirst.set(t, laneOrder.get(lk)); });
    lanes.sort(function (a, b) {
      return (taskFirst.get(byLane.get(a)[0].task) - taskFirst.get(byLane.get(b)[0].task)) || (laneOrder.get(a) - laneOrder.get(b));
    });
    var bg = '', fg = '', y = 26, task = null;
    lanes.forEach(function (lk, i) {
      var list = byLane.get(lk), first = list[0];
      if (first.task !== task) {
        task = first.task; y += 18;
        fg += '<text class="task" x="4" y="' + (y - 5) + '">task ' + esc(task) + '</text>';
      }
      list.sort(function (a, b) { return a.phases[0].t - b.phases[0].t || a.id - b.id; });
      var rowEnd = [], bars = '';
      list.forEach(function (inv) {
        var x0 = x(inv.phases[0].t), x1 = x(inv.final ? inv.end : now);
        var row = rowEnd.findIndex(function (e) { return e <= x0; });
        if (row < 0) { row = rowEnd.length; rowEnd.push(0); }
        rowEnd[row] = x1 + 7 + (inv.dedupes.length ? 75 : 0);
        var cy = y + 4 + row * 16 + 8;
        bars += '<g class="bar" data-id="' + inv.id + '" data-state="' + esc(inv.final || 'open') + '"><title>' + esc(hover(inv, now)) + '</title>';
        for (var j = 0; j < inv.phases.length; j++) {
          var p = inv.phases[j];
          if (FINAL[p.s]) break;
          var a = x(p.t), c = x(j + 1 < inv.phases.length ? inv.phases[j + 1].t : now);
          bars += '<rect class="seg ' + esc(p.s) + '" x="' + a.toFixed(1) + '" y="' + (cy - 4) + '" width="' + Math.max(0, c - a).toFixed(1) + '" height="8"/>';
        }
        if (inv.final) bars += '<path class="mark ' + esc(inv.final) + '" d="' + markPath(inv.final, x1, cy, 4.5) + '"/>';
        bars += '</g>';
        inv.dedupes.forEach(function (t) {
          if (t >= t0) bars += '<path class="dedupe" data-id="' + inv.id + '" d="' + diamond(x(t), cy - 5, 4) + '"/>';
        });
        if (inv.dedupes.length) bars += '<text class="dedupe-count" x="' + (x1 + 10).toFixed(1) + '" y="' + cy + '">+' + inv.dedupes.length + ' deduped</text>';
      });
      var h = 8 + Math.max(1, rowEnd.length) * 16;
      bg += '<rect class="lane-bg' + (i % 2 ? ' odd' : '') + '" x="0" y="' + y + '" width="' + W + '" height="' + h + '"/>';
      fg += '<g class="lane" data-task="' + esc(first.task) + '" data-key="' + esc(first.key) + '" data-rows="' + rowEnd.length + '">' +
        '<text class="key" x="' + (labelW - 12) + '" y="' + (y + 12) + '">' + esc(first.key || '(no key)') + '</text>' + bars + '</g>';
      y += h;
    });
    if (!lanes.length) fg += '<text class="tick" x="' + (labelW + plotW / 2) + '" y="' + (y + 20) + '">no work in the last ' + fmtDur(windowMs) + '</text>';
    var H = Math.max(y, 40) + 10, grid = '', step = nice(windowMs / 6);
    for (var d = 0; d <= windowMs + 1e-9; d += step) {
      var gx = (labelW + plotW - d / windowMs * plotW).toFixed(1);
      grid += '<line class="grid" x1="' + gx + '" y1="20" x2="' + gx + '" y2="' + (H - 8) + '"/><text class="tick" x="' + gx + '" y="14">' + (d ? '-' + fmtDur(d) : 'now') + '</text>';
    }
    svg.setAttribute('width', W);
    svg.setAttribute('height', H);
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.innerHTML = bg + grid + fg;
  }

  var conn = byId('conn');
  var es = new EventSource(base + 'stream');
  es.onopen = function () { conn.textContent = 'live'; conn.setAttribute('data-state', 'live'); };
  es.onerror = function () { conn.textContent = 'reconnecting…'; conn.setAttribute('data-state', 'reconnecting'); };
  es.addEventListener('state', function (e) { onState(JSON.parse(e.data)); });
  es.addEventListener('events', function (e) { onEvents(JSON.parse(e.data)); });
  setInterval(function () { prune(); draw(); }, 250);
})();
</script>
</body>
</html>
`
