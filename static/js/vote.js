/* Beebeta — progressive enhancement for voting, withdrawing and sharing.
 * Everything works without this file (plain form posts); this only makes it smoother.
 * No dependencies, ES2019, no inline handlers, no inline styles (CSP friendly). */
(function () {
  "use strict";

  var HIDDEN_TEXT = "Results are shown after you vote.";

  /* Which ballots the results count on this page: "verified" with ?trust=verified, else "all". */
  function trustView() {
    var m = /[?&]trust=([^&#]*)/.exec(window.location.search);
    return m && m[1] === "verified" ? "verified" : "all";
  }

  function trustQuery() {
    return trustView() === "verified" ? "?trust=verified" : "";
  }

  function apiVoteUrl(id) {
    return "/api/v1/questions/" + encodeURIComponent(id) + "/vote" + trustQuery();
  }

  function apiResultsUrl(id) {
    return "/api/v1/questions/" + encodeURIComponent(id) + "/results" + trustQuery();
  }

  /* 42.5 -> "42.5", 100 -> "100", 0 -> "0", 33.3333 -> "33.3" */
  function formatPercent(p) {
    var n = Number(p);
    if (!isFinite(n)) {
      n = 0;
    }
    return String(Math.round(n * 10) / 10);
  }

  function votesText(n) {
    return n + " vote" + (Number(n) === 1 ? "" : "s");
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  /* ---------- messages ---------- */

  function messageBox(form) {
    var box = form.querySelector(".form-msg");
    if (!box) {
      box = el("p", "form-msg");
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      form.appendChild(box);
    }
    return box;
  }

  function showMessage(form, text, isError) {
    if (!form) {
      return;
    }
    var box = messageBox(form);
    box.classList.toggle("is-error", !!isError);
    box.setAttribute("role", isError ? "alert" : "status");
    box.textContent = text;
  }

  function clearMessage(form) {
    var box = form && form.querySelector(".form-msg");
    if (box) {
      box.textContent = "";
      box.classList.remove("is-error");
    }
  }

  function errorMessage(data, status) {
    if (data && data.error && data.error.message) {
      return String(data.error.message);
    }
    return "Sorry, something went wrong (" + status + "). Please try again.";
  }

  function readJson(resp) {
    return resp.json().catch(function () {
      return null;
    });
  }

  /* ---------- forms ---------- */

  function voteFormFor(id) {
    var forms = document.querySelectorAll("form.vote-form");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].getAttribute("data-question") === String(id)) {
        return forms[i];
      }
    }
    return null;
  }

  function withdrawFormFor(id) {
    var forms = document.querySelectorAll("form.withdraw-form");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].getAttribute("data-question") === String(id)) {
        return forms[i];
      }
    }
    return null;
  }

  function choiceInputs(form) {
    return Array.prototype.slice.call(form.querySelectorAll('input[name="choice"]'));
  }

  function submitButton(form) {
    return form.querySelector('button[type="submit"]');
  }

  /* Map of choice id -> label text, taken from the vote form's labels. */
  function choiceLabels(form) {
    var labels = {};
    if (!form) {
      return labels;
    }
    choiceInputs(form).forEach(function (input) {
      var label = input.closest("label");
      var text = "";
      if (label) {
        var span = label.querySelector(".choice-label");
        text = (span ? span.textContent : label.textContent) || "";
      }
      labels[String(input.value)] = text.trim();
    });
    return labels;
  }

  /* ---------- results rendering ---------- */

  function resultsSection() {
    return document.getElementById("results");
  }

  function ensureTitle(section) {
    var title = section.querySelector(".results-title");
    if (!title) {
      title = el("h2", "results-title", "Results");
      section.insertBefore(title, section.firstChild);
    }
    return title;
  }

  function clearBody(section, keep) {
    Array.prototype.slice.call(section.children).forEach(function (child) {
      if (child !== keep) {
        section.removeChild(child);
      }
    });
  }

  function renderHidden(section, reason) {
    if (!section) {
      return;
    }
    var existing = section.querySelector(".results-hidden");
    var text = reason || (existing && existing.textContent.trim()) || HIDDEN_TEXT;
    var title = ensureTitle(section);
    clearBody(section, title);
    section.removeAttribute("data-total");
    section.appendChild(el("p", "muted-box results-hidden", text));
  }

  /* The links to the results as files (shown with results only, as the page renders them). */
  function appendDownloads(section) {
    var base = section.getAttribute("data-downloads");
    if (!base) {
      return;
    }
    var p = el("p", "results-downloads", "Download the results: ");
    var csv = el("a", null, "CSV");
    csv.href = base + ".csv";
    csv.setAttribute("download", "");
    var json = el("a", null, "JSON");
    json.href = base + ".json";
    json.type = "application/json";
    p.appendChild(csv);
    p.appendChild(document.createTextNode(" · "));
    p.appendChild(json);
    section.appendChild(p);
  }

  /* results: {total, choices: [{id, votes, percent}], as_of}; mine: array of ids; labels: id -> text */
  function renderResults(section, results, mine, labels) {
    if (!section) {
      return;
    }
    if (!results) {
      renderHidden(section, null);
      return;
    }
    /* Counts carry when they were read: never replace newer ones (e.g. those right after the
       visitor's own vote) with older ones from a cache. */
    var asOf = Number(results.as_of) || 0;
    var shownAsOf = Number(section.getAttribute("data-as-of")) || 0;
    if (asOf && shownAsOf && asOf < shownAsOf) {
      return;
    }
    if (asOf) {
      section.setAttribute("data-as-of", String(asOf));
    }
    var mineSet = {};
    (mine || []).forEach(function (id) {
      mineSet[String(id)] = true;
    });
    var choices = Array.isArray(results.choices) ? results.choices : [];
    var maxVotes = 0;
    choices.forEach(function (c) {
      var v = Number(c.votes) || 0;
      if (v > maxVotes) {
        maxVotes = v;
      }
    });

    var title = ensureTitle(section);
    clearBody(section, title);
    var total = Number(results.total) || 0;
    section.setAttribute("data-total", String(total));
    var everyone = appendTrust(section, results, total);

    var list = el("ol", "result-list");
    choices.forEach(function (c) {
      var id = String(c.id);
      var votes = Number(c.votes) || 0;
      var leading = maxVotes > 0 && votes === maxVotes;
      var isMine = !!mineSet[id];
      var pct = formatPercent(c.percent);

      var row = el("li", "result-row");
      if (leading) {
        row.classList.add("leading");
      }
      if (isMine) {
        row.classList.add("mine");
      }
      row.setAttribute("data-choice", id);

      var head = el("div", "result-head");
      var label = el("span", "result-label", labels[id] !== undefined ? labels[id] : "Choice " + id);
      if (isMine) {
        label.appendChild(document.createTextNode(" "));
        label.appendChild(el("span", "badge badge-mine", "your vote"));
      }
      var nums = el("span", "result-nums");
      nums.appendChild(el("span", "result-votes", votesText(votes)));
      nums.appendChild(document.createTextNode(" · "));
      nums.appendChild(el("span", "result-percent", pct + "%"));
      head.appendChild(label);
      head.appendChild(nums);

      var bar = el("progress", "bar", pct + "%");
      bar.max = 100;
      bar.value = Math.max(0, Math.min(100, Number(c.percent) || 0));

      row.appendChild(head);
      row.appendChild(bar);
      list.appendChild(row);
    });

    section.appendChild(list);
    if (section.getAttribute("data-kind") === "multiple") {
      var picked = 0;
      choices.forEach(function (c) {
        picked += Number(c.votes) || 0;
      });
      var max = section.getAttribute("data-max") || "several";
      section.appendChild(el("p", "results-total",
        total + " voter" + (total === 1 ? "" : "s") + " picked " + picked + " choice" + (picked === 1 ? "" : "s") +
        " in all. Each voter may pick up to " + max + ", so the percentages (of voters) add up to more than 100 %."));
    } else {
      section.appendChild(el("p", "results-total", votesText(total) + " in total"));
    }
    appendDownloads(section);
    // Keep the header's vote count (of every ballot) in step with the results.
    var headerVotes = document.querySelector(".question-head .votes");
    if (headerVotes) {
      headerVotes.textContent = votesText(everyone);
    }
  }

  /* "All votes | Verified accounts only" and "N votes, M from verified accounts", as the page
     renders them; returns the number of every ballot. */
  function appendTrust(section, results, total) {
    var levels = results.by_trust;
    if (!levels || typeof levels !== "object") {
      return total;
    }
    var everyone = 0;
    ["browser", "network", "account", "verified"].forEach(function (k) {
      everyone += Number(levels[k]) || 0;
    });
    var verified = Number(levels.verified) || 0;
    var view = results.trust === "verified" ? "verified" : "all";
    var base = window.location.pathname;
    var nav = el("nav", "trust-toggle");
    nav.setAttribute("aria-label", "Which votes to count");
    [["all", "All votes", base], ["verified", "Verified accounts only", base + "?trust=verified"]].forEach(function (v) {
      var a = el("a", "", v[1]);
      a.href = v[2];
      a.setAttribute("data-trust", v[0]);
      if (v[0] === view) {
        a.setAttribute("aria-current", "true");
      }
      if (v[0] === "verified") {
        a.rel = "nofollow";
      }
      nav.appendChild(a);
    });
    section.appendChild(nav);
    var line = votesText(everyone) + ", " + verified + " from verified accounts";
    var others = [
      ["browser", "from browsers"],
      ["network", "from browsers within the network limit"],
      ["account", "from accounts without a verified email"]
    ]
      .filter(function (l) {
        return (Number(levels[l[0]]) || 0) > 0;
      })
      .map(function (l) {
        return Number(levels[l[0]]) + " " + l[1];
      });
    if (others.length) {
      line += " (" + others.join(", ") + ")";
    }
    if (view === "verified") {
      line += ": the bars count those " + verified + " only";
    }
    section.appendChild(el("p", "trust-totals", line + "."));
    return everyone;
  }

  /* Reads the results again (after a withdrawal). Counts are cached for half a second, so the
     answer may have been read before what the page shows (e.g. the visitor's own vote a moment
     ago): then it is asked again a little later, a few times, rather than left to the live
     stream, which never sends counts it already sent. */
  function refreshResults(id, form, retries) {
    var section = resultsSection();
    if (!section) {
      return Promise.resolve();
    }
    var left = retries === undefined ? 3 : retries;
    return fetch(apiResultsUrl(id), {
      method: "GET",
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (resp) {
        if (resp.status === 200) {
          return readJson(resp).then(function (data) {
            if (!data) {
              return;
            }
            var shown = Number(section.getAttribute("data-as-of")) || 0;
            if (left > 0 && shown && (Number(data.as_of) || 0) < shown) {
              window.setTimeout(function () {
                refreshResults(id, form, left - 1);
              }, 700);
              return;
            }
            renderResults(section, data, [], choiceLabels(form));
          });
        }
        if (resp.status === 403) {
          renderHidden(section, HIDDEN_TEXT);
        }
        return null;
      })
      .catch(function () {
        /* keep whatever is shown; a reload will show fresh results */
      });
  }

  /* ---------- withdraw ---------- */

  function createWithdrawForm(voteForm, id) {
    var wf = el("form", "withdraw-form");
    wf.method = "post";
    wf.action = "/q/" + encodeURIComponent(id) + "/withdraw";
    wf.setAttribute("data-question", String(id));
    var token = voteForm.querySelector('input[name="csrf_token"]');
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "csrf_token";
    hidden.value = token ? token.value : "";
    var button = el("button", "link", "Withdraw my vote");
    button.type = "submit";
    wf.appendChild(hidden);
    wf.appendChild(button);
    voteForm.insertAdjacentElement("afterend", wf);
    bindWithdrawForm(wf);
    return wf;
  }

  function bindWithdrawForm(wf) {
    if (wf.getAttribute("data-bound") === "1") {
      return;
    }
    wf.setAttribute("data-bound", "1");
    wf.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var id = wf.getAttribute("data-question");
      var voteForm = voteFormFor(id);
      var button = submitButton(wf);
      if (button) {
        button.disabled = true;
      }
      fetch(apiVoteUrl(id), {
        method: "DELETE",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" }
      })
        .then(
          function (resp) {
            if (resp.status === 204 || resp.ok) {
              if (voteForm) {
                choiceInputs(voteForm).forEach(function (input) {
                  input.checked = false;
                });
                var vb = submitButton(voteForm);
                if (vb) {
                  vb.textContent = "Vote";
                }
                showMessage(voteForm, "Your vote was withdrawn.", false);
              }
              if (wf.parentNode) {
                wf.parentNode.removeChild(wf);
              }
              return refreshResults(id, voteForm);
            }
            return readJson(resp).then(function (data) {
              if (button) {
                button.disabled = false;
              }
              showMessage(voteForm || wf, errorMessage(data, resp.status), true);
            });
          },
          function () {
            /* network failure: fall back to the plain form post */
            wf.submit();
          }
        );
    });
  }

  /* ---------- vote ---------- */

  function bindVoteForm(form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var id = form.getAttribute("data-question");
      var kind = form.getAttribute("data-kind");
      var min = parseInt(form.getAttribute("data-min"), 10);
      var max = parseInt(form.getAttribute("data-max"), 10);
      var chosen = choiceInputs(form)
        .filter(function (input) {
          return input.checked;
        })
        .map(function (input) {
          return Number(input.value);
        });

      if (chosen.length === 0) {
        showMessage(form, kind === "multiple" ? "Please choose at least one option." : "Please choose an option.", true);
        return;
      }
      if (kind === "multiple") {
        if (!isNaN(min) && chosen.length < min) {
          showMessage(form, "Please choose at least " + min + " options.", true);
          return;
        }
        if (!isNaN(max) && max > 0 && chosen.length > max) {
          showMessage(form, "Please choose no more than " + max + (max === 1 ? " option." : " options."), true);
          return;
        }
      }

      clearMessage(form);
      var button = submitButton(form);
      if (button) {
        button.disabled = true;
      }
      var labels = choiceLabels(form);

      var attempt = 0;
      var send = function () {
        fetch(apiVoteUrl(id), {
          method: "PUT",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          credentials: "same-origin",
          body: JSON.stringify({ choices: chosen })
        }).then(
          function (resp) {
            if (retryable(resp.status) && attempt < VOTE_RETRIES) {
              retryLater(retryAfter(resp));
              return;
            }
            return readJson(resp).then(function (data) {
              if (button) {
                button.disabled = false;
              }
              if (resp.ok && data && data.ballot) {
                var mine = Array.isArray(data.ballot.choices) ? data.ballot.choices : chosen;
                var mineSet = {};
                mine.forEach(function (cid) {
                  mineSet[String(cid)] = true;
                });
                choiceInputs(form).forEach(function (input) {
                  input.checked = !!mineSet[String(input.value)];
                });
                var section = resultsSection();
                if (data.results) {
                  renderResults(section, data.results, mine, labels);
                } else {
                  renderHidden(section, null);
                }
                if (button) {
                  button.textContent = "Change vote";
                }
                if (!withdrawFormFor(id)) {
                  createWithdrawForm(form, id);
                }
                showMessage(form, "Vote saved", false);
                return;
              }
              if (retryable(resp.status)) {
                showMessage(form, "We could not save your vote — try again.", true);
                return;
              }
              showMessage(form, errorMessage(data, resp.status), true);
            });
          },
          function () {
            /* network failure: try again a few times, then fall back to the plain form post */
            if (attempt < NETWORK_RETRIES) {
              retryLater(null);
              return;
            }
            if (button) {
              button.disabled = false;
            }
            form.submit();
          }
        );
      };
      /* The database (or the site) is not answering: keep the choice, say so, and send the same
         vote again with back-off (the server's Retry-After, else 1, 2, 4 ... 30 s). A vote is
         only ever counted once per voter, so sending it again is safe. */
      var retryLater = function (afterSecs) {
        attempt += 1;
        var backoff = Math.min(30, Math.pow(2, attempt - 1));
        var secs = afterSecs !== null ? Math.min(30, Math.max(afterSecs, backoff)) : backoff;
        var jitter = Math.random() * 0.3 * secs;
        showMessage(form, "Saving your vote…", false);
        setTimeout(send, Math.round((secs + jitter) * 1000));
      };
      send();
    });
  }

  /* How often a vote is sent again while the server answers 502/503/504 (about two minutes of
     back-off in all), and after network failures before the plain form post is tried. */
  var VOTE_RETRIES = 8;
  var NETWORK_RETRIES = 3;

  function retryable(status) {
    return status === 502 || status === 503 || status === 504;
  }

  function retryAfter(resp) {
    var value = resp.headers.get("Retry-After");
    var secs = value === null ? NaN : parseInt(value, 10);
    return isNaN(secs) ? null : secs;
  }

  /* ---------- copy link ---------- */

  function copyText(text, input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      try {
        input.focus();
        input.select();
        if (document.execCommand("copy")) {
          resolve();
        } else {
          reject(new Error("copy failed"));
        }
      } catch (e) {
        reject(e);
      }
    });
  }

  function bindCopyButton(button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) {
      return;
    }
    var original = button.textContent;
    var timer = null;
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(input.value, input).then(
        function () {
          button.textContent = "Copied!";
        },
        function () {
          input.focus();
          input.select();
          button.textContent = "Press Ctrl+C to copy";
        }
      );
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(function () {
        button.textContent = original;
      }, 2000);
    });
  }

  /* ---------- live results (Server-Sent Events) ---------- */

  /* Labels and the visitor's own choices as the page shows them now. */
  function shownLabels(section, form) {
    var labels = {};
    Array.prototype.forEach.call(section.querySelectorAll(".result-row[data-choice]"), function (row) {
      var label = row.querySelector(".result-label");
      if (label) {
        var badge = label.querySelector(".badge");
        var text = label.textContent || "";
        if (badge) {
          text = text.replace(badge.textContent, "");
        }
        labels[row.getAttribute("data-choice")] = text.trim();
      }
    });
    var fromForm = choiceLabels(form);
    Object.keys(fromForm).forEach(function (k) {
      labels[k] = fromForm[k];
    });
    return labels;
  }

  function shownMine(section) {
    return Array.prototype.map.call(section.querySelectorAll(".result-row.mine[data-choice]"), function (row) {
      return row.getAttribute("data-choice");
    });
  }

  function startLive() {
    var article = document.querySelector("article.question[data-question]");
    var section = resultsSection();
    if (!article || !section || typeof window.EventSource !== "function" || article.classList.contains("is-closed")) {
      return;
    }
    var id = article.getAttribute("data-question");
    var source = new window.EventSource("/q/" + encodeURIComponent(id) + "/live" + trustQuery());
    source.addEventListener("results", function (ev) {
      var data;
      try {
        data = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      renderResults(section, data, shownMine(section), shownLabels(section, voteFormFor(id)));
      if (data.status === "closed") {
        source.close();
      }
    });
    /* The browser reconnects by itself after a network error; a refusal (e.g. 503) closes it and
       the page keeps what it shows. */
    window.addEventListener("pagehide", function () {
      source.close();
    });
  }

  function init() {
    startLive();
    Array.prototype.forEach.call(document.querySelectorAll("form.vote-form"), bindVoteForm);
    Array.prototype.forEach.call(document.querySelectorAll("form.withdraw-form"), bindWithdrawForm);
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), bindCopyButton);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
