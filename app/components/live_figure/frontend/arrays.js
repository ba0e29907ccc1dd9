// Decodes the base64 float32 arrays Python sends for long traces (see playground/plotly_arrays.py).
(function (LF) {
  "use strict";

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

  // decodes every trace's x, y and z in place
  function decodeFigures(figures) {
    for (const name in figures || {}) {
      for (const t of figures[name].data || []) for (const k of ["x", "y", "z"]) if (t[k]) t[k] = decodeArray(t[k]);
    }
    return figures;
  }

  LF.arrays = { decodeFigures: decodeFigures };
})(window.LF);
