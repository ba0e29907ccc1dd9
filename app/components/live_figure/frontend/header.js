// The metric row above the figures (with steps/s measured in this browser) and the error box.
(function (LF) {
  "use strict";
  const S = LF.state, header = LF.dom.header, errorBox = LF.dom.errorBox;
  let rate = null;            // {step, t, ema}: steps/s shown in the header

  function render(items, step) {
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
      if (S.playingNow) cells.splice(1, 0, ["steps / s", rate.ema == null ? "…" : Math.round(rate.ema).toLocaleString(),
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

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.style.display = text ? "block" : "none";
  }

  LF.header = { render: render, showError: showError };
})(window.LF);
