// The live figure's one namespace (window.LF): page elements and the state the other scripts share, plus test counters.
window.LF = (function () {
  "use strict";
  const el = id => document.getElementById(id);
  // read by the browser tests and the benches (frames drawn, feed pulls, timings)
  window.__liveFigure = { frames: 0, times: [], lastFrame: -1, feedFrames: 0, feedErrors: 0 };
  return {
    dom: { root: el("root"), hint: el("hint"), header: el("header"), errorBox: el("error") },
    state: {
      divs: {},             // figure name -> div
      latest: {},           // figure name -> the newest spec received (what the camera button exports)
      columns: [],          // figure names per column, top to bottom
      drawMode: false,
      drawn: [],            // points the user clicked, in data coordinates
      nonce: 0,             // bumps with every value sent to Python
      epoch: null,          // a new epoch from Python clears the drawing
      playingNow: false,
      fastNames: [],        // figures the canvas may paint while the feed plays
      lastArgsHeight: 0,    // the height Python asked for
    },
  };
})();
