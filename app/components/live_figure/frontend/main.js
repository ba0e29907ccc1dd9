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
    // Same labels as last time: only the values change (rebuilding the row each frame forced a layout).
    const labels = cells.map(c => c[0]).join("\u0001");
    if (header.dataset.labels !== labels) {
      header.dataset.labels = labels;
      header.innerHTML = "";
      cells.forEach(function () {
        const m = document.createElement("div");
        m.className = "metric";
        const l = document.createElement("div"); l.className = "label";
        const v = document.createElement("div"); v.className = "value";
        m.appendChild(l); m.appendChild(v);
        header.appendChild(m);
      });
    }
    cells.forEach(function (c, i) {
      const m = header.children[i];
      if (m.title !== (c[2] || "")) m.title = c[2] || "";
      if (m.firstChild.textContent !== c[0]) m.firstChild.textContent = c[0];
      if (m.lastChild.textContent !== c[1]) m.lastChild.textContent = c[1];
    });
  }

  // ---- fast frames while playing --------------------------------------------------------------------
  // Plotly re-renders a whole figure on each react; with software rendering (no GPU, headless) the field's
  // 1,000 markers, arrows and heatmap took 50-400 ms and the two curve figures 60-80 ms a second, CPU that
  // training did not get. While the feed plays, figures named in `fast` whose layout has not changed since
  // Plotly last drew them are painted on a canvas over their plot area instead: Plotly's trace layers are
  // hidden, its axes, grid, legend and colorbar stay (pointer events pass through, so zoom and pan still
  // work and the canvas follows the axes). Python keeps layouts stable (round-number ranges with headroom),
  // so Plotly redraws only when an axis range must grow, every few seconds, and when the feed stops.
  // The camera button always exports the latest frame, whichever way it was drawn.
  const FULL_EVERY_MS = 10000;
  const OK_TYPES = { heatmap: 1, scatter: 1, scattergl: 1 };
  const DASHES = { dot: [2, 3], dash: [6, 4], dashdot: [6, 3, 2, 3], longdash: [10, 4] };
  const luts = {};
  const latest = {};          // figure name -> the newest spec received (what the camera button exports)

  function parseColor(c) {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (m) { const v = m[1].split(",").map(Number); return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; }
    if (c && c[0] === "#" && c.length === 7) {
      return [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16), 1];
    }
    return [0, 0, 0, 1];
  }

  function colorLut(scale) {   // 256 RGB entries interpolated along a Plotly colorscale [[pos, color], ...]
    const key = JSON.stringify(scale);
    if (luts[key]) return luts[key];
    const stops = scale.map(s => [s[0], parseColor(s[1])]);
    const lut = new Uint8ClampedArray(256 * 3);
    for (let i = 0; i < 256; i++) {
      const t = i / 255;
      let k = 0;
      while (k < stops.length - 2 && t > stops[k + 1][0]) k++;
      const [p0, c0] = stops[k], [p1, c1] = stops[Math.min(k + 1, stops.length - 1)];
      const f = p1 > p0 ? Math.min(1, Math.max(0, (t - p0) / (p1 - p0))) : 0;
      for (let j = 0; j < 3; j++) lut[i * 3 + j] = c0[j] + f * (c1[j] - c0[j]);
    }
    return (luts[key] = lut);
  }

  // What must match Plotly's last full render for a canvas repaint to be faithful: the layout (axes, sizes,
  // legend) but not the title text, and each trace's kind, name and axes (legend entries, colorbar).
  function layoutKey(fig) {
    const lay = Object.assign({}, fig.layout);
    delete lay.title;
    return JSON.stringify([lay, fig.data.map(t => [t.type, t.name, t.mode, t.xaxis, t.yaxis, t.visible, t.showlegend,
                                                    t.colorbar, t.colorscale, t.fill, t.fillcolor, t.zmin, t.zmax])]);
  }

  function overlayFor(d) {
    let c = d.__overlay;
    if (!c) {
      c = document.createElement("canvas");
      c.className = "fast-overlay";
      c.style.position = "absolute";
      c.style.pointerEvents = "none";
      d.style.position = "relative";
      d.appendChild(c);
      d.__overlay = c;
    }
    return c;
  }

  // Where the plot area sits in the figure's div: measured once per full render (measuring forces a layout),
  // and again after a resize or a zoom.
  function geometry(d) {
    if (d.__geom) return d.__geom;
    const fl = d._fullLayout;
    const svg = d.querySelector(".main-svg");
    const r = d.getBoundingClientRect(), sr = svg ? svg.getBoundingClientRect() : r;
    d.__geom = { left: sr.left - r.left + fl.xaxis._offset, top: sr.top - r.top + fl.yaxis._offset,
                 w: fl.xaxis._length, h: fl.yaxis._length, title: d.querySelector(".gtitle"),
                 layers: Array.from(d.querySelectorAll(".cartesianlayer .plot, .cartesianlayer .overplot, .gl-container")) };
    return d.__geom;
  }
  window.addEventListener("resize", function () { for (const name in divs) divs[name].__geom = null; });
  const heatCanvas = document.createElement("canvas");

  function setTraceLayers(g, visible) {
    for (const el of g.layers) el.style.visibility = visible ? "" : "hidden";
  }

  function hideOverlay(d) {
    const c = d.__overlay;
    if (!c || c.style.display === "none") return;
    c.style.display = "none";
    if (c.__geom) setTraceLayers(c.__geom, true);   // the layers this canvas hid (d.__geom may be reset)
  }

  function hideOverlays() {
    for (const name in divs) hideOverlay(divs[name]);
  }

  function axisOf(fl, ref, letter) {
    return fl[letter + "axis" + (ref && ref.length > 1 ? ref.slice(1) : "")];
  }

  // data -> pixel on one axis (log axes map log10 of the value; non-positive values have no pixel)
  function mapper(ax) {
    if (ax.type === "log") return v => (v > 0 ? ax.l2p(Math.log10(v)) : null);
    return v => ax.l2p(v);
  }

  // Long arrays arrive as base64 float32 ({dtype: "f4", bdata, shape}, see playground/plotly_arrays.py);
  // both Plotly and the canvas get typed arrays (rows of one for a 2D z). Gaps are NaN.
  function decodeArray(v) {
    if (!v || typeof v !== "object" || typeof v.bdata !== "string" || v.dtype !== "f4") return v;
    const bin = atob(v.bdata), u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    const a = new Float32Array(u8.buffer);
    if (!v.shape) return a;
    const [rows, cols] = String(v.shape).split(",").map(Number), out = [];
    for (let r = 0; r < rows; r++) out.push(a.subarray(r * cols, (r + 1) * cols));
    return out;
  }

  function decodeFigures(figures) {
    for (const name in figures || {}) {
      for (const t of figures[name].data || []) for (const k of ["x", "y", "z"]) if (t[k]) t[k] = decodeArray(t[k]);
    }
    return figures;
  }

  const gap = v => v == null || v !== v;    // null (JSON) or NaN (typed arrays)

  function fastDraw(d, fig, extra) {
    const fl = d._fullLayout, fd = d._fullData;
    if (!fl || !fl.xaxis || !fl.yaxis || !fd) return false;
    if (d.__layoutKey !== layoutKey(fig)) return false;          // axes or legend change: Plotly draws it
    if (!fig.data.every(t => OK_TYPES[t.type])) return false;
    const main = { x: fl.xaxis, y: fl.yaxis };
    const axes = fig.data.map(t => ({ x: axisOf(fl, t.xaxis, "x"), y: axisOf(fl, t.yaxis, "y") }));
    // every trace must share the main plot area (overlaid axes are fine, separate subplots are not)
    if (!axes.every(a => a.x && a.y && a.x._offset === main.x._offset && a.x._length === main.x._length &&
                         a.y._offset === main.y._offset && a.y._length === main.y._length)) return false;
    if (axes.some(a => a.x.type !== "linear" && a.x.type !== "log" || a.y.type !== "linear" && a.y.type !== "log")) {
      return false;
    }
    const g = geometry(d), w = g.w, h = g.h;
    const c = overlayFor(d), dpr = window.devicePixelRatio || 1;
    if (c.__geom !== g || c.style.display !== "block") {
      c.__geom = g;
      Object.assign(c.style, { left: g.left + "px", top: g.top + "px", width: w + "px", height: h + "px", display: "block" });
      setTraceLayers(g, false);
    }
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
    }
    // the title text follows every frame too
    if (g.title && fig.layout && fig.layout.title && fig.layout.title.text && g.title.textContent !== fig.layout.title.text) {
      g.title.textContent = fig.layout.title.text;
    }
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const traces = extra ? fig.data.concat([extra]) : fig.data;
    traces.forEach(function (t, i) {
      if (t.visible === false || t.visible === "legendonly") return;
      if (i < fig.data.length && fd[i] && fd[i].visible !== true) return;   // hidden from the legend by the user
      const a = axes[i] || axes[0] || main;
      const px = mapper(a.x), py = mapper(a.y);
      ctx.globalAlpha = t.opacity != null ? t.opacity : 1;
      if (t.type === "heatmap") drawHeatmap(ctx, t, fd.find(f => f.type === "heatmap"), px, py);
      else if ((t.mode || "").indexOf("markers") >= 0) drawMarkers(ctx, t, px, py);
      else if ((t.mode || "").indexOf("lines") >= 0) drawLines(ctx, t, px, py);
      ctx.globalAlpha = 1;
    });
    return true;
  }

  function drawHeatmap(ctx, t, full, px, py) {
    if (!full || !full.colorscale || !t.z || !t.z.length) return;
    const lut = colorLut(full.colorscale);
    const ny = t.z.length, nx = t.z[0].length;
    const zmin = t.zmin != null ? t.zmin : full.zmin, zmax = t.zmax != null ? t.zmax : full.zmax;
    const img = new ImageData(nx, ny);
    for (let r = 0; r < ny; r++) {
      const row = t.z[r];
      for (let q = 0; q < nx; q++) {
        const v = row[q];
        const o = ((ny - 1 - r) * nx + q) * 4;    // z rows go up in y; image rows go down
        if (gap(v)) { img.data[o + 3] = 0; continue; }
        const k = Math.round(255 * Math.min(1, Math.max(0, (v - zmin) / ((zmax - zmin) || 1)))) * 3;
        img.data[o] = lut[k]; img.data[o + 1] = lut[k + 1]; img.data[o + 2] = lut[k + 2]; img.data[o + 3] = 255;
      }
    }
    const tmp = heatCanvas;
    if (tmp.width !== nx || tmp.height !== ny) { tmp.width = nx; tmp.height = ny; }
    tmp.getContext("2d").putImageData(img, 0, 0);
    const dx = nx > 1 ? (t.x[nx - 1] - t.x[0]) / (nx - 1) : 1, dy = ny > 1 ? (t.y[ny - 1] - t.y[0]) / (ny - 1) : 1;
    const x0 = px(t.x[0] - dx / 2), x1 = px(t.x[nx - 1] + dx / 2);
    const y0 = py(t.y[ny - 1] + dy / 2), y1 = py(t.y[0] - dy / 2);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(tmp, x0, y0, x1 - x0, y1 - y0);
  }

  function drawMarkers(ctx, t, px, py) {
    const m = t.marker || {};
    const col = parseColor(m.color || "#444");
    const size = m.size || 6, r = size / 2;
    const tick = String(m.symbol || "").indexOf("line-ns") === 0;   // 1D rug marks
    ctx.globalAlpha *= (m.opacity != null ? m.opacity : 1) * col[3];
    ctx.beginPath();
    for (let i = 0; i < t.x.length; i++) {
      if (gap(t.x[i]) || gap(t.y[i])) continue;
      const X = px(t.x[i]), Y = py(t.y[i]);
      if (gap(X) || gap(Y)) continue;
      if (tick) { ctx.moveTo(X, Y - r); ctx.lineTo(X, Y + r); } else { ctx.moveTo(X + r, Y); ctx.arc(X, Y, r, 0, 2 * Math.PI); }
    }
    if (tick) { ctx.strokeStyle = `rgb(${col[0]},${col[1]},${col[2]})`; ctx.lineWidth = 1; ctx.stroke(); }
    else { ctx.fillStyle = `rgb(${col[0]},${col[1]},${col[2]})`; ctx.fill(); }
  }

  function drawLines(ctx, t, px, py) {
    const ln = t.line || {};
    const pts = [];
    let run = [];
    for (let i = 0; i < t.x.length; i++) {
      const X = gap(t.x[i]) ? null : px(t.x[i]), Y = gap(t.y[i]) ? null : py(t.y[i]);
      if (gap(X) || gap(Y)) { if (run.length) pts.push(run); run = []; continue; }
      run.push([X, Y]);
    }
    if (run.length) pts.push(run);
    if (t.fill === "tozeroy" && t.fillcolor) {
      const y0 = py(0);
      ctx.fillStyle = t.fillcolor;
      for (const r of pts) {
        ctx.beginPath();
        ctx.moveTo(r[0][0], y0);
        for (const p of r) ctx.lineTo(p[0], p[1]);
        ctx.lineTo(r[r.length - 1][0], y0);
        ctx.closePath();
        ctx.fill();
      }
    }
    ctx.strokeStyle = ln.color || "#444";
    ctx.lineWidth = ln.width || 1;
    ctx.setLineDash(DASHES[ln.dash] || []);
    ctx.beginPath();
    for (const r of pts) {
      ctx.moveTo(r[0][0], r[0][1]);
      for (let k = 1; k < r.length; k++) ctx.lineTo(r[k][0], r[k][1]);
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }

  let lastFullAt = 0;
  let fastNames = [];
  function renderFeedFrame(figures, frameNo) {
    const now = performance.now();
    const full = now - lastFullAt >= FULL_EVERY_MS;
    const first = columns.length && columns[0].length ? columns[0][0] : null;
    const rest = {};
    let fastCount = 0;
    for (const name in figures) {
      latest[name] = figures[name];
      const extra = name === first && drawMode && drawn.length ? drawnTrace() : null;
      if (!full && fastNames.indexOf(name) >= 0 && divs[name] && fastDraw(divs[name], figures[name], extra)) fastCount += 1;
      else rest[name] = figures[name];
    }
    if (fastCount) window.__liveFigure.fastFrames = (window.__liveFigure.fastFrames || 0) + 1;
    if (full) lastFullAt = now;
    return renderFigures(rest, frameNo, now).then(function () {
      if (full) window.__liveFigure.fullMs = performance.now() - now;
    });
  }

  // The latest frame as the user sees it: their zoom (axis ranges) and the traces they hid in the legend.
  function exportPng(name) {
    const d = divs[name], fig = latest[name];
    if (!d || !fig) return;
    const fl = d._fullLayout || {}, fd = d._fullData || [];
    const data = fig.data.map((t, i) => (fd[i] && fd[i].visible !== true ? Object.assign({}, t, { visible: fd[i].visible }) : t));
    if (name === (columns[0] || [])[0] && drawMode && drawn.length) data.push(drawnTrace());
    const layout = Object.assign({}, fig.layout, { width: fl.width, height: fl.height });
    for (const key in fl) {
      if (/^[xy]axis\d*$/.test(key) && fl[key] && fl[key].range) {
        layout[key] = Object.assign({}, fig.layout[key] || {}, { range: fl[key].range.slice(), autorange: false });
      }
    }
    Plotly.downloadImage({ data: data, layout: layout },
                         { format: "png", filename: "playground-" + name, scale: 2, width: fl.width, height: fl.height });
  }

  function renderFigures(figures, frameNo, startedAt) {
    const t0 = startedAt || performance.now();
    const jobs = [];
    const first = columns.length && columns[0].length ? columns[0][0] : null;
    for (const name in figures) {
      const d = divs[name];
      if (!d) continue;
      const fig = figures[name];
      latest[name] = fig;
      const data = fig.data.slice();
      if (name === first && drawMode && drawn.length) data.push(drawnTrace());
      const layout = Object.assign({ autosize: true }, fig.layout);
      if (name === first && drawMode) layout.dragmode = false;
      hideOverlay(d);                // Plotly now draws the real thing
      d.__geom = null;
      d.__layoutKey = layoutKey(fig);
      // one config object per div: a new one (new button closure) would make react redraw from scratch
      d.__config = d.__config || { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["toImage"],
        modeBarButtonsToAdd: [{ name: "Download plot as a PNG", icon: Plotly.Icons.camera,
                                click: function () { exportPng(name); } }] };
      jobs.push(Plotly.react(d, data, layout, d.__config));
      if (!d.__relayoutBound && d.on) {
        d.__relayoutBound = true;
        d.on("plotly_relayout", function () { hideOverlay(d); d.__geom = null; });
      }
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
    const t0 = performance.now();
    return fetch(url + "?curves=" + (curves ? 1 : 0), { cache: "no-store" }).then(function (r) {
      window.__liveFigure.serverTiming = r.headers.get("Server-Timing");
      if (r.status === 404) return { gone: true };
      return r.ok ? r.json() : null;
    }).then(function (f) {
      const lf = window.__liveFigure;
      lf.fetchMs = performance.now() - t0;
      lf.fetchTotalMs = (lf.fetchTotalMs || 0) + lf.fetchMs;
      return f;
    }).catch(function () { window.__liveFigure.feedErrors += 1; return null; });
  }

  // Two requests stay in flight: a frame's time is mostly waiting (the training process answering between
  // its steps, the loopback round trip), not CPU, so overlapping two requests nearly doubles the rate.
  const IN_FLIGHT = 2;
  const CURVES_EVERY = 10;    // loss and metric curves move slowly: about once a second

  async function pull(gen, url, minGapMs) {
    let n = 0, asked = 0;
    const queue = [];
    const ask = () => { queue.push(fetchFrame(url, asked % CURVES_EVERY === 0)); asked += 1; };
    while (queue.length < IN_FLIGHT) ask();
    while (gen === feedGen) {
      const t = performance.now();
      const frame = await queue.shift();
      if (gen !== feedGen) return;
      if (frame && frame.gone) { stopFeed("gone"); return; }
      if (frame && frame.playing) ask();
      if (frame) {
        n += 1;
        window.__liveFigure.feedFrames += 1;
        playingNow = !!frame.playing;
        renderHeader(frame.header, frame.step);
        showError(frame.error);
        if (frame.figures) await renderFeedFrame(decodeFigures(frame.figures), -n);
        if (!frame.playing) { if (gen === feedGen) stopFeed("stopped"); return; }
      } else {
        await sleep(500);
        while (queue.length < IN_FLIGHT) ask();
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
    const figures = decodeFigures(args.figures || {});
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
    fastNames = args.fast || [];
    playingNow = !!args.playing;
    renderHeader(args.header, args.step);
    showError(args.error);
    if (!feed) hideOverlays();
    renderFigures(figures, args.frame);
  }

  window.addEventListener("message", function (ev) {
    const msg = ev.data;
    if (!msg || msg.type !== "streamlit:render") return;
    try { render(msg.args || {}); } catch (e) { hint.textContent = "figure error: " + e; }
  });
  send("streamlit:componentReady", { apiVersion: 1 });
})();
