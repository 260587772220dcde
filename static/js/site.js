/* Beebeta — small enhancements on every page. Without this file the pages show times in UTC and the
 * phone menu still opens and closes (it is a checkbox and its label).
 *  - Times: every <time datetime> is shown in the visitor's time zone. Relative texts ("3 days ago")
 *    stay as they are and get the local date and time as a tooltip; absolute ones ("2026-12-05
 *    18:58 UTC") are rewritten. The UTC text the server wrote is kept in the tooltip.
 *  - Menu: Escape closes the phone menu and gives the focus back to its toggle.
 *  - Share link: where CSS cannot size a text box to its content (field-sizing), the script does,
 *    so the whole link shows.
 * No dependencies, ES2019, no inline handlers or styles (CSP friendly). */
(function () {
  "use strict";

  var RELATIVE = /\bago$|^in\b|^just now$/i;

  function formatter() {
    try {
      return new Intl.DateTimeFormat(undefined, {
        year: "numeric",
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        timeZoneName: "short"
      });
    } catch (e) {
      return null;
    }
  }

  function localTimes(root) {
    var fmt = formatter();
    if (!fmt) {
      return;
    }
    Array.prototype.forEach.call(root.querySelectorAll("time[datetime]:not([data-local])"), function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime()) || !/T/.test(el.getAttribute("datetime"))) {
        return;
      }
      var local = fmt.format(when);
      var shown = (el.textContent || "").trim();
      el.setAttribute("data-local", "");
      if (RELATIVE.test(shown)) {
        el.title = local;
      } else {
        if (shown) {
          el.title = shown;
        }
        el.textContent = local;
      }
    });
  }

  function bindMenu() {
    var toggle = document.getElementById("site-menu-toggle");
    if (!toggle) {
      return;
    }
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && toggle.checked) {
        toggle.checked = false;
        var menu = document.getElementById("site-menu");
        if (menu && menu.contains(document.activeElement)) {
          toggle.focus();
        }
      }
    });
  }

  function fitToContent() {
    if (window.CSS && CSS.supports && CSS.supports("field-sizing", "content")) {
      return;
    }
    var boxes = document.querySelectorAll("textarea.share-url");
    if (!boxes.length) {
      return;
    }
    var fit = function () {
      Array.prototype.forEach.call(boxes, function (box) {
        box.style.height = "auto";
        box.style.height = box.scrollHeight + 2 + "px";
      });
    };
    fit();
    window.addEventListener("resize", fit);
  }

  function init() {
    localTimes(document);
    bindMenu();
    fitToContent();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
