package monitor

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"

	"github.com/perkey/perkey/internal/workercolour"
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

// pageCSP allows the page its own inline style and script, by hash, and
// connections to its own origin only; nothing else, and no framing.
var pageCSP = "default-src 'none'; script-src '" + hash(pageJS) + "'; style-src '" + hash(pageCSS) +
	"'; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// pageHTML is the page: its CSS and script are inline, nothing is fetched
// but the monitor's own endpoints, by URLs relative to the document.
// Elements tests and scripts may rely on: #conn[data-state] ("live" or
// "reconnecting"), #stat-NAME[data-value] for each field of Stats,
// #slots-used and #slots-max, #keys tbody tr[data-task][data-key],
// #watch[data-since], #workers-card (hidden unless events name processes)
// with #workers tbody tr[data-worker][data-running][data-finished][data-failed]
// (State.Workers), and in svg#timeline the same classes as the timeline
// package's page (g.lane, g.bar[data-id][data-state][data-early] with
// data-worker once it ran with a Backend, rect.seg with data-worker on a
// running one, path.mark, path.dedupe, text.dedupe-count) and
// g.unknown[data-running][data-pending][data-queued] for work under way
// since before the page's view began.
var pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>perkey monitor</title>
<style>` + pageCSS + `</style>
</head>
<body>
<header><h1>perkey monitor</h1><span id="conn" class="conn" data-state="connecting">connecting…</span></header>
<p id="watch" class="meta" data-since="0"></p>
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
 <div class="card" id="workers-card" hidden>
  <div class="label">worker processes</div>
  <table id="workers" class="nums workers"><thead><tr><th></th><th class="n">running</th><th class="n">finished</th><th class="n">failed</th></tr></thead><tbody></tbody></table>
  <div id="workers-info" class="meta"></div>
 </div>
</section>
<section>
 <h2>Busiest keys</h2>
 <table id="keys" class="keys"><thead><tr><th>task</th><th>key</th><th class="n">running</th><th class="n">pending</th><th class="n">queued</th><th></th></tr></thead><tbody></tbody></table>
 <p id="keys-empty" class="meta">No key has work right now.</p>
 <p id="keys-info" class="meta"></p>
</section>
<section>
 <h2>Timeline of the last <span id="window">30s</span></h2>
 <div class="legend"><span><i class="queued"></i>queued</span><span><i class="throttled"></i>throttled (waiting for a rate token)</span><span><i class="pending"></i>pending</span><span><i class="running"></i>running</span><span><i class="unknown"></i>not watched</span><span><i class="succeeded"></i>succeeded</span><span><i class="failed"></i>failed</span><span><i class="dropped"></i>dropped</span><span><i class="expired"></i>expired</span><span><i class="canceled"></i>canceled</span><span><i class="dedupe"></i>deduplicated submissions</span></div>
 <svg id="timeline" class="timeline" width="800" height="40"></svg>
 <p id="events-info" class="meta"></p>
</section>
<script>` + pageJS + `</script>
</body>
</html>
`

const pageCSS = `
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
.throttled { fill: #c4b5fd; background: #c4b5fd; }
.pending { fill: #f59e0b; background: #f59e0b; }
.running { fill: #2563eb; background: #2563eb; }
` + workercolour.CSS + `table.workers td.name { text-align: left; font-weight: 400; padding-right: 14px; }
table.workers th.n, table.workers td { padding-left: 10px; }
.swatch { display: inline-block; width: 14px; height: 8px; margin-right: 5px; vertical-align: middle; border-radius: 1.5px; }
.unknown { fill: #e5e7eb; stroke: #9ca3af; stroke-width: .8; stroke-dasharray: 3 2; background: repeating-linear-gradient(45deg, #e5e7eb 0 3px, #9ca3af 3px 4px); }
td.queued, td.pending, td.running { background: none; }
.succeeded { fill: #16a34a; stroke: #fff; background: #16a34a; }
.failed { fill: #dc2626; stroke: #fff; background: #dc2626; }
.dropped { fill: none; stroke: #ea580c; stroke-width: 2.4; stroke-linecap: round; background: #ea580c; }
.expired { fill: #7c3aed; stroke: #fff; background: #7c3aed; }
.canceled { fill: none; stroke: #4b5563; stroke-width: 1.8; background: #4b5563; }
.dedupe { fill: #06b6d4; stroke: #fff; stroke-width: .8; background: #06b6d4; }
.dedupe-count, .unknown-text { font-size: 11px; fill: #0e7490; dominant-baseline: middle; }
.unknown-text { fill: #4b5563; }
`

const pageJS = `
(function () {
  'use strict';
  var FINAL = {succeeded: 1, failed: 1, dropped: 1, expired: 1, canceled: 1};
  var MAXINV = 5000, MAXLANES = 40;
  var invs = new Map();      // "task#id" -> invocation, oldest first
  var laneOrder = new Map(); // "task\u0000key" -> order of first appearance
  var lastSeq = 0, laneSeq = 0, offset = 0, windowMs = 30000, missed = 0, slotsHTML = '';
  var since = 0;             // when the monitor's watch began (server ms); 0 if it is not watching
  var knownFrom = 0;         // what happened before this time (server ms) is not known to this page
  var stats = null, rawPrev = null;
  var unknown = {running: 0, pending: 0, queued: 0}; // under way, not yet seen by this page
  var es = null, retryTimer = 0;
  var colours = new Map();   // worker process -> its index among those seen, in name order

  // colourOf is the CSS class of a worker process's colour: 8 colours, by
  // name order among the processes seen (as the timeline package assigns
  // them), repeating; forgotten when too many processes were seen.
  function colourOf(name) {
    if (!colours.has(name)) {
      var names = colours.size >= 256 ? [] : Array.from(colours.keys());
      names.push(name);
      names.sort();
      colours.clear();
      names.forEach(function (n, i) { colours.set(n, i); });
    }
    return 'w' + (colours.get(name) % 8); // workercolour.Count
  }
  // runsOf lists the worker processes that ran inv, one per run, in order.
  function runsOf(inv) {
    return inv.phases.filter(function (p) { return p.w; }).map(function (p) { return p.w; });
  }

  function byId(id) { return document.getElementById(id); }
  // clean writes the characters that change how text reads without
  // showing (controls, bidirectional overrides, invisible marks) as
  // escapes; the server does too, this is belt and braces.
  var HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/g;
  function clean(s) {
    return String(s).replace(HIDDEN, function (c) { return '\\u' + ('000' + c.charCodeAt(0).toString(16)).slice(-4); });
  }
  function escHTML(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  function esc(s) { return escHTML(clean(s)); }
  function setNum(id, v) {
    var el = byId(id), s = String(v);
    if (el && el.textContent !== s) { el.textContent = s; el.setAttribute('data-value', s); }
  }
  function fmtDur(ms) {
    if (ms >= 1000) return +(ms / 1000).toFixed(2) + 's';
    if (ms >= 1) return +ms.toFixed(1) + 'ms';
    return Math.round(ms * 1000) + 'µs';
  }
  function fmtTime(ms) {
    var d = new Date(ms - offset), p = function (n, w) { return ('00' + n).slice(-w); };
    return p(d.getHours(), 2) + ':' + p(d.getMinutes(), 2) + ':' + p(d.getSeconds(), 2) + '.' + p(d.getMilliseconds(), 3);
  }
  function nice(d) {
    var p = Math.pow(10, Math.floor(Math.log10(d)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= d) return steps[i] * p;
    return 10 * p;
  }

  // stateOf is where an open invocation stands, as Stats counts it.
  function stateOf(inv) {
    var s = inv.phases.length ? inv.phases[inv.phases.length - 1].s : '';
    return s === 'throttled' ? 'queued' : s;
  }

  function onState(st) {
    offset = st.now - Date.now();
    windowMs = st.window_ms || windowMs;
    stats = st.stats;
    byId('window').textContent = fmtDur(windowMs);
    Object.keys(st.stats).forEach(function (k) { setNum('stat-' + k, st.stats[k]); });
    setNum('slots-used', st.slots.used);
    setNum('slots-max', st.slots.max);
    var html = '';
    for (var i = 0; i < Math.min(st.slots.max, 128); i++) html += '<span class="slot' + (i < st.slots.used ? ' used' : '') + '"></span>';
    if (html !== slotsHTML) { byId('slots').innerHTML = html; slotsHTML = html; }
    drawKeys(st.keys || []);
    drawWorkers(st.workers || [], st.workers_more || 0);
    var stale = st.now - st.keys_at, info = '';
    if (st.keys_sampled) {
      info = 'With ' + st.stats.actors + ' keys with work, listing them all would hold up the scheduler: these are the busiest of the keys of recent events.';
    } else if (st.keys && st.keys.length && stale > 1000) {
      info = 'As of ' + fmtDur(stale) + ' ago: listing the busiest keys took ' + fmtDur(st.keys_ms) + ', so the monitor does it seldom.';
    }
    byId('keys-info').textContent = info;
    var ev = st.events, older = Object.keys(ev.evicted || {}).map(function (k) { return ev.evicted[k] + ' ' + k; });
    byId('events-info').textContent = (ev.watching ? 'Listening to events' : 'Not listening to events') +
      '; ' + ev.kept + ' recent events kept of ' + ev.capacity + ' (' + Math.round(ev.bytes / 1024) + ' KiB)' +
      (older.length ? '; older, let go: ' + older.join(', ') : '') +
      (missed ? '; ' + missed + ' missed by this page' : '') + '.';
    reconcile();
  }

  // reconcile counts the work Stats has in flight that this page has not
  // seen: it began before the page's view did. It runs on each state and
  // each batch of events, and a count must hold for two runs in a row,
  // since a state and the events beside it are not taken at the same
  // instant.
  function reconcile() {
    if (!stats) return;
    var known = {running: 0, pending: 0, queued: 0};
    invs.forEach(function (inv) { if (!inv.final) { var s = stateOf(inv); if (s in known) known[s]++; } });
    var raw = {};
    Object.keys(known).forEach(function (k) { raw[k] = Math.max(0, stats[k] - known[k]); });
    Object.keys(known).forEach(function (k) { unknown[k] = rawPrev ? Math.min(raw[k], rawPrev[k]) : raw[k]; });
    rawPrev = raw;
  }

  function drawKeys(keys) {
    var max = 1, body = byId('keys').tBodies[0];
    keys.forEach(function (k) { max = Math.max(max, k.running + k.pending + k.queued); });
    var rows = keys.map(function (k) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-task', clean(k.task));
      tr.setAttribute('data-key', clean(k.key));
      if (k.truncated) tr.title = 'cut: the task or key is longer than the monitor keeps';
      var cell = function (text, cls) {
        var td = document.createElement('td');
        if (cls) td.className = cls;
        td.textContent = text;
        tr.appendChild(td);
        return td;
      };
      cell(clean(k.task));
      cell(clean(k.key));
      cell(String(k.running), 'n running');
      cell(String(k.pending), 'n pending');
      cell(String(k.queued), 'n queued');
      var bars = cell('', 'barcell');
      ['running', 'pending', 'queued'].forEach(function (s) {
        var b = document.createElement('span');
        b.className = 'kbar ' + s;
        b.style.width = (k[s] / max * 100).toFixed(1) + '%';
        bars.appendChild(b);
      });
      return tr;
    });
    body.replaceChildren.apply(body, rows);
    byId('keys-empty').hidden = keys.length > 0;
  }

  // drawWorkers fills the table of worker processes (State.Workers), shown
  // only when events name processes (a Backend).
  function drawWorkers(ws, more) {
    var body = byId('workers').tBodies[0];
    var rows = ws.map(function (w) {
      var tr = document.createElement('tr'), name = clean(w.name);
      tr.setAttribute('data-worker', name);
      tr.setAttribute('data-running', String(w.running));
      tr.setAttribute('data-finished', String(w.finished));
      tr.setAttribute('data-failed', String(w.failed));
      var td = document.createElement('td'), sw = document.createElement('span');
      td.className = 'name';
      sw.className = 'swatch ' + colourOf(name);
      td.appendChild(sw);
      td.appendChild(document.createTextNode(name));
      tr.appendChild(td);
      [w.running, w.finished, w.failed].forEach(function (n) {
        var c = document.createElement('td');
        c.textContent = String(n);
        tr.appendChild(c);
      });
      return tr;
    });
    body.replaceChildren.apply(body, rows);
    byId('workers-card').hidden = ws.length === 0;
    byId('workers-info').textContent = ws.length ? 'Of the recent events kept' + (more ? '; ' + more + ' more processes' : '') +
      '. The timeline draws each run in its process\'s colour.' : '';
  }

  function forgetAll() {
    invs.clear(); laneOrder.clear(); laneSeq = 0; rawPrev = null;
  }

  function onEvents(b) {
    if (b.reset) { forgetAll(); lastSeq = 0; }
    if (b.since !== since) {
      since = b.since;
      knownFrom = Math.max(knownFrom, since);
    }
    var events = b.events || [];
    if (b.missed) {
      missed += b.missed;
      // Whatever this page had in flight may have moved on unseen: forget
      // it; Stats counts it until its next event shows it again.
      invs.forEach(function (inv, id) { if (!inv.final) invs.delete(id); });
      if (events.length) knownFrom = Math.max(knownFrom, events[0].t);
    }
    events.forEach(function (e) {
      if (e.seq <= lastSeq) return;
      lastSeq = e.seq;
      var id = e.task + '#' + e.id, inv = invs.get(id);
      if (!inv) {
        // Seen from its Queued event, or met halfway: then what came
        // before is not known.
        var early = e.state !== 'queued' || !!e.deduped || !!e.throttled;
        inv = {task: clean(e.task), id: e.id, key: clean(e.key), label: '', phases: [], dd: null, final: '', end: 0, err: '',
          early: early, from: early ? knownFrom : e.t, cut: false};
        invs.set(id, inv);
        var lk = inv.task + '\u0000' + inv.key;
        if (!laneOrder.has(lk)) laneOrder.set(lk, laneSeq++);
      }
      if (e.truncated) inv.cut = true;
      if (!inv.label && e.label) inv.label = clean(e.label);
      if (e.err) inv.err = clean(e.err);
      if (e.deduped) {
        // Dedupes are counted, with the first and the last: a burst of a
        // million is three numbers, not a million marks.
        if (!inv.dd) inv.dd = {n: 0, first: e.t, last: e.t};
        inv.dd.n++;
        inv.dd.first = Math.min(inv.dd.first, e.t);
        inv.dd.last = Math.max(inv.dd.last, e.t);
        if (inv.phases.length) return;
      }
      if (inv.final) return;
      var s = e.throttled ? 'throttled' : e.state;
      // A Running event names the process that runs it (with a Backend);
      // one naming another process than the run before is a rerun there.
      var w = s === 'running' && e.worker ? clean(e.worker) : '';
      var last = inv.phases[inv.phases.length - 1];
      if (last && last.s === s && (!w || last.w === w)) return;
      inv.phases.push({s: s, t: e.t, w: w});
      if (FINAL[s]) { inv.final = s; inv.end = e.t; }
    });
    prune();
    reconcile();
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
    var runs = runsOf(inv);
    var s = '#' + inv.id + ' ' + inv.task + (inv.key ? ' · ' + inv.key : '') + (inv.label ? ' · ' + inv.label : '') +
      (runs.length ? ' on ' + runs.join(', then ') : '');
    if (inv.cut) s += '\n(text cut: longer than the monitor keeps)';
    if (inv.early) s += '\nnot watched before ' + fmtTime(inv.phases.length ? inv.phases[0].t : now);
    for (var i = 0; i < inv.phases.length; i++) {
      var p = inv.phases[i];
      if (FINAL[p.s]) { s += '\n' + p.s; break; }
      var next = i + 1 < inv.phases.length ? inv.phases[i + 1].t : now;
      s += '\n' + p.s + ' ' + fmtDur(next - p.t) + (i + 1 < inv.phases.length ? '' : ' so far');
    }
    if (inv.err) s += '\nerror: ' + inv.err;
    if (inv.dd) s += '\n' + inv.dd.n + ' submissions deduplicated into it';
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
    var nUnknown = unknown.running + unknown.pending + unknown.queued;
    if (nUnknown > 0) {
      // Work under way that began before this page's view: Stats counts
      // it, its events have not been seen yet.
      var ux = x(Math.max(knownFrom, t0)), parts = [];
      ['running', 'pending', 'queued'].forEach(function (k) { if (unknown[k]) parts.push(unknown[k] + ' ' + k); });
      var what = parts.join(', ') + ': under way since before ' + fmtTime(knownFrom || now) + ', when this view began;' +
        ' each shows here from its next change of state';
      bg += '<rect class="lane-bg" x="0" y="' + y + '" width="' + W + '" height="34"/>';
      fg += '<g class="unknown" data-running="' + unknown.running + '" data-pending="' + unknown.pending + '" data-queued="' + unknown.queued + '">' +
        '<title>' + esc(what) + '</title>' +
        '<text class="key" x="' + (labelW - 12) + '" y="' + (y + 17) + '">not yet seen</text>' +
        '<text class="unknown-text" x="' + (labelW + 4) + '" y="' + (y + 10) + '">' + esc(what) + '</text>' +
        '<rect class="seg unknown" x="' + ux.toFixed(1) + '" y="' + (y + 20) + '" width="' + Math.max(2, labelW + plotW - ux).toFixed(1) + '" height="8"/></g>';
      y += 40;
    }
    lanes.forEach(function (lk, i) {
      var list = byLane.get(lk), first = list[0];
      if (first.task !== task) {
        task = first.task; y += 18;
        fg += '<text class="task" x="4" y="' + (y - 5) + '">task ' + esc(task) + '</text>';
      }
      list.sort(function (a, b) { return a.phases[0].t - b.phases[0].t || a.id - b.id; });
      var rowEnd = [], bars = '';
      list.forEach(function (inv) {
        var start = inv.early ? Math.min(inv.from, inv.phases[0].t) : inv.phases[0].t;
        var x0 = x(start), x1 = x(inv.final ? inv.end : now);
        var row = rowEnd.findIndex(function (e) { return e <= x0; });
        if (row < 0) { row = rowEnd.length; rowEnd.push(0); }
        rowEnd[row] = x1 + 7 + (inv.dd ? 75 : 0);
        var cy = y + 4 + row * 16 + 8;
        var runs = runsOf(inv);
        bars += '<g class="bar" data-id="' + inv.id + '" data-state="' + esc(inv.final || 'open') + '"' + (inv.early ? ' data-early="1"' : '') +
          (runs.length ? ' data-worker="' + esc(runs[runs.length - 1]) + '"' : '') +
          '><title>' + escHTML(hover(inv, now)) + '</title>'; // its parts are clean, its line breaks its own
        if (inv.early) {
          var e0 = x(inv.phases[0].t);
          bars += '<rect class="seg unknown" x="' + x0.toFixed(1) + '" y="' + (cy - 4) + '" width="' + Math.max(0, e0 - x0).toFixed(1) + '" height="8"/>';
        }
        for (var j = 0; j < inv.phases.length; j++) {
          var p = inv.phases[j];
          if (FINAL[p.s]) break;
          var a = x(p.t), c = x(j + 1 < inv.phases.length ? inv.phases[j + 1].t : now);
          bars += '<rect class="seg ' + esc(p.s) + (p.w ? ' ' + colourOf(p.w) + '" data-worker="' + esc(p.w) : '') +
            '" x="' + a.toFixed(1) + '" y="' + (cy - 4) + '" width="' + Math.max(0, c - a).toFixed(1) + '" height="8"/>';
        }
        if (inv.final) bars += '<path class="mark ' + esc(inv.final) + '" d="' + markPath(inv.final, x1, cy, 4.5) + '"/>';
        bars += '</g>';
        if (inv.dd) {
          [inv.dd.first, inv.dd.last].forEach(function (t, k) {
            if (t >= t0 && (k === 0 || inv.dd.last !== inv.dd.first)) {
              bars += '<path class="dedupe" data-id="' + inv.id + '" d="' + diamond(x(t), cy - 5, 4) + '"/>';
            }
          });
          bars += '<text class="dedupe-count" x="' + (x1 + 10).toFixed(1) + '" y="' + cy + '">+' + inv.dd.n + ' deduped</text>';
        }
      });
      var h = 8 + Math.max(1, rowEnd.length) * 16;
      bg += '<rect class="lane-bg' + (i % 2 ? ' odd' : '') + '" x="0" y="' + y + '" width="' + W + '" height="' + h + '"/>';
      fg += '<g class="lane" data-task="' + esc(first.task) + '" data-key="' + esc(first.key) + '" data-rows="' + rowEnd.length + '">' +
        '<text class="key" x="' + (labelW - 12) + '" y="' + (y + 12) + '">' + esc(first.key || '(no key)') + '</text>' + bars + '</g>';
      y += h;
    });
    if (!lanes.length && !nUnknown) {
      var idle = stats && stats.running + stats.pending + stats.queued === 0;
      fg += '<text class="tick" x="' + (labelW + plotW / 2) + '" y="' + (y + 20) + '">' +
        (idle ? 'no work in the last ' + fmtDur(Math.min(windowMs, now - (knownFrom || now))) : 'waiting for events') + '</text>';
    }
    var H = Math.max(y, 40) + 10, grid = '', step = nice(windowMs / 6);
    for (var d = 0; d <= windowMs + 1e-9; d += step) {
      var gx = (labelW + plotW - d / windowMs * plotW).toFixed(1);
      grid += '<line class="grid" x1="' + gx + '" y1="20" x2="' + gx + '" y2="' + (H - 8) + '"/><text class="tick" x="' + gx + '" y="14">' + (d ? '-' + fmtDur(d) : 'now') + '</text>';
    }
    svg.setAttribute('width', W);
    svg.setAttribute('height', H);
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.innerHTML = bg + grid + fg;
    var w = byId('watch');
    w.setAttribute('data-since', String(since));
    w.textContent = since ? 'Watching since ' + fmtTime(since) + ': work under way before then shows from its next change of state.' :
      'Not watching the scheduler\'s events now.';
  }

  var conn = byId('conn');
  function connect() {
    retryTimer = 0;
    // Relative to the document: the endpoints are the page's siblings.
    es = new EventSource('stream' + (lastSeq ? '?after=' + lastSeq : ''));
    es.onopen = function () { conn.textContent = 'live'; conn.setAttribute('data-state', 'live'); };
    es.onerror = function () {
      conn.textContent = 'reconnecting…'; conn.setAttribute('data-state', 'reconnecting');
      if (es.readyState === 2 && !retryTimer) retryTimer = setTimeout(connect, 5000); // refused (too many viewers): retry
    };
    es.addEventListener('state', function (e) { onState(JSON.parse(e.data)); });
    es.addEventListener('events', function (e) { onEvents(JSON.parse(e.data)); });
  }
  connect();
  setInterval(function () { prune(); draw(); }, 250);
})();
`
