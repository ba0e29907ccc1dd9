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

  // ---- fast frames while playing --------------------------------------------------------------------
  // Plotly re-renders every trace on each react; with software rendering (no GPU, headless) 1,000 markers,
  // the arrows and the heatmap took 50-400 ms a frame and starved training of CPU. While the feed plays,
  // heatmap/marker/line traces of a figure Plotly has already laid out are painted on a canvas over its
  // plot area (pointer events pass through, so zoom and pan still work and the canvas follows the axes);
  // Plotly itself redraws the full figure every five seconds and whenever the feed stops, so the PNG
  // button, hover and legend always show a real Plotly figure once paused.
  const FULL_EVERY_MS = 5000;
  const luts = {};

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

  function hideOverlays() {
    for (const name in divs) if (divs[name].__overlay) divs[name].__overlay.style.display = "none";
  }

  function fastDraw(d, fig) {
    const fl = d._fullLayout, fd = d._fullData;
    if (!fl || !fl.xaxis || !fl.yaxis || !fd) return false;
    if (!fig.data.every(t => (t.type === "heatmap" || t.type === "scatter" || t.type === "scattergl") &&
                             (!t.xaxis || t.xaxis === "x") && (!t.yaxis || t.yaxis === "y"))) return false;
    const xa = fl.xaxis, ya = fl.yaxis, w = xa._length, h = ya._length;
    if (xa.type !== "linear" || ya.type !== "linear") return false;
    const c = overlayFor(d), dpr = window.devicePixelRatio || 1;
    // the plot area lies inside Plotly's main svg; place the canvas over it
    const svg = d.querySelector(".main-svg");
    const top = (svg ? svg.getBoundingClientRect().top - d.getBoundingClientRect().top : 0) + ya._offset;
    const left = (svg ? svg.getBoundingClientRect().left - d.getBoundingClientRect().left : 0) + xa._offset;
    Object.assign(c.style, { left: left + "px", top: top + "px", width: w + "px", height: h + "px", display: "block" });
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
    }
    const title = d.querySelector(".gtitle");      // the title text follows every frame too
    if (title && fig.layout && fig.layout.title && fig.layout.title.text) title.textContent = fig.layout.title.text;
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.globalAlpha = 1;
    ctx.fillStyle = fl.plot_bgcolor || "#fff";
    ctx.fillRect(0, 0, w, h);
    const px = v => xa.l2p(v), py = v => ya.l2p(v);
    for (const t of fig.data) {
      if (t.visible === false) continue;
      if (t.type === "heatmap") {
        const full = fd.find(f => f.type === "heatmap");
        if (!full || !full.colorscale || !t.z || !t.z.length) continue;
        const lut = colorLut(full.colorscale);
        const ny = t.z.length, nx = t.z[0].length;
        const zmin = t.zmin != null ? t.zmin : full.zmin, zmax = t.zmax != null ? t.zmax : full.zmax;
        const img = new ImageData(nx, ny);
        for (let r = 0; r < ny; r++) {
          const row = t.z[r];
          for (let q = 0; q < nx; q++) {
            const v = row[q];
            const o = ((ny - 1 - r) * nx + q) * 4;    // z rows go up in y; image rows go down
            if (v == null) { img.data[o + 3] = 0; continue; }
            const k = Math.round(255 * Math.min(1, Math.max(0, (v - zmin) / ((zmax - zmin) || 1)))) * 3;
            img.data[o] = lut[k]; img.data[o + 1] = lut[k + 1]; img.data[o + 2] = lut[k + 2]; img.data[o + 3] = 255;
          }
        }
        const tmp = document.createElement("canvas");
        tmp.width = nx; tmp.height = ny;
        tmp.getContext("2d").putImageData(img, 0, 0);
        const dx = nx > 1 ? (t.x[nx - 1] - t.x[0]) / (nx - 1) : 1, dy = ny > 1 ? (t.y[ny - 1] - t.y[0]) / (ny - 1) : 1;
        const x0 = px(t.x[0] - dx / 2), x1 = px(t.x[nx - 1] + dx / 2);
        const y0 = py(t.y[ny - 1] + dy / 2), y1 = py(t.y[0] - dy / 2);
        ctx.imageSmoothingEnabled = false;
        ctx.globalAlpha = t.opacity != null ? t.opacity : 1;
        ctx.drawImage(tmp, x0, y0, x1 - x0, y1 - y0);
        ctx.globalAlpha = 1;
      } else if ((t.mode || "").indexOf("markers") >= 0) {
        const m = t.marker || {};
        const col = parseColor(m.color || "#444");
        ctx.fillStyle = `rgb(${col[0]},${col[1]},${col[2]})`;
        ctx.globalAlpha = (m.opacity != null ? m.opacity : 1) * col[3];
        const r = (m.size || 6) / 2;
        ctx.beginPath();
        for (let i = 0; i < t.x.length; i++) {
          if (t.x[i] == null || t.y[i] == null) continue;
          const X = px(t.x[i]), Y = py(t.y[i]);
          ctx.moveTo(X + r, Y);
          ctx.arc(X, Y, r, 0, 2 * Math.PI);
        }
        ctx.fill();
        ctx.globalAlpha = 1;
      } else if ((t.mode || "").indexOf("lines") >= 0) {
        const ln = t.line || {};
        ctx.strokeStyle = ln.color || "#444";
        ctx.lineWidth = ln.width || 1;
        ctx.beginPath();
        let pen = false;
        for (let i = 0; i < t.x.length; i++) {
          if (t.x[i] == null || t.y[i] == null) { pen = false; continue; }
          const X = px(t.x[i]), Y = py(t.y[i]);
          if (pen) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
          pen = true;
        }
        ctx.stroke();
      }
    }
    return true;
  }

  let lastFullAt = 0;
  function renderFeedFrame(figures, frameNo) {
    const now = performance.now();
    if (now - lastFullAt < FULL_EVERY_MS) {
      const rest = {};
      let fastCount = 0;
      const t0 = performance.now();
      for (const name in figures) {
        if (divs[name] && fastDraw(divs[name], figures[name])) fastCount += 1; else rest[name] = figures[name];
      }
      if (fastCount) {
        window.__liveFigure.fastFrames = (window.__liveFigure.fastFrames || 0) + 1;
        return renderFigures(rest, frameNo, t0);
      }
    }
    lastFullAt = now;
    return renderFigures(figures, frameNo).then(function () {
      for (const name in figures) if (divs[name] && divs[name].__overlay) fastDraw(divs[name], figures[name]);
    });
  }

  function renderFigures(figures, frameNo, startedAt) {
    const t0 = startedAt || performance.now();
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
        if (frame.figures) await renderFeedFrame(frame.figures, -n);
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
