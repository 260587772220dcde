// Sizes Beebeta polls embedded in this page to their content.
//
// Paste it once, after the frames (the snippet from "Embed" on a question page includes it):
//   <iframe src="https://beebeta.example/q/12/embed" width="560" height="784"
//           title="Poll: ..." style="border:0;max-width:100%" loading="lazy" data-beebeta-embed></iframe>
//   <script async src="https://beebeta.example/static/js/embed.js"></script>
//
// Each poll posts {type: "beebeta:embed-height", height} to this page when its height changes;
// this script sets the height of the frame it came from (only frames marked data-beebeta-embed,
// and only messages from the origin of that frame's src). A poll that loaded before this script
// is asked for its height ({type: "beebeta:embed-ask"}, sent to each marked frame's origin).
(function () {
  "use strict";
  if (window.beebetaEmbedResizer) return;
  window.beebetaEmbedResizer = true;

  window.addEventListener("message", function (ev) {
    var data = ev.data;
    if (!data || data.type !== "beebeta:embed-height" || typeof data.height !== "number") return;
    var frames = document.querySelectorAll("iframe[data-beebeta-embed]");
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      if (frame.contentWindow !== ev.source) continue;
      var origin;
      try {
        origin = new URL(frame.src, window.location.href).origin;
      } catch (e) {
        return;
      }
      if (origin !== ev.origin) return;
      var height = Math.max(80, Math.min(4000, Math.ceil(data.height)));
      frame.style.height = height + "px";
      frame.setAttribute("height", String(height));
      return;
    }
  });

  function ask(frame) {
    try {
      var origin = new URL(frame.src, window.location.href).origin;
      if (frame.contentWindow) frame.contentWindow.postMessage({ type: "beebeta:embed-ask" }, origin);
    } catch (e) {
      /* not loaded yet: it reports on its own */
    }
  }

  function askAll() {
    var frames = document.querySelectorAll("iframe[data-beebeta-embed]");
    for (var i = 0; i < frames.length; i++) {
      ask(frames[i]);
      frames[i].addEventListener("load", function (ev) { ask(ev.target); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", askAll);
  } else {
    askAll();
  }
})();
