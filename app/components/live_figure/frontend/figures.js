// The Plotly divs: laid out in columns once, updated in place with Plotly.react, or painted fast during the feed.
(function (LF) {
  "use strict";
  const S = LF.state, root = LF.dom.root;
  const FULL_EVERY_MS = 10000;      // while the feed plays, Plotly still draws everything this often
  let columnsKey = "";
  let lastHeight = -1;
  let lastFullAt = 0;

  // (re)builds the columns of divs only when the names or widths change, so figures are never remounted
  function layoutColumns(columns, widths) {
    const key = JSON.stringify([columns, widths]);
    if (key === columnsKey) return;
    columnsKey = key;
    root.innerHTML = "";
    for (const name in S.divs) { try { Plotly.purge(S.divs[name]); } catch (e) {} delete S.divs[name]; }
    columns.forEach(function (names, i) {
      const col = document.createElement("div");
      col.className = "col";
      col.style.flex = String(widths[i] || 1);
      names.forEach(function (name) {
        const d = document.createElement("div");
        d.className = "fig";
        d.dataset.name = name;
        col.appendChild(d);
        S.divs[name] = d;
      });
      root.appendChild(col);
    });
  }

  // The axes of a layout with equal units kept by shrinking the plot area (scaleanchor, constrain "domain"):
  // Plotly.react from one aspect to another keeps the old plot area and widens the new ranges to fill it
  // (plotly 3; "range" has no such problem), so when they change they are set again by a relayout (which
  // keeps the div, its handlers and its overlay canvas).
  function anchoredAxes(layout) {
    const axes = Object.keys(layout).filter(function (k) { return /^[xy]axis\d*$/.test(k) && layout[k]; }).sort();
    const anchored = axes.some(function (k) { return layout[k].scaleanchor; });
    return anchored && axes.some(function (k) { return layout[k].constrain === "domain"; }) ? axes : [];
  }

  function rangeUpdate(layout, axes) {
    const out = {};
    axes.forEach(function (k) { if (layout[k].range) out[k + ".range"] = layout[k].range.slice(); });
    return out;
  }

  function render(figures, frameNo, startedAt) {
    const t0 = startedAt || performance.now();
    const jobs = [];
    for (const name in figures) {
      const d = S.divs[name];
      if (!d) continue;
      const fig = figures[name];
      S.latest[name] = fig;
      const data = fig.data.slice();
      const extra = LF.draw.extraFor(name);
      if (extra) data.push(extra);
      const layout = Object.assign({ autosize: true }, fig.layout);
      if (LF.draw.isTarget(name)) layout.dragmode = false;
      LF.overlay.hide(d);                // Plotly now draws the real thing
      d.__geom = null;
      d.__layoutKey = LF.overlay.layoutKey(fig);
      d.__config = d.__config || LF.camera.plotConfig(name);
      const axes = anchoredAxes(layout);
      const ranges = JSON.stringify(axes.map(function (k) { return [k, layout[k].range, layout[k].scaleanchor]; }));
      const moved = d.__ranges !== undefined && axes.length > 0 && ranges !== d.__ranges;
      d.__ranges = ranges;
      const update = moved ? rangeUpdate(layout, axes) : null;     // before react, which writes into layout
      const job = Plotly.react(d, data, layout, d.__config);
      jobs.push(update ? job.then(function () { return Plotly.relayout(d, update); }) : job);
      if (!d.__relayoutBound && d.on) {
        d.__relayoutBound = true;
        d.on("plotly_relayout", function () { LF.overlay.hide(d); d.__geom = null; });
      }
      if (name === LF.draw.firstName() && !d.__clickBound) {
        d.__clickBound = true;
        d.addEventListener("click", function (ev) { LF.draw.onPlotClick(d, ev); });
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
      const h = Math.max(S.lastArgsHeight, document.body.scrollHeight);
      if (h !== lastHeight) { lastHeight = h; LF.protocol.setHeight(h); }
    });
  }

  // A frame from the feed: `fast` figures go to their canvas when they can, the rest (and all of them every
  // FULL_EVERY_MS) to Plotly.
  function renderFeed(figures, frameNo) {
    const now = performance.now();
    const full = now - lastFullAt >= FULL_EVERY_MS;
    const rest = {};
    let fastCount = 0;
    for (const name in figures) {
      S.latest[name] = figures[name];
      const d = S.divs[name], extra = LF.draw.extraFor(name);
      if (!full && S.fastNames.indexOf(name) >= 0 && d && LF.overlay.paint(d, figures[name], extra)) fastCount += 1;
      else rest[name] = figures[name];
    }
    if (fastCount) window.__liveFigure.fastFrames = (window.__liveFigure.fastFrames || 0) + 1;
    if (full) lastFullAt = now;
    return render(rest, frameNo, now).then(function () {
      if (full) window.__liveFigure.fullMs = performance.now() - now;
    });
  }

  LF.figures = { layoutColumns: layoutColumns, render: render, renderFeed: renderFeed };
})(window.LF);
