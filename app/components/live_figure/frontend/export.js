// The camera button's PNG export: the latest frame as the user sees it, however it was last drawn.
(function (LF) {
  "use strict";
  const S = LF.state;

  // The latest frame as the user sees it: their zoom (axis ranges) and the traces they hid in the legend.
  function exportPng(name) {
    const d = S.divs[name], fig = S.latest[name];
    if (!d || !fig) return;
    const fl = d._fullLayout || {}, fd = d._fullData || [];
    const data = fig.data.map((t, i) => (fd[i] && fd[i].visible !== true ? Object.assign({}, t, { visible: fd[i].visible }) : t));
    const extra = LF.draw.extraFor(name);
    if (extra) data.push(extra);
    const layout = Object.assign({}, fig.layout, { width: fl.width, height: fl.height });
    for (const key in fl) {
      if (/^[xy]axis\d*$/.test(key) && fl[key] && fl[key].range) {
        layout[key] = Object.assign({}, fig.layout[key] || {}, { range: fl[key].range.slice(), autorange: false });
      }
    }
    Plotly.downloadImage({ data: data, layout: layout },
                         { format: "png", filename: "playground-" + name, scale: 2, width: fl.width, height: fl.height });
  }

  // one config object per div: a new one (new button closure) would make react redraw from scratch
  function plotConfig(name) {
    return { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["toImage"],
             modeBarButtonsToAdd: [{ name: "Download plot as a PNG", icon: Plotly.Icons.camera,
                                     click: function () { exportPng(name); } }] };
  }

  LF.camera = { exportPng: exportPng, plotConfig: plotConfig };
})(window.LF);
