// Wires the live figure's scripts: each Streamlit render message updates drawing, feed, header and figures.
(function (LF) {
  "use strict";
  const S = LF.state;

  function render(args) {
    const figures = LF.arrays.decodeFigures(args.figures || {});
    S.columns = args.columns || [Object.keys(figures)];
    S.lastArgsHeight = args.height || 0;
    LF.figures.layoutColumns(S.columns, args.widths || []);
    LF.draw.sync(args);
    const feed = args.feed || null;
    LF.feed.follow(feed, args.feed_min_gap_ms || 50);
    S.fastNames = args.fast || [];
    S.playingNow = !!args.playing;
    LF.header.render(args.header, args.step);
    LF.header.showError(args.error);
    if (!feed) LF.overlay.hideAll();
    LF.figures.render(figures, args.frame);
  }

  LF.protocol.start(function (args) {
    try { render(args); } catch (e) { LF.dom.hint.textContent = "figure error: " + e; }
  });
})(window.LF);
