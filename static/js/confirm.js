// Asks before a destructive action. A form with `data-confirm` (the question) and
// `data-confirm-yes` (the button's words) opens a dialog on submit; "Yes" adds confirm=yes and
// sends the form. Without this script the server answers the same question as a page.
(function () {
  "use strict";

  function ask(form, submitter) {
    var dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    var title = document.createElement("h2");
    title.id = "confirm-dialog-title";
    title.textContent = form.getAttribute("data-confirm");
    dialog.appendChild(title);
    var detail = form.getAttribute("data-confirm-detail");
    if (detail) {
      var p = document.createElement("p");
      p.textContent = detail;
      dialog.appendChild(p);
    }
    var actions = document.createElement("div");
    actions.className = "confirm-actions";
    var yes = document.createElement("button");
    yes.type = "button";
    yes.className = "danger";
    yes.textContent = form.getAttribute("data-confirm-yes") || "Yes";
    var no = document.createElement("button");
    no.type = "button";
    no.className = "secondary";
    no.textContent = "Cancel";
    actions.appendChild(yes);
    actions.appendChild(no);
    dialog.appendChild(actions);
    document.body.appendChild(dialog);

    function close() {
      dialog.close();
      dialog.remove();
      if (submitter && submitter.focus) submitter.focus();
    }
    no.addEventListener("click", close);
    dialog.addEventListener("cancel", function (e) {
      e.preventDefault();
      close();
    });
    yes.addEventListener("click", function () {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "confirm";
      input.value = "yes";
      form.appendChild(input);
      dialog.close();
      dialog.remove();
      form.submit();
    });
    dialog.showModal();
    no.focus();
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (form.querySelector('input[name="confirm"][value="yes"]')) return;
    if (typeof HTMLDialogElement !== "function") return; // the server asks instead
    e.preventDefault();
    ask(form, e.submitter);
  });
})();
