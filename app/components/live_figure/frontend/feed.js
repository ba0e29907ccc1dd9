// The feed puller: while the server's frame feed plays, fetch frames from it and draw them (no script reruns).
(function (LF) {
  "use strict";
  const S = LF.state;
  // Two requests stay in flight: a frame's time is mostly waiting (the training process answering between
  // its steps, the loopback round trip), not CPU, so overlapping two requests nearly doubles the rate.
  const IN_FLIGHT = 2;
  const CURVES_EVERY = 10;    // loss and metric curves move slowly: about once a second
  let feedUrl = null;         // while set, frames are pulled from the server's feed instead of script reruns
  let feedGen = 0;            // bumps to end an older pull loop

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // Pull frames while playing. The next frame is requested as soon as the current one arrives, so the
  // server builds it while the browser draws this one; at most one frame per `minGapMs`.
  function fetchFrame(url, curves) {
    const t0 = performance.now();
    return fetch(url + "?curves=" + (curves ? 1 : 0), { cache: "no-store" }).then(function (r) {
      window.__liveFigure.serverTiming = r.headers.get("Server-Timing");
      if (r.status === 404) return { gone: true };
      return r.ok ? r.json() : null;
    }).then(function (f) {
      const lf = window.__liveFigure;
      lf.fetchMs = performance.now() - t0;
      lf.fetchTotalMs = (lf.fetchTotalMs || 0) + lf.fetchMs;
      return f;
    }).catch(function () { window.__liveFigure.feedErrors += 1; return null; });
  }

  async function pull(gen, url, minGapMs) {
    let n = 0, asked = 0;
    const queue = [];
    const ask = () => { queue.push(fetchFrame(url, asked % CURVES_EVERY === 0)); asked += 1; };
    while (queue.length < IN_FLIGHT) ask();
    while (gen === feedGen) {
      const t = performance.now();
      const frame = await queue.shift();
      if (gen !== feedGen) return;
      if (frame && frame.gone) { stop("gone"); return; }
      if (frame && frame.playing) ask();
      if (frame) {
        n += 1;
        window.__liveFigure.feedFrames += 1;
        S.playingNow = !!frame.playing;
        LF.header.render(frame.header, frame.step);
        LF.header.showError(frame.error);
        if (frame.figures) await LF.figures.renderFeed(LF.arrays.decodeFigures(frame.figures), -n);
        if (!frame.playing) { if (gen === feedGen) stop("stopped"); return; }
      } else {
        await sleep(500);
        while (queue.length < IN_FLIGHT) ask();
      }
      const dt = performance.now() - t;
      if (dt < minGapMs) await sleep(minGapMs - dt);
    }
  }

  function stop(why) {
    feedGen += 1;
    feedUrl = null;
    S.nonce += 1;   // tell the page (a rerun) that playing stopped on the server's side
    LF.protocol.setValue({ event: why, nonce: S.nonce, epoch: S.epoch, points: S.drawn });
  }

  // follows the feed at `url` (null: none); a new URL ends the old pull loop and starts another
  function follow(url, minGapMs) {
    if (url === feedUrl) return;
    feedGen += 1;
    feedUrl = url;
    if (url) pull(feedGen, url, minGapMs);
  }

  LF.feed = { follow: follow };
})(window.LF);
