// Keeps Plotly figures alive in this iframe and updates them in place with Plotly.react.
// Speaks the Streamlit components-v1 message protocol directly (no npm build step).
(function () {
  "use strict";
  const root = document.getElementById("root");
  const hint = document.getElementById("hint");
  const header = document.getElementById("header");
  const errorBox = document.getElementById("error");
  const divs = {};            // figure name -> div
  let columnsKey = "";
  let drawMode = false;
  let drawn = [];             // points the user clicked, in data coordinates
  let nonce = 0;
  let lastHeight = -1;
  let epoch = null;           // a new epoch from Python clears the drawing
  window.__liveFigure = { frames: 0, times: [], lastFrame: -1, feedFrames: 0, feedErrors: 0 };
  let feedUrl = null;         // while set, frames are pulled from the server's feed instead of script reruns
  let feedGen = 0;            // bumps to end an older pull loop
  let rate = null;            // {step, t, ema}: steps/s shown in the header
  let columns = [];
  let playingNow = false;

  function send(type, data) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data), "*");
  }

  function layoutColumns(columns, widths) {
    const key = JSON.stringify([columns, widths]);
    if (key === columnsKey) return;
    columnsKey = key;
    root.innerHTML = "";
    for (const name in divs) { try { Plotly.purge(divs[name]); } catch (e) {} delete divs[name]; }
    columns.forEach(function (names, i) {
      const col = document.createElement("div");
      col.className = "col";
      col.style.flex = String(widths[i] || 1);
      names.forEach(function (name) {
        const d = document.createElement("div");
        d.className = "fig";
        d.dataset.name = name;
        col.appendChild(d);
        divs[name] = d;
      });
      root.appendChild(col);
    });
  }

  function drawnTrace() {
    return { type: "scatter", mode: "markers", name: "your points", x: drawn.map(p => p[0]),
             y: drawn.map(p => p[1]), marker: { color: "#e74c3c", size: 7, line: { color: "white", width: 1 } } };
  }

  function onPlotClick(gd, ev) {
    if (!drawMode) return;
    const fl = gd._fullLayout;
    if (!fl || !fl.xaxis || !fl.yaxis) return;
    const rect = gd.getBoundingClientRect();
    const px = ev.clientX - rect.left - fl.xaxis._offset;
    const py = ev.clientY - rect.top - fl.yaxis._offset;
    if (px < 0 || py < 0 || px > fl.xaxis._length || py > fl.yaxis._length) return;
    const x = fl.xaxis.p2l(px), y = fl.yaxis.p2l(py);
    const pts = ev.shiftKey ? 8 : 1;   // shift-click sprays a small cloud
    for (let i = 0; i < pts; i++) {
      const j = pts > 1 ? 0.04 * (fl.xaxis.range[1] - fl.xaxis.range[0]) : 0;
      drawn.push([+(x + j * (Math.random() - 0.5)).toFixed(4), +(y + j * (Math.random() - 0.5)).toFixed(4)]);
    }
    nonce += 1;
    Plotly.addTraces(gd, [drawnTrace()]).then(function () {
      // keep only one copy of the drawn trace
      const idx = gd.data.map((t, i) => (t.name === "your points" ? i : -1)).filter(i => i >= 0);
      if (idx.length > 1) Plotly.deleteTraces(gd, idx.slice(0, -1));
    });
    send("streamlit:setComponentValue", { value: { points: drawn, nonce: nonce, epoch: epoch }, dataType: "json" });
  }

  function renderHeader(items, step) {
    if (!items) return;
    const cells = items.slice();
    if (typeof step === "number") {
      const t = performance.now();
      if (rate && step > rate.step && t > rate.t) {
        const r = (step - rate.step) / ((t - rate.t) / 1000);
        rate.ema = rate.ema == null ? r : 0.8 * rate.ema + 0.2 * r;
      } else if (rate && step < rate.step) {
        rate.ema = null;
      }
      if (!rate || step !== rate.step) rate = { step: step, t: t, ema: rate ? rate.ema : null };
      if (playingNow) cells.splice(1, 0, ["steps / s", rate.ema == null ? "…" : Math.round(rate.ema).toLocaleString(),
                                       "training speed measured in this browser"]);
    }
    header.innerHTML = "";
    cells.forEach(function (c) {
      const m = document.createElement("div");
      m.className = "metric";
      m.title = c[2] || "";
      const l = document.createElement("div"); l.className = "label"; l.textContent = c[0];
      const v = document.createElement("div"); v.className = "value"; v.textContent = c[1];
      m.appendChild(l); m.appendChild(v);
      header.appendChild(m);
    });
  }

  function renderFigures(figures, frameNo) {
    const t0 = performance.now();
    const jobs = [];
    const first = columns.length && columns[0].length ? columns[0][0] : null;
    for (const name in figures) {
      const d = divs[name];
      if (!d) continue;
      const fig = figures[name];
      const data = fig.data.slice();
      if (name === first && drawMode && drawn.length) data.push(drawnTrace());
      const layout = Object.assign({ autosize: true }, fig.layout);
      if (name === first && drawMode) layout.dragmode = false;
      jobs.push(Plotly.react(d, data, layout, { responsive: true, displaylogo: false,
        toImageButtonOptions: { format: "png", filename: "playground-" + name, scale: 2 } }));
      if (name === first && !d.__clickBound) {
        d.__clickBound = true;
        d.addEventListener("click", function (ev) { onPlotClick(d, ev); });
      }
    }
    return Promise.all(jobs).then(function () {
      const lf = window.__liveFigure;
      lf.frames += 1;
      lf.lastFrame = frameNo;
      lf.times.push(performance.now());
      lf.renderMs = performance.now() - t0;
      if (lf.times.length > 2000) lf.times.splice(0, 1000);
      document.body.dataset.frames = String(lf.frames);
      document.body.dataset.lastFrame = String(frameNo);
      const h = Math.max(lastArgsHeight, document.body.scrollHeight);
      if (h !== lastHeight) { lastHeight = h; send("streamlit:setFrameHeight", { height: h }); }
    });
  }

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.style.display = text ? "block" : "none";
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // Pull frames while playing. The next frame is requested as soon as the current one arrives, so the
  // server builds it while the browser draws this one; at most one frame per `minGapMs`.
  function fetchFrame(url, curves) {
    return fetch(url + "?curves=" + (curves ? 1 : 0), { cache: "no-store" }).then(function (r) {
      if (r.status === 404) return { gone: true };
      return r.ok ? r.json() : null;
    }).catch(function () { window.__liveFigure.feedErrors += 1; return null; });
  }

  async function pull(gen, url, minGapMs) {
    let n = 0;
    let next = fetchFrame(url, true);
    while (gen === feedGen) {
      const t = performance.now();
      const frame = await next;
      if (gen !== feedGen) return;
      if (frame && frame.gone) { stopFeed("gone"); return; }
      next = frame && frame.playing ? fetchFrame(url, (n + 1) % 3 === 0) : null;
      if (frame) {
        n += 1;
        window.__liveFigure.feedFrames += 1;
        playingNow = !!frame.playing;
        renderHeader(frame.header, frame.step);
        showError(frame.error);
        if (frame.figures) await renderFigures(frame.figures, -n);
        if (!frame.playing) { if (gen === feedGen) stopFeed("stopped"); return; }
      } else {
        await sleep(500);
        next = fetchFrame(url, true);
      }
      const dt = performance.now() - t;
      if (dt < minGapMs) await sleep(minGapMs - dt);
    }
  }

  function stopFeed(why) {
    feedGen += 1;
    feedUrl = null;
    nonce += 1;   // tell the page (a rerun) that playing stopped on the server's side
    send("streamlit:setComponentValue", { value: { event: why, nonce: nonce, epoch: epoch, points: drawn },
                                          dataType: "json" });
  }

  let lastArgsHeight = 0;
  function render(args) {
    const figures = args.figures || {};
    columns = args.columns || [Object.keys(figures)];
    lastArgsHeight = args.height || 0;
    layoutColumns(columns, args.widths || []);
    drawMode = !!args.draw;
    if (args.draw_epoch !== epoch) {
      epoch = args.draw_epoch;
      drawn = (args.draw_points || []).slice();
      nonce = 0;
    }
    hint.textContent = drawMode ? "Draw mode: click the plot to add points (shift-click adds a cloud)." : "";
    const feed = args.feed || null;
    if (feed !== feedUrl) {
      feedGen += 1;
      feedUrl = feed;
      if (feed) pull(feedGen, feed, args.feed_min_gap_ms || 50);
    }
    playingNow = !!args.playing;
    renderHeader(args.header, args.step);
    showError(args.error);
    renderFigures(figures, args.frame);
  }

  window.addEventListener("message", function (ev) {
    const msg = ev.data;
    if (!msg || msg.type !== "streamlit:render") return;
    try { render(msg.args || {}); } catch (e) { hint.textContent = "figure error: " + e; }
  });
  send("streamlit:componentReady", { apiVersion: 1 });
})();
