/* Ranked-choice voting: turns the numbered selects of a ranking form into a list the voter
   orders by drag and drop or with "up" / "down" buttons (keyboard: Tab to a button, Enter or
   Space; the move is announced in a live region). The order is written back into the selects,
   and the form is posted as it is without JavaScript: the first N choices of the list are ranked
   1 to N (N = the question's max_ranks), the rest unranked. */
(function () {
  "use strict";

  function items(list) {
    return Array.prototype.slice.call(list.querySelectorAll(".rank-item"));
  }

  function labelOf(item) {
    var l = item.querySelector(".rank-label");
    return l ? l.textContent.trim() : "";
  }

  function enhance(form) {
    var list = form.querySelector(".rank-list");
    var status = form.querySelector(".rank-status");
    if (!list || form.getAttribute("data-enhanced")) {
      return;
    }
    form.setAttribute("data-enhanced", "1");
    var max = parseInt(form.getAttribute("data-max"), 10) || items(list).length;
    var disabled = !!form.querySelector(".rank-select[disabled]");
    form.classList.add("rank-enhanced");
    var help = form.querySelector(".rank-help");
    if (help) {
      help.textContent = "Put the choices in your order of preference: drag them, or use the up and down buttons." +
        (max < items(list).length ? " Only your top " + max + " count." : "");
    }

    function announce(text) {
      if (status) {
        status.textContent = text;
      }
    }

    function sync() {
      items(list).forEach(function (item, i) {
        var select = item.querySelector(".rank-select");
        var rank = i < max ? String(i + 1) : "";
        if (select) {
          select.value = rank;
        }
        var badge = item.querySelector(".rank-number");
        if (badge) {
          badge.textContent = rank || "–";
        }
        item.classList.toggle("unranked", i >= max);
        var up = item.querySelector(".rank-up");
        var down = item.querySelector(".rank-down");
        if (up) {
          up.disabled = disabled || i === 0;
        }
        if (down) {
          down.disabled = disabled || i === items(list).length - 1;
        }
      });
    }

    function moved(item, focusButton) {
      sync();
      var all = items(list);
      var pos = all.indexOf(item) + 1;
      var text = labelOf(item) + ": position " + pos + " of " + all.length +
        (pos > max ? " (not ranked)." : ".");
      announce(text);
      if (focusButton) {
        var b = item.querySelector(focusButton);
        if (!b || b.disabled) {
          b = item.querySelector(focusButton === ".rank-up" ? ".rank-down" : ".rank-up");
        }
        if (b) {
          b.focus();
        }
      }
    }

    function move(item, delta) {
      var all = items(list);
      var i = all.indexOf(item);
      var j = i + delta;
      if (j < 0 || j >= all.length) {
        return;
      }
      if (delta < 0) {
        list.insertBefore(item, all[j]);
      } else {
        list.insertBefore(item, all[j].nextSibling);
      }
      moved(item, delta < 0 ? ".rank-up" : ".rank-down");
    }

    /* The server lists ranked choices first, in rank order: that order is the starting list. */
    items(list).forEach(function (item) {
      var name = labelOf(item);
      var select = item.querySelector(".rank-select");
      if (select) {
        select.hidden = true;
        select.tabIndex = -1;
      }
      var number = document.createElement("span");
      number.className = "rank-number";
      number.setAttribute("aria-hidden", "true");
      item.insertBefore(number, item.firstChild);
      var handle = document.createElement("span");
      handle.className = "rank-handle";
      handle.setAttribute("aria-hidden", "true");
      handle.textContent = "⠿";
      item.insertBefore(handle, item.firstChild);
      var buttons = document.createElement("span");
      buttons.className = "rank-buttons";
      [["rank-up", "↑", "Move " + name + " up", -1], ["rank-down", "↓", "Move " + name + " down", 1]].forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "secondary " + b[0];
        button.textContent = b[1];
        button.setAttribute("aria-label", b[2]);
        button.addEventListener("click", function () {
          move(item, b[3]);
        });
        buttons.appendChild(button);
      });
      item.appendChild(buttons);
      if (!disabled) {
        item.draggable = true;
      }
      item.addEventListener("dragstart", function (ev) {
        list.setAttribute("data-dragging", item.getAttribute("data-choice"));
        item.classList.add("dragging");
        if (ev.dataTransfer) {
          ev.dataTransfer.effectAllowed = "move";
          ev.dataTransfer.setData("text/plain", item.getAttribute("data-choice"));
        }
      });
      item.addEventListener("dragend", function () {
        item.classList.remove("dragging");
        list.removeAttribute("data-dragging");
      });
      item.addEventListener("dragover", function (ev) {
        if (list.getAttribute("data-dragging")) {
          ev.preventDefault();
        }
      });
      item.addEventListener("drop", function (ev) {
        var id = list.getAttribute("data-dragging");
        if (!id) {
          return;
        }
        ev.preventDefault();
        var dragged = list.querySelector('.rank-item[data-choice="' + id + '"]');
        if (!dragged || dragged === item) {
          return;
        }
        var box = item.getBoundingClientRect();
        var after = ev.clientY > box.top + box.height / 2;
        list.insertBefore(dragged, after ? item.nextSibling : item);
        moved(dragged, null);
      });
    });
    sync();
    form.addEventListener("submit", sync);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form.rank-form"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
