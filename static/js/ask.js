/* Beebeta — progressive enhancement for the ask / edit question form.
 * Everything works without this file: "Add a choice" and "Remove" are plain submit buttons the server
 * answers by re-showing the form. This file only makes them instant, hides the limits that only apply
 * to several-answer questions, and suggests existing tags.
 * No dependencies, ES2019, no inline handlers, no inline styles (CSP friendly). */
(function () {
  "use strict";

  var MIN_ROWS = 2;
  var DEFAULT_MAX_ROWS = 10;
  var DEBOUNCE_MS = 150;

  function toArray(list) {
    return Array.prototype.slice.call(list);
  }

  /* ---------- choice rows ---------- */

  function choiceList(form) {
    return form.querySelector(".choice-list");
  }

  function choiceRows(list) {
    return toArray(list.children).filter(function (el) {
      return el.classList && el.classList.contains("choice-row");
    });
  }

  function maxRows(list) {
    var max = parseInt(list.getAttribute("data-max"), 10);
    return isNaN(max) || max < MIN_ROWS ? DEFAULT_MAX_ROWS : max;
  }

  function minRows(list) {
    var min = parseInt(list.getAttribute("data-min"), 10);
    return isNaN(min) || min < 1 ? MIN_ROWS : min;
  }

  function isRemoveButton(el) {
    return (
      el &&
      el.tagName === "BUTTON" &&
      el.name === "action" &&
      typeof el.value === "string" &&
      el.value.indexOf("remove_choice:") === 0
    );
  }

  function isAddButton(el) {
    return el && el.tagName === "BUTTON" && el.name === "action" && el.value === "add_choice";
  }

  function rowRemoveButton(row) {
    return toArray(row.querySelectorAll("button")).filter(isRemoveButton)[0] || null;
  }

  function makeRemoveButton() {
    var button = document.createElement("button");
    button.type = "submit";
    button.name = "action";
    button.className = "link";
    button.textContent = "Remove";
    return button;
  }

  function addButtonFor(form) {
    return toArray(form.querySelectorAll("button")).filter(isAddButton)[0] || null;
  }

  function ensureAddButton(form, list) {
    var button = addButtonFor(form);
    if (!button) {
      button = document.createElement("button");
      button.type = "submit";
      button.name = "action";
      button.value = "add_choice";
      button.className = "secondary";
      button.textContent = "Add a choice";
      list.parentNode.insertBefore(button, list.nextSibling);
    }
    return button;
  }

  /* Renumber labels and ids, re-point remove buttons, show/hide add/remove as the limits allow. */
  function syncRows(form, list) {
    var rows = choiceRows(list);
    var count = rows.length;
    var canRemove = count > minRows(list);
    var canAdd = count < maxRows(list);

    rows.forEach(function (row, i) {
      var n = i + 1;
      var input = row.querySelector('input[name="choice"]');
      var label = row.querySelector("label");
      var id = "ask-choice-" + n;
      if (input) {
        input.id = id;
      }
      if (label) {
        label.htmlFor = id;
        label.textContent = "Choice " + n;
      }
      var remove = rowRemoveButton(row);
      if (!remove && canRemove) {
        remove = makeRemoveButton();
        var holder = (input && input.parentNode) || row;
        holder.appendChild(remove);
      }
      if (remove) {
        remove.value = "remove_choice:" + i;
        remove.hidden = !canRemove;
      }
    });

    var add = addButtonFor(form);
    if (!add && canAdd) {
      add = ensureAddButton(form, list);
    }
    if (add) {
      add.hidden = !canAdd;
    }
  }

  function addRow(form, list) {
    var rows = choiceRows(list);
    if (rows.length >= maxRows(list) || rows.length === 0) {
      return;
    }
    var row = rows[rows.length - 1].cloneNode(true);
    var input = row.querySelector('input[name="choice"]');
    if (input) {
      input.value = "";
      input.defaultValue = "";
      input.removeAttribute("aria-invalid");
    }
    /* A new row starts without an image: clear the copied file, upload id and preview. */
    toArray(row.querySelectorAll('input[type="file"]')).forEach(function (f) {
      f.value = "";
    });
    toArray(row.querySelectorAll('input[name="choice_image_id"]')).forEach(function (h) {
      h.value = "";
      h.defaultValue = "";
    });
    toArray(row.querySelectorAll(".image-preview")).forEach(function (p) {
      p.parentNode.removeChild(p);
    });
    list.appendChild(row);
    syncRows(form, list);
    if (input) {
      input.focus();
    }
  }

  function removeRow(form, list, button) {
    var rows = choiceRows(list);
    if (rows.length <= minRows(list)) {
      return;
    }
    var row = null;
    for (var i = 0; i < rows.length; i += 1) {
      if (rows[i].contains(button)) {
        row = rows[i];
        break;
      }
    }
    if (!row) {
      return;
    }
    var index = rows.indexOf(row);
    list.removeChild(row);
    syncRows(form, list);

    var left = choiceRows(list);
    var target = left[Math.min(index, left.length - 1)];
    var focusInput = target && target.querySelector('input[name="choice"]');
    if (focusInput) {
      focusInput.focus();
    }
  }

  function bindChoices(form) {
    var list = choiceList(form);
    if (!list) {
      return;
    }
    /* The server renders an add or a remove button whenever choices may change; with neither,
     * editing the choices is not offered, so leave the rows alone. */
    var editable =
      !!addButtonFor(form) ||
      choiceRows(list).some(function (row) {
        return !!rowRemoveButton(row);
      });
    if (!editable) {
      return;
    }
    form.addEventListener("click", function (ev) {
      var button = ev.target && ev.target.closest ? ev.target.closest("button") : null;
      if (!button || !form.contains(button)) {
        return;
      }
      if (isAddButton(button)) {
        ev.preventDefault();
        addRow(form, list);
      } else if (isRemoveButton(button)) {
        ev.preventDefault();
        removeRow(form, list, button);
      }
    });
    syncRows(form, list);
  }

  /* ---------- one answer / several answers ---------- */

  function bindKind(form) {
    var radios = toArray(form.querySelectorAll('input[type="radio"][name="kind"]'));
    var groups = toArray(form.querySelectorAll(".multi-only"));
    if (radios.length === 0 || groups.length === 0) {
      return;
    }

    function update() {
      var multiple = radios.some(function (r) {
        return r.checked && r.value === "multiple";
      });
      groups.forEach(function (group) {
        group.hidden = !multiple;
        if (!multiple) {
          /* A hidden, invalid number would block submission with an unfocusable control. */
          toArray(group.querySelectorAll("input")).forEach(function (input) {
            if (input.validity && !input.validity.valid) {
              input.value = "";
            }
          });
        }
      });
    }

    radios.forEach(function (r) {
      r.addEventListener("change", update);
    });
    update();
  }

  /* ---------- tag suggestions ---------- */

  function bindTags(form) {
    var input = form.querySelector('input[name="tags"]');
    var datalist = document.getElementById("tag-suggestions");
    if (!input || !datalist || typeof fetch !== "function") {
      return;
    }
    var timer = null;
    var seq = 0;

    function splitValue(value) {
      var cut = value.lastIndexOf(",");
      var head = cut >= 0 ? value.slice(0, cut + 1) : "";
      var last = cut >= 0 ? value.slice(cut + 1) : value;
      if (head && !/\s$/.test(head)) {
        head += " ";
      }
      return { head: head, last: last.trim() };
    }

    function fill(head, items) {
      while (datalist.firstChild) {
        datalist.removeChild(datalist.firstChild);
      }
      items.forEach(function (item) {
        if (!item || typeof item.name !== "string") {
          return;
        }
        var option = document.createElement("option");
        option.value = head + item.name;
        if (typeof item.question_count === "number") {
          option.label = item.name + " (" + item.question_count + ")";
        }
        datalist.appendChild(option);
      });
    }

    function lookup() {
      var parts = splitValue(input.value);
      seq += 1;
      var mine = seq;
      if (parts.last.length < 1) {
        fill("", []);
        return;
      }
      fetch("/api/v1/tags?prefix=" + encodeURIComponent(parts.last), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (resp) {
          return resp.ok ? resp.json() : null;
        })
        .then(function (data) {
          if (mine !== seq || !data || !Array.isArray(data.items)) {
            return;
          }
          fill(parts.head, data.items);
        })
        .catch(function () {
          /* suggestions are optional: ignore errors */
        });
    }

    input.addEventListener("input", function () {
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(lookup, DEBOUNCE_MS);
    });
  }

  function init() {
    toArray(document.querySelectorAll("form.ask-form")).forEach(function (form) {
      bindChoices(form);
      bindKind(form);
      bindTags(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
