// The Streamlit components-v1 message protocol, spoken directly (no npm build step): ready, render, value, height.
(function (LF) {
  "use strict";

  function send(type, data) {
    window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type: type }, data), "*");
  }

  LF.protocol = {
    setValue: function (value) { send("streamlit:setComponentValue", { value: value, dataType: "json" }); },
    setHeight: function (height) { send("streamlit:setFrameHeight", { height: height }); },
    // calls render(args) on each render message, then tells Streamlit this iframe is ready for them
    start: function (render) {
      window.addEventListener("message", function (ev) {
        const msg = ev.data;
        if (!msg || msg.type !== "streamlit:render") return;
        render(msg.args || {});
      });
      send("streamlit:componentReady", { apiVersion: 1 });
    },
  };
})(window.LF);
