// Click-to-draw on the first figure: the points the user adds, their trace, and sending them back to Python.
(function (LF) {
  "use strict";
  const S = LF.state;

  function trace() {
    return { type: "scatter", mode: "markers", name: "your points", x: S.drawn.map(p => p[0]),
             y: S.drawn.map(p => p[1]), marker: { color: "#e74c3c", size: 7, line: { color: "white", width: 1 } } };
  }

  // the figure drawn on: the first of the first column
  function firstName() {
    return S.columns.length && S.columns[0].length ? S.columns[0][0] : null;
  }

  function isTarget(name) {
    return name === firstName() && S.drawMode;
  }

  // the drawn points as an extra trace for figure `name`, or null when it shows none
  function extraFor(name) {
    return isTarget(name) && S.drawn.length ? trace() : null;
  }

  function onPlotClick(gd, ev) {
    if (!S.drawMode) return;
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
      S.drawn.push([+(x + j * (Math.random() - 0.5)).toFixed(4), +(y + j * (Math.random() - 0.5)).toFixed(4)]);
    }
    S.nonce += 1;
    Plotly.addTraces(gd, [trace()]).then(function () {
      // keep only one copy of the drawn trace
      const idx = gd.data.map((t, i) => (t.name === "your points" ? i : -1)).filter(i => i >= 0);
      if (idx.length > 1) Plotly.deleteTraces(gd, idx.slice(0, -1));
    });
    LF.protocol.setValue({ points: S.drawn, nonce: S.nonce, epoch: S.epoch });
  }

  // draw mode and the drawing from the render arguments (a new draw_epoch replaces the drawing)
  function sync(args) {
    S.drawMode = !!args.draw;
    if (args.draw_epoch !== S.epoch) {
      S.epoch = args.draw_epoch;
      S.drawn = (args.draw_points || []).slice();
      S.nonce = 0;
    }
    LF.dom.hint.textContent = S.drawMode ? "Draw mode: click the plot to add points (shift-click adds a cloud)." : "";
  }

  LF.draw = { trace: trace, firstName: firstName, isTarget: isTarget, extraFor: extraFor, onPlotClick: onPlotClick,
              sync: sync };
})(window.LF);
