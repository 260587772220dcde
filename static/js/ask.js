/* Beebeta — progressive enhancement for the ask / edit question form.
 * Everything works without this file: "Add a choice" and "Remove" are plain submit buttons the server
 * answers by re-showing the form. This file only makes them instant, hides the limits that only apply
 * to several-answer questions, suggests existing tags and shows what each typed tag will become,
 * previews chosen images (refusing one over the size limit before it is uploaded) and shows the
 * closing time in the visitor's time zone.
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
    button.formNoValidate = true;
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
      button.formNoValidate = true;
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
    toArray(row.querySelectorAll(".image-preview, .file-error")).forEach(function (p) {
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
    var groups = toArray(form.querySelectorAll(".multi-only, .ranked-only"));
    if (radios.length === 0 || groups.length === 0) {
      return;
    }

    function update() {
      var kind = "single";
      radios.forEach(function (r) {
        if (r.checked) {
          kind = r.value;
        }
      });
      groups.forEach(function (group) {
        var shown = group.classList.contains(kind === "ranked" ? "ranked-only" : "multi-only") && kind !== "single";
        group.hidden = !shown;
        if (!shown) {
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

  /* ---------- what each tag will become ----------
   * Mirrors the server's rules (crates/domain/src/text.rs normal_tag): lower case, accents dropped,
   * letters, digits and + # . kept, other runs one dash, a leading # and trailing dashes and dots
   * dropped. Letters the script cannot spell in ASCII are left to the server, which stays the
   * authority and refuses two different tags that would become one. */

  var TAG_SYMBOLS = "+#.";

  function plainLetters(s) {
    return typeof s.normalize === "function" ? s.normalize("NFD").replace(/[\u0300-\u036f]/g, "") : s;
  }

  function spellTag(text, dropEdges) {
    var v = "";
    for (var i = 0; i < text.length; i += 1) {
      var c = text.charAt(i);
      if (/[A-Za-z0-9]/.test(c)) {
        v += c.toLowerCase();
      } else if (TAG_SYMBOLS.indexOf(c) >= 0 && !(dropEdges && c === "#" && !v)) {
        v += c;
      } else if ((v || !dropEdges) && v.charAt(v.length - 1) !== "-") {
        v += "-";
      }
    }
    return dropEdges ? v.replace(/[-.]+$/, "") : v;
  }

  /* {tag, lossy} for a typed tag, or null when only the server can tell. */
  function tagOf(typed) {
    var text = plainLetters(typed.trim());
    if (/[^\x00-\x7f]/.test(text)) {
      return null;
    }
    var tag = spellTag(text.replace(/^#+/, ""), true);
    return { tag: tag, lossy: tag !== spellTag(text.trim(), false) };
  }

  function quoted(s) {
    return "\u201c" + s + "\u201d";
  }

  function describeTags(value) {
    var groups = [];
    var notes = [];
    value.split(",").forEach(function (raw) {
      var typed = raw.trim();
      if (!typed) {
        return;
      }
      var t = tagOf(typed);
      if (!t) {
        notes.push(quoted(typed) + " will be spelled in Latin letters when saved.");
        return;
      }
      if (!/[a-z0-9]/.test(t.tag)) {
        notes.push(quoted(typed) + " is not a tag: it needs a letter or digit.");
        return;
      }
      var group = groups.filter(function (g) {
        return g.tag === t.tag;
      })[0];
      if (!group) {
        groups.push({ tag: t.tag, forms: [typed], lossy: t.lossy });
      } else if (!group.forms.some(function (f) { return f.toLowerCase() === typed.toLowerCase(); })) {
        group.forms.push(typed);
      }
    });
    groups.forEach(function (g) {
      if (g.forms.length > 1) {
        var last = g.forms[g.forms.length - 1];
        notes.push(
          g.forms.slice(0, -1).map(quoted).join(", ") + " and " + quoted(last) +
            (g.forms.length === 2 ? " would both become the tag " : " would all become the tag ") +
            quoted(g.tag) +
            (g.forms.length === 2 ? ": remove one" : ": keep one") +
            " or write them differently."
        );
      } else if (g.lossy) {
        notes.push(quoted(g.forms[0]) + " would become the tag " + quoted(g.tag) + ", losing characters at its start or end.");
      }
    });
    return { tags: groups.map(function (g) { return g.tag; }), notes: notes };
  }

  function bindTagPreview(form) {
    var input = form.querySelector('input[name="tags"]');
    var out = form.querySelector(".tag-preview");
    if (!input || !out) {
      return;
    }
    function show() {
      var d = describeTags(input.value);
      while (out.firstChild) {
        out.removeChild(out.firstChild);
      }
      if (!d.tags.length && !d.notes.length) {
        out.hidden = true;
        return;
      }
      if (d.tags.length) {
        var line = document.createElement("span");
        line.className = "tag-preview-tags";
        line.textContent = "Saved as: " + d.tags.join(", ");
        out.appendChild(line);
      }
      d.notes.forEach(function (note) {
        var warn = document.createElement("span");
        warn.className = "tag-preview-note";
        warn.textContent = note;
        out.appendChild(warn);
      });
      out.hidden = false;
    }
    input.addEventListener("input", show);
    show();
  }

  /* ---------- images: size check and preview before uploading ---------- */

  var IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];

  /* Rounded up, so a file just over the limit never reads as the limit itself. */
  function fileSize(bytes) {
    if (bytes < 1024 * 1024) {
      return Math.max(1, Math.ceil(bytes / 1024)) + " KB";
    }
    return (Math.ceil((bytes / (1024 * 1024)) * 10) / 10).toFixed(1) + " MB";
  }

  /* The field around one file input: the main image's, or a choice row's image line. */
  function fileHolder(input) {
    return input.closest(".field, .choice-image-row") || input.parentNode;
  }

  /* The message after a file input (created on first use). */
  function fileError(input) {
    var holder = fileHolder(input);
    var p = holder.querySelector(".file-error");
    if (p) {
      return p;
    }
    p = document.createElement("p");
    p.className = "field-error file-error";
    p.setAttribute("role", "alert");
    p.hidden = true;
    holder.appendChild(p);
    return p;
  }

  function pickedPreview(input) {
    return fileHolder(input).querySelector(".image-preview.is-picked");
  }

  function clearPicked(input) {
    var old = pickedPreview(input);
    if (old) {
      old.parentNode.removeChild(old);
    }
  }

  function showPicked(input, file) {
    clearPicked(input);
    if (typeof FileReader !== "function") {
      return;
    }
    var preview = document.createElement("span");
    preview.className = "image-preview is-picked";
    var img = document.createElement("img");
    img.alt = "";
    var name = document.createElement("span");
    name.className = "image-name";
    name.textContent = file.name + " (" + fileSize(file.size) + ")";
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", "Remove " + file.name);
    remove.addEventListener("click", function () {
      input.value = "";
      clearPicked(input);
      input.focus();
    });
    preview.appendChild(img);
    preview.appendChild(name);
    preview.appendChild(remove);
    var label = input.closest("label.file-label");
    (label || input).insertAdjacentElement("afterend", preview);
    /* data: URLs, as the Content-Security-Policy allows images from 'self' and data: only */
    var reader = new FileReader();
    reader.addEventListener("load", function () {
      img.src = String(reader.result);
    });
    reader.readAsDataURL(file);
  }

  function checkFile(form, input) {
    var limit = parseInt(form.getAttribute("data-max-upload-bytes"), 10);
    var limitMb = form.getAttribute("data-max-upload-mb");
    var error = fileError(input);
    var file = input.files && input.files[0];
    error.hidden = true;
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    if (!file) {
      clearPicked(input);
      return;
    }
    var problem = null;
    if (file.type && IMAGE_TYPES.indexOf(file.type) < 0) {
      problem = "“" + file.name + "” is not a JPEG, PNG, WebP or GIF image.";
    } else if (!isNaN(limit) && limit > 0 && file.size > limit) {
      problem = "“" + file.name + "” is " + fileSize(file.size) + "; images can be up to " + limitMb + " MB.";
    }
    if (problem) {
      /* Refused here, before anything is uploaded. */
      input.value = "";
      clearPicked(input);
      error.textContent = problem + " Choose another one.";
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      return;
    }
    showPicked(input, file);
  }

  function bindFiles(form) {
    form.addEventListener("change", function (ev) {
      var input = ev.target;
      if (input && input.tagName === "INPUT" && input.type === "file") {
        checkFile(form, input);
      }
    });
  }

  /* ---------- closing time in the visitor's zone ---------- */

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /* The form sends and shows UTC ("YYYY-MM-DDTHH:MM"); the visitor edits a local time and a hidden
   * field carries its UTC value. */
  function bindClosesAt(form) {
    var input = form.querySelector('input[type="datetime-local"][name="closes_at"]');
    var note = form.querySelector("[data-zone-note]");
    if (!input || !note) {
      return;
    }
    var zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      zone = "";
    }
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "closes_at";
    hidden.value = input.value;
    input.insertAdjacentElement("afterend", hidden);
    input.removeAttribute("name");
    if (input.value) {
      var when = new Date(input.value + "Z");
      if (!isNaN(when.getTime())) {
        input.value =
          when.getFullYear() + "-" + pad(when.getMonth() + 1) + "-" + pad(when.getDate()) +
          "T" + pad(when.getHours()) + ":" + pad(when.getMinutes());
      }
    }
    var sync = function () {
      var local = input.value ? new Date(input.value) : null;
      hidden.value = local && !isNaN(local.getTime()) ? local.toISOString().slice(0, 16) : input.value;
    };
    input.addEventListener("input", sync);
    input.addEventListener("change", sync);
    sync();
    note.textContent = zone ? "Times are in your time zone (" + zone.replace(/_/g, " ") + ")." : "Times are in your time zone.";
  }

  function init() {
    toArray(document.querySelectorAll("form.ask-form")).forEach(function (form) {
      bindChoices(form);
      bindKind(form);
      bindTags(form);
      bindTagPreview(form);
      bindFiles(form);
      bindClosesAt(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
