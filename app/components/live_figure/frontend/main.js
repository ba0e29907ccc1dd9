// Keeps Plotly figures alive in this iframe and updates them in place with Plotly.react.
// Speaks the Streamlit components-v1 message protocol directly (no npm build step).
(function () {
  "use strict";
  const root = document.getElementById("root");
  const hint = document.getElementById("hint");
  const divs = {};            // figure name -> div
  let columnsKey = "";
  let drawMode = false;
  let drawn = [];             // points the user clicked, in data coordinates
  let nonce = 0;
  let lastHeight = -1;
  let epoch = null;           // a new epoch from Python clears the drawing
  window.__liveFigure = { frames: 0, times: [], lastFrame: -1 };

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

  function render(args) {
    const figures = args.figures || {};
    const columns = args.columns || [Object.keys(figures)];
    layoutColumns(columns, args.widths || []);
    drawMode = !!args.draw;
    if (args.draw_epoch !== epoch) {
      epoch = args.draw_epoch;
      drawn = (args.draw_points || []).slice();
      nonce = 0;
    }
    hint.textContent = drawMode ? "Draw mode: click the plot to add points (shift-click adds a cloud)." : "";
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
    Promise.all(jobs).then(function () {
      const lf = window.__liveFigure;
      lf.frames += 1;
      lf.lastFrame = args.frame;
      lf.times.push(performance.now());
      lf.renderMs = performance.now() - t0;
      if (lf.times.length > 2000) lf.times.splice(0, 1000);
      document.body.dataset.frames = String(lf.frames);
      document.body.dataset.lastFrame = String(args.frame);
      const h = Math.max(args.height || 0, document.body.scrollHeight);
      if (h !== lastHeight) { lastHeight = h; send("streamlit:setFrameHeight", { height: h }); }
    });
  }

  window.addEventListener("message", function (ev) {
    const msg = ev.data;
    if (!msg || msg.type !== "streamlit:render") return;
    try { render(msg.args || {}); } catch (e) { hint.textContent = "figure error: " + e; }
  });
  send("streamlit:componentReady", { apiVersion: 1 });
})();
