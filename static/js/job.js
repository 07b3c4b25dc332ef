// Progressive enhancement for a background job's page (templates/tracking/job.html): ask for the job's status
// every 2 seconds, slowing to every 10 while nothing changes, update the progress bar and the step, and reload
// the page when the job is done (or failed) so it shows the result. Without JavaScript the page refreshes
// itself. Loaded from a file, so the strict Content-Security-Policy allows it.
(function () {
  "use strict";
  var job = document.getElementById("job");
  if (!job || !window.fetch) { return; }
  var url = job.getAttribute("data-status-url");
  var delay = 2000;
  var last = "";

  function tick() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { delay = Math.min(delay * 2, 10000); return; }
        if (state.status === "done" || state.status === "failed") { window.location.reload(); return; }
        var bar = document.getElementById("job-progress");
        var step = document.getElementById("job-step");
        if (bar) { bar.max = state.total || 1; bar.value = state.done; bar.textContent = state.done + " of " + state.total; }
        if (step) { step.textContent = state.step + (state.total ? " (step " + Math.min(state.done + 1, state.total) + " of " + state.total + ")" : ""); }
        var now = state.status + state.done + state.step;
        delay = now === last ? Math.min(delay + 2000, 10000) : 2000;
        last = now;
      })
      .catch(function () { delay = Math.min(delay * 2, 10000); })
      .then(function () { window.setTimeout(tick, delay); });
  }
  window.setTimeout(tick, delay);
}());
