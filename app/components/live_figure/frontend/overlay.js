// The canvas laid over a "fast" figure's plot area while the feed plays: when it may paint, where, and hiding it.
(function (LF) {
  "use strict";
  const S = LF.state;
  // Plotly re-renders a whole figure on each react; with software rendering (no GPU, headless) the field's
  // 1,000 markers, arrows and heatmap took 50-400 ms and the two curve figures 60-80 ms a second, CPU that
  // training did not get. While the feed plays, figures named in `fast` whose layout has not changed since
  // Plotly last drew them are painted on a canvas over their plot area instead: Plotly's trace layers are
  // hidden, its axes, grid, legend and colorbar stay (pointer events pass through, so zoom and pan still
  // work and the canvas follows the axes). Python keeps layouts stable (round-number ranges with headroom),
  // so Plotly redraws only when an axis range must grow, every few seconds, and when the feed stops.
  // The camera button always exports the latest frame, whichever way it was drawn.
  const OK_TYPES = { heatmap: 1, scatter: 1, scattergl: 1 };

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
  window.addEventListener("resize", function () { for (const name in S.divs) S.divs[name].__geom = null; });

  function setTraceLayers(g, visible) {
    for (const el of g.layers) el.style.visibility = visible ? "" : "hidden";
  }

  function hide(d) {
    const c = d.__overlay;
    if (!c || c.style.display === "none") return;
    c.style.display = "none";
    if (c.__geom) setTraceLayers(c.__geom, true);   // the layers this canvas hid (d.__geom may be reset)
  }

  function hideAll() {
    for (const name in S.divs) hide(S.divs[name]);
  }

  function axisOf(fl, ref, letter) {
    return fl[letter + "axis" + (ref && ref.length > 1 ? ref.slice(1) : "")];
  }

  // data -> pixel on one axis (log axes map log10 of the value; non-positive values have no pixel)
  function mapper(ax) {
    if (ax.type === "log") return v => (v > 0 ? ax.l2p(Math.log10(v)) : null);
    return v => ax.l2p(v);
  }

  // Paints `fig` (and the `extra` trace, if any) on d's canvas; false when Plotly must draw it instead.
  function paint(d, fig, extra) {
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
      if (t.type === "heatmap") LF.paint.heatmap(ctx, t, fd.find(f => f.type === "heatmap"), px, py);
      else if ((t.mode || "").indexOf("markers") >= 0) LF.paint.markers(ctx, t, px, py);
      else if ((t.mode || "").indexOf("lines") >= 0) LF.paint.lines(ctx, t, px, py);
      ctx.globalAlpha = 1;
    });
    return true;
  }

  LF.overlay = { layoutKey: layoutKey, paint: paint, hide: hide, hideAll: hideAll };
})(window.LF);
