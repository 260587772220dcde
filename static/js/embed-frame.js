// Inside an embedded poll (/q/<id>/embed): tells the page around it how tall the poll is (see
// embed.js), and asks the server whether the browser kept this frame's voter cookie. Where it did
// not (third-party cookies blocked), voting here cannot work: the form gives way to "Vote on
// Beebeta", which opens the question in a new tab.
(function () {
  "use strict";

  var framed = window.parent && window.parent !== window;

  function reportHeight() {
    if (!framed) return;
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    var id = document.querySelector("article.question[data-question]");
    window.parent.postMessage({
      type: "beebeta:embed-height",
      question: id ? id.getAttribute("data-question") : null,
      height: height
    }, "*");
  }

  function voteElsewhere(form) {
    form.hidden = true;
    Array.prototype.forEach.call(document.querySelectorAll(".withdraw-form"), function (f) { f.hidden = true; });
    var note = document.querySelector(".embed-vote-elsewhere");
    if (note) note.hidden = false;
    reportHeight();
  }

  function probe() {
    var form = document.querySelector("form.vote-form[data-probe]");
    if (!form || typeof window.fetch !== "function") return;
    window.fetch(form.getAttribute("data-probe"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body && body.voter === false) voteElsewhere(form);
      })
      .catch(function () { /* the form stays; a vote without the cookie is refused with the same offer */ });
  }

  function init() {
    reportHeight();
    // embed.js may load after this frame: it asks, and is told.
    window.addEventListener("message", function (ev) {
      if (ev.source === window.parent && ev.data && ev.data.type === "beebeta:embed-ask") reportHeight();
    });
    probe();
    if (typeof window.ResizeObserver === "function") {
      new window.ResizeObserver(reportHeight).observe(document.documentElement);
    } else {
      window.addEventListener("resize", reportHeight);
    }
    window.addEventListener("load", reportHeight);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
