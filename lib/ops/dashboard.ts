/**
 * The live dashboard MetricsServer serves at `/`: one self-contained page (no external scripts,
 * fonts or styles: production networks are closed) that polls /api/stats every second and draws
 * the message rate and per-stage latency percentiles on canvases it scales itself, beside tables
 * of counters, latency, orders by state and port stats; below, the top of every book (/api/top)
 * and one symbol's price ladder (/api/book, answered by the book stage between slices).
 * Latencies read with their unit (ns, µs, ms, s), prices in dollars.
 *
 * Kept as a TypeScript string so tsc ships it in dist/ with the server. The page's own script is
 * plain ES2017 without template literals (it lives inside one).
 */
export const kDashboardHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tickpath dashboard</title>
<link rel="icon" href="data:,">
<style>
  :root { --bg:#0f1419; --panel:#171d24; --fg:#d8dee6; --dim:#8a96a3; --grid:#2a323c; --a:#4fc3f7; --b:#ffb74d; --c:#e57373; --d:#81c784; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--fg); font:13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  header { display:flex; gap:24px; align-items:baseline; padding:10px 16px; border-bottom:1px solid var(--grid); flex-wrap:wrap; }
  header h1 { font-size:16px; margin:0; }
  .dim { color:var(--dim); }
  #status.ok { color:var(--d); } #status.err { color:var(--c); }
  main { display:grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap:12px; padding:12px; }
  section { background:var(--panel); border:1px solid var(--grid); border-radius:6px; padding:10px 12px; min-width:0; }
  section h2 { font-size:13px; margin:0 0 8px; color:var(--dim); font-weight:normal; text-transform:uppercase; letter-spacing:.05em; }
  .big { font-size:22px; }
  canvas { width:100%; height:220px; display:block; }
  .legend span { margin-right:14px; } .legend i { display:inline-block; width:10px; height:3px; vertical-align:middle; margin-right:4px; }
  table { border-collapse:collapse; width:100%; }
  td, th { padding:2px 6px; text-align:right; border-bottom:1px solid var(--grid); white-space:nowrap; }
  td:first-child, th:first-child { text-align:left; }
  th { color:var(--dim); font-weight:normal; }
  select { background:var(--bg); color:var(--fg); border:1px solid var(--grid); font:inherit; }
</style>
</head>
<body>
<header>
  <h1>tickpath</h1>
  <span>backend <b id="backend">-</b></span>
  <span>messages/s <b id="msg-rate" class="big">-</b></span>
  <span>packets/s <b id="pkt-rate">-</b></span>
  <span>drops <b id="drops">-</b></span>
  <span id="status" class="dim">connecting...</span>
</header>
<main>
  <section>
    <h2>Message rate (per second)</h2>
    <canvas id="rate-chart" data-points="0"></canvas>
    <div class="legend"><span><i style="background:var(--a)"></i>ITCH messages/s</span><span><i style="background:var(--b)"></i>packets/s</span></div>
  </section>
  <section>
    <h2>Latency <select id="stage"></select></h2>
    <canvas id="latency-chart" data-points="0"></canvas>
    <div class="legend"><span><i style="background:var(--d)"></i>p50</span><span><i style="background:var(--a)"></i>p90</span><span><i style="background:var(--b)"></i>p99</span><span><i style="background:var(--c)"></i>p99.9</span></div>
  </section>
  <section>
    <h2>Counters</h2>
    <table id="counters"><thead><tr><th>counter</th><th>total</th><th>per second</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Latency per stage</h2>
    <table id="latency"><thead><tr><th>stage</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>p99.99</th><th>max</th></tr></thead><tbody></tbody></table>
    <h2 style="margin-top:14px">Orders by state</h2>
    <table id="orders"><thead><tr><th>state</th><th>orders</th></tr></thead><tbody></tbody></table>
    <h2 style="margin-top:14px">Port</h2>
    <table id="port"><thead><tr><th>stat</th><th>value</th></tr></thead><tbody></tbody></table>
    <h2 style="margin-top:14px">Venue</h2>
    <table id="venue"><thead><tr><th>stat</th><th>value</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2 data-price-label="Top of book">Top of book ($)</h2>
    <table id="top"><thead><tr><th>symbol</th><th>bid shares</th><th data-price-label="bid">bid ($)</th><th data-price-label="ask">ask ($)</th><th>ask shares</th><th data-price-label="spread">spread ($)</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Book <select id="book-symbol"></select> <span id="book-state" class="dim"></span></h2>
    <table id="ladder"><thead><tr><th>side</th><th data-price-label="price">price ($)</th><th>shares</th><th>orders</th></tr></thead><tbody></tbody></table>
    <div id="book-last" class="dim"></div>
  </section>
</main>
<script>
(function () {
  'use strict';
  var kPoints = 120;                 // two minutes at one poll a second
  var kOrderStates = [
    ['sent', 'orders_sent'], ['accepted (risk)', 'orders_accepted'], ['rejected (risk)', 'orders_rejected'],
    ['acked by venue', 'orders_acked'], ['partially filled', 'orders_partially_filled'], ['filled', 'orders_filled'],
    ['cancelled', 'orders_cancelled'], ['venue rejects', 'venue_rejects']
  ];
  var rate = { t: [], msgs: [], pkts: [] };
  var lat = {};                      // stage -> { p50:[], p90:[], p99:[], p999:[] }
  var prev = null;
  var stageSel = document.getElementById('stage');

  function fmt(n) {
    if (n === undefined || n === null || isNaN(n)) return '-';
    var a = Math.abs(n);
    if (a >= 1e9) return (n / 1e9).toFixed(2) + 'G';
    if (a >= 1e6) return (n / 1e6).toFixed(2) + 'M';
    if (a >= 1e4) return (n / 1e3).toFixed(1) + 'k';
    return String(Math.round(n));
  }
  // Nanoseconds with their unit: 850 ns, 12.4 µs, 3.10 ms, 1.20 s (lib/ops/units.ts formatNs).
  function fmtNs(ns) {
    if (ns === undefined || ns === null || isNaN(ns)) return '-';
    var a = Math.abs(ns);
    if (a < 1e3) return Math.round(ns) + ' ns';
    if (a < 1e6) return (ns / 1e3).toFixed(a < 1e4 ? 2 : 1) + ' \u00b5s';
    if (a < 1e9) return (ns / 1e6).toFixed(a < 1e7 ? 2 : 1) + ' ms';
    return (ns / 1e9).toFixed(2) + ' s';
  }
  // Prices as the book answers scale them: ITCH Price(4) (dollars), or a FAST feed's price_decimals.
  var priceDecimals = 4;
  function dollars(p) { return p > 0 ? (p / Math.pow(10, priceDecimals)).toFixed(priceDecimals) : '-'; }
  // The price headings' unit follows the scale, as in "tickpath book": dollars for ITCH Price(4);
  // a FAST feed's prices are in the venue's own unit (roubles at MOEX), so no "$" there.
  function setPriceDecimals(d) {
    if (typeof d !== 'number' || d === priceDecimals) return;
    priceDecimals = d;
    var unit = d === 4 ? ' ($)' : '';
    [].forEach.call(document.querySelectorAll('[data-price-label]'), function (el) { el.textContent = el.getAttribute('data-price-label') + unit; });
  }
  function clock(ns) {
    var s = Math.floor(ns / 1e9), f = String(Math.round(ns - s * 1e9));
    function two(n) { return (n < 10 ? '0' : '') + n; }
    return two(Math.floor(s / 3600)) + ':' + two(Math.floor(s % 3600 / 60)) + ':' + two(s % 60) + '.' + '000000000'.slice(f.length) + f;
  }
  var kStates = { T: 'trading', H: 'halted', P: 'paused', Q: 'quotation only' };
  function push(arr, v) { arr.push(v); if (arr.length > kPoints) arr.shift(); }
  function esc(s) { return String(s).replace(/[&<>]/g, function (c) { return c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'; }); }
  function rows(id, list) {
    var body = document.querySelector('#' + id + ' tbody');
    body.innerHTML = list.map(function (r) { return '<tr>' + r.map(function (c) { return '<td>' + esc(c) + '</td>'; }).join('') + '</tr>'; }).join('');
  }

  // A line chart drawn by hand: y from 0 to the largest value shown, 4 grid lines, labels on the left.
  function draw(canvas, series, label) {
    label = label || fmt;
    var dpr = window.devicePixelRatio || 1;
    var w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    var g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    var css = getComputedStyle(document.documentElement);
    var left = 56, right = 8, top = 8, bottom = 18;
    var max = 0, n = 0;
    series.forEach(function (s) { s.data.forEach(function (v) { if (v > max) max = v; }); if (s.data.length > n) n = s.data.length; });
    // Round the top of the axis up to 1, 2 or 5 times a power of ten, so grid labels read well.
    if (max <= 0) max = 1;
    var mag = Math.pow(10, Math.floor(Math.log10(max)));
    max = [1, 2, 5, 10].map(function (m) { return m * mag; }).filter(function (m) { return m >= max; })[0];
    var span = Math.min(kPoints, Math.max(30, n));   // x: the last span polls, newest on the right
    g.font = '11px monospace'; g.fillStyle = css.getPropertyValue('--dim'); g.strokeStyle = css.getPropertyValue('--grid'); g.lineWidth = 1;
    for (var i = 0; i <= 4; i++) {
      var y = top + (h - top - bottom) * i / 4;
      g.beginPath(); g.moveTo(left, y); g.lineTo(w - right, y); g.stroke();
      g.fillText(label(max * (4 - i) / 4), 4, y + 4);
    }
    g.fillText(n + ' s', w - right - 40, h - 4);
    series.forEach(function (s) {
      if (s.data.length < 1) return;
      g.strokeStyle = css.getPropertyValue(s.color); g.lineWidth = 1.5; g.beginPath();
      s.data.forEach(function (v, k) {
        var x = left + (w - left - right) * (span - s.data.length + k) / (span - 1);
        var y = top + (h - top - bottom) * (1 - v / max);
        if (k === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    });
    canvas.setAttribute('data-points', String(n));
    canvas.setAttribute('data-max', String(max));
  }

  function update(snap) {
    var s = snap.stats, c = s.counters || {};
    document.getElementById('backend').textContent = s.backend || '-';
    var dt = prev ? (snap.uptimeMs - prev.uptimeMs) / 1000 : 0;
    var per = function (name) { return dt > 0 && prev ? Math.max(0, ((c[name] || 0) - (prev.stats.counters[name] || 0)) / dt) : NaN; };
    var msgs = per('itch_messages'), pkts = per('rx_packets');
    if (dt > 0) {
      push(rate.t, snap.atMs); push(rate.msgs, msgs); push(rate.pkts, pkts);
      document.getElementById('msg-rate').textContent = fmt(msgs);
      document.getElementById('pkt-rate').textContent = fmt(pkts);
    }
    var queues = (s.port && s.port.queues) || [];
    var drops = (c.rx_ring_drops || 0) + queues.reduce(function (a, q) { return a + (q.ringFullDrops || 0); }, 0);
    document.getElementById('drops').textContent = fmt(drops);

    var stages = Object.keys(s.latency || {});
    if (stageSel.options.length !== stages.length) {
      stageSel.innerHTML = stages.map(function (st) { return '<option>' + esc(st) + '</option>'; }).join('');
      if (stages.indexOf('wire_to_handler') >= 0) stageSel.value = 'wire_to_handler';
    }
    stages.forEach(function (st) {
      var l = s.latency[st];
      var h = lat[st] || (lat[st] = { p50: [], p90: [], p99: [], p999: [] });
      push(h.p50, l.p50); push(h.p90, l.p90); push(h.p99, l.p99); push(h.p999, l.p999);
    });
    rows('latency', stages.map(function (st) { var l = s.latency[st]; return l.count ? [st, fmt(l.count), fmtNs(l.p50), fmtNs(l.p90), fmtNs(l.p99), fmtNs(l.p999), fmtNs(l.p9999), fmtNs(l.max)] : [st, '0', '-', '-', '-', '-', '-', '-']; }));
    rows('counters', Object.keys(c).map(function (k) { return [k, fmt(c[k]), dt > 0 ? fmt(per(k)) : '-']; }));
    rows('orders', kOrderStates.map(function (o) { return [o[0], fmt(c[o[1]] || 0)]; }));
    var portRows = [];
    queues.forEach(function (q, i) { Object.keys(q).forEach(function (k) { portRows.push(['q' + i + ' ' + k, fmt(q[k])]); }); });
    var dev = (s.port && s.port.device) || {};
    Object.keys(dev).forEach(function (k) { portRows.push([k, fmt(dev[k])]); });
    rows('port', portRows);
    var venue = s.venue || {};
    rows('venue', Object.keys(venue).length ? Object.keys(venue).map(function (k) { return [k, fmt(venue[k])]; }) : [['no venue stats', '-']]);
    prev = snap;
    redraw();
  }

  function redraw() {
    draw(document.getElementById('rate-chart'), [{ data: rate.msgs, color: '--a' }, { data: rate.pkts, color: '--b' }]);
    var h = lat[stageSel.value] || { p50: [], p90: [], p99: [], p999: [] };
    draw(document.getElementById('latency-chart'), [{ data: h.p50, color: '--d' }, { data: h.p90, color: '--a' }, { data: h.p99, color: '--b' }, { data: h.p999, color: '--c' }], fmtNs);
  }

  // The book view: the top of every book, and the selected symbol's ladder.
  var bookSel = document.getElementById('book-symbol');
  function updateTop(top) {
    setPriceDecimals(top.priceDecimals);
    var list = top.symbols || [];
    rows('top', list.map(function (t) { return [t.symbol, t.bid > 0 ? String(t.bidShares) : '-', dollars(t.bid), dollars(t.ask), t.ask > 0 ? String(t.askShares) : '-', t.bid > 0 && t.ask > 0 ? ((t.ask - t.bid) / Math.pow(10, priceDecimals)).toFixed(priceDecimals) : '-']; }));
    var names = list.map(function (t) { return t.symbol; });
    if (bookSel.options.length !== names.length) {
      var keep = bookSel.value;
      bookSel.innerHTML = names.map(function (n) { return '<option>' + esc(n) + '</option>'; }).join('');
      if (names.indexOf(keep) >= 0) bookSel.value = keep;
    }
  }
  function updateLadder(a) {
    var st = document.getElementById('book-state'), last = document.getElementById('book-last');
    if (!a || !a.found || !a.snapshot) { rows('ladder', [['-', 'no book for ' + (a ? a.symbol : '?'), '', '']]); st.textContent = ''; last.textContent = ''; return; }
    setPriceDecimals(a.priceDecimals);
    var b = a.snapshot, list = [];
    for (var i = b.asks.length - 1; i >= 0; i--) list.push(['ask', dollars(b.asks[i].price), fmt(b.asks[i].shares), String(b.asks[i].orders)]);
    for (var j = 0; j < b.bids.length; j++) list.push(['bid', dollars(b.bids[j].price), fmt(b.bids[j].shares), String(b.bids[j].orders)]);
    rows('ladder', list);
    st.textContent = 'state ' + (b.tradingState ? b.tradingState + ' (' + (kStates[b.tradingState] || '?') + ')' : 'unknown');
    last.textContent = b.lastTrade ? 'last trade ' + dollars(b.lastTrade.price) + ' x ' + b.lastTrade.shares + ' at ' + clock(b.lastTrade.timestamp) : 'last trade: none yet';
    document.getElementById('ladder').setAttribute('data-symbol', b.symbol);
  }
  function pollBooks() {
    fetch('api/top', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (top) {
      updateTop(top);
      if (!bookSel.value) return null;
      return fetch('api/book?depth=10&symbol=' + encodeURIComponent(bookSel.value), { cache: 'no-store' })
        .then(function (r) { return r.status === 200 || r.status === 404 ? r.json() : null; }).then(updateLadder);
    }).catch(function () { /* the stats poll reports the connection */ });
  }
  bookSel.addEventListener('change', pollBooks);

  function poll() {
    fetch('api/stats', { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then(function (snap) {
      update(snap);
      var st = document.getElementById('status');
      st.textContent = 'live ' + new Date(snap.atMs).toLocaleTimeString(); st.className = 'ok';
    }).catch(function (e) {
      var st = document.getElementById('status');
      st.textContent = 'no data: ' + e.message; st.className = 'err';
    }).then(function () { pollBooks(); setTimeout(poll, 1000); });
  }
  stageSel.addEventListener('change', redraw);
  window.addEventListener('resize', redraw);
  poll();
})();
</script>
</body>
</html>
`;
