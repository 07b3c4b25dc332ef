// Progressive enhancement: a form marked data-pp-busy="Signing…" shows that it is being sent. Once it is
// submitted, its button reads the busy text and is disabled (after the browser has taken the form's data, so
// the button's own name and value are still sent), and a second submit is ignored. Without JavaScript the
// form works as before. Loaded from a file, so the strict Content-Security-Policy allows it.
(function () {
  "use strict";

  function reset(form) {
    delete form.dataset.ppSending;
    form.querySelectorAll("button.pp-busy, input.pp-busy").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("aria-disabled");
      button.classList.remove("pp-busy");
      if (button.dataset.ppLabel !== undefined) {
        if (button.tagName === "INPUT") { button.value = button.dataset.ppLabel; } else { button.textContent = button.dataset.ppLabel; }
      }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.ppBusy) { return; }
    if (form.dataset.ppSending) { event.preventDefault(); return; }
    var button = event.submitter || form.querySelector("button[type=submit], input[type=submit], button:not([type])");
    form.dataset.ppSending = "1";
    if (!button) { return; }
    window.setTimeout(function () {
      var label = button.tagName === "INPUT" ? button.value : button.textContent;
      button.dataset.ppLabel = label;
      if (button.tagName === "INPUT") { button.value = form.dataset.ppBusy; } else { button.textContent = form.dataset.ppBusy; }
      button.disabled = true;
      button.setAttribute("aria-disabled", "true");
      button.classList.add("pp-busy");
      var status = form.querySelector("[data-pp-busy-status]");
      if (status) { status.textContent = form.dataset.ppBusy; }
    }, 0);
  });

  // Back to a page kept in the browser's cache: its form can be sent again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { document.querySelectorAll("form[data-pp-busy]").forEach(reset); }
  });
}());
