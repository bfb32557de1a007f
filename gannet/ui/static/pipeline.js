/* A pipeline run's page while it runs: its status is asked for every second and each
   step's row and box follow; when a new step starts or the run ends, the page is loaded
   again (with the new step, or with the logs). */
"use strict";
(function () {
  var root = document.querySelector("[data-live-status]");
  if (!root) { return; }
  var done = ["FINISHED", "FAILED", "KILLED"];
  var url = root.dataset.liveStatus;

  function show(state) {
    var unseen = state.steps.some(function (step) {
      return !document.querySelector("tr[data-step='" + CSS.escape(step.name) + "']");
    });
    if (unseen) {  // a step started that the page does not show yet: draw it again
      window.location.reload();
      return;
    }
    var status = document.getElementById("run-status");
    status.textContent = state.status;
    state.steps.forEach(function (step) {
      document.querySelectorAll("[data-step='" + CSS.escape(step.name) + "']").forEach(function (node) {
        node.dataset.status = step.status;
        var cell = node.querySelector(".step-status");
        if (cell) { cell.textContent = step.status + (step.cached ? " (cached)" : ""); }
        var took = node.querySelector(".step-duration");
        if (took) { took.textContent = step.duration; }
      });
    });
    if (done.indexOf(state.status) >= 0) {
      window.location.reload();
      return;
    }
    window.setTimeout(poll, 1000);
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {accept: "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error("run status: HTTP " + r.status); } return r.json(); })
      .then(show)
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  if (done.indexOf(root.dataset.status) < 0) { window.setTimeout(poll, 1000); }
})();
