// Canvas painters for the fast frames: a Plotly heatmap, markers and lines drawn as Plotly would, much cheaper.
(function (LF) {
  "use strict";
  const DASHES = { dot: [2, 3], dash: [6, 4], dashdot: [6, 3, 2, 3], longdash: [10, 4] };
  const luts = {};
  const heatCanvas = document.createElement("canvas");
  const gap = v => v == null || v !== v;    // null (JSON) or NaN (typed arrays)

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

  // `full` is Plotly's resolved trace (its colorscale and z range); px, py map data to canvas pixels
  function heatmap(ctx, t, full, px, py) {
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

  function markers(ctx, t, px, py) {
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

  function lines(ctx, t, px, py) {
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

  LF.paint = { heatmap: heatmap, markers: markers, lines: lines };
})(window.LF);
