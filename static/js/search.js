// Typeahead for the search boxes: while a visitor types, up to 8 question titles from
// GET /api/v1/search/suggest, asked once typing pauses (200 ms) and remembered per text.
// Without JavaScript the boxes are plain GET forms to /search.
(function () {
  "use strict";

  var DELAY_MS = 200;
  var MIN_CHARS = 2;

  function attach(input) {
    var id = input.id + "-suggestions";
    var list = document.createElement("ul");
    list.id = id;
    list.className = "suggest-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Matching questions");
    list.hidden = true;
    input.insertAdjacentElement("afterend", list);
    input.parentNode.classList.add("has-suggest");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", id);
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("autocomplete", "off");

    var seen = new Map();
    var timer = null;
    var pending = null;
    var active = -1;
    var stopped = false;

    function close() {
      list.hidden = true;
      list.textContent = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function show(items) {
      list.textContent = "";
      active = -1;
      input.removeAttribute("aria-activedescendant");
      if (!items.length || document.activeElement !== input) {
        close();
        return;
      }
      items.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = id + "-" + i;
        li.setAttribute("role", "option");
        var a = document.createElement("a");
        a.href = item.url;
        a.textContent = item.title;
        a.tabIndex = -1;
        li.appendChild(a);
        // Keep the focus in the box until the click lands.
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function move(by) {
      var options = list.querySelectorAll("[role=option]");
      if (!options.length) return;
      if (active >= 0) options[active].removeAttribute("aria-selected");
      // Positions -1 (the box itself) .. n-1, wrapping around.
      var n = options.length + 1;
      active = ((active + 1 + by + n) % n) - 1;
      if (active < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      options[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", options[active].id);
    }

    function ask(text) {
      if (seen.has(text)) {
        show(seen.get(text));
        return;
      }
      if (pending) pending.abort();
      pending = new AbortController();
      fetch("/api/v1/search/suggest?q=" + encodeURIComponent(text), {
        headers: { Accept: "application/json" },
        signal: pending.signal,
      })
        .then(function (r) {
          // Rate-limited or failing: the box is a plain search box again until the page reloads.
          if (!r.ok) {
            if (r.status === 429 || r.status >= 500) stopped = true;
            return { items: [] };
          }
          return r.json();
        })
        .then(function (body) {
          var items = (body && body.items) || [];
          seen.set(text, items);
          if (input.value.trim() === text) show(items);
        })
        .catch(function () { /* aborted by a newer request, or offline */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      var text = input.value.trim();
      if (stopped || text.length < MIN_CHARS) {
        close();
        return;
      }
      timer = setTimeout(function () { ask(text); }, DELAY_MS);
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) return;
      if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
      else if (e.key === "Escape") { close(); }
      else if (e.key === "Enter" && active >= 0) {
        var link = list.querySelectorAll("[role=option] a")[active];
        if (link) { e.preventDefault(); window.location.href = link.href; }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function start() {
    document.querySelectorAll("#site-search-q, input[data-suggest]").forEach(attach);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
