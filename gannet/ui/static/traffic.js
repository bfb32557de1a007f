/* A deployment's live traffic: asks traffic.json (the inference log's last minutes) now
   and every data-poll seconds, redraws the request-rate and latency charts and fills the
   shadow comparison table. Stops asking while the tab is hidden. */
"use strict";
(function () {
  var section = document.getElementById("live");
  if (!section) { return; }
  var config = {responsive: true, displaylogo: false};
  var margin = {l: 50, r: 10, t: 10, b: 40};
  var status = section.querySelector(".live-status");
  var window_ = section.querySelector("#live-minutes");
  var polls = 0;

  function draw(id, figure) {
    var plot = section.querySelector("#" + id + " .plot");
    var layout = Object.assign({margin: margin}, figure.layout);
    return Plotly.react(plot, figure.data, layout, config).then(function () {
      plot.dataset.drawn = "true";
    });
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function shadows(rows) {
    var body = section.querySelector("table.shadows tbody");
    if (!rows.length) { return; }  // keeps what the server wrote (no shadow, or none logged)
    body.replaceChildren();
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      cell(tr, r.shadow_version);
      cell(tr, r.version);
      cell(tr, String(r.compared));
      cell(tr, String(r.agreed));
      cell(tr, r.compared ? (100 * r.agreed / r.compared).toFixed(1) + "%" : "");
      body.appendChild(tr);
    });
  }

  function load() {
    var url = section.dataset.url + "?minutes=" + encodeURIComponent(window_.value);
    return fetch(url, {credentials: "same-origin"}).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || response.statusText); }
        return body;
      });
    }).then(function (body) {
      polls += 1;
      section.dataset.polls = String(polls);
      section.dataset.requests = String(body.requests);
      status.textContent = body.requests + " requests answered in the window (updated " +
        new Date(body.at).toISOString().slice(11, 19) + " UTC, every " +
        section.dataset.poll + " s)";
      shadows(body.shadows);
      return Promise.all([draw("live-requests", body.requests_figure),
                          draw("live-latency", body.latency_figure)]);
    }).catch(function (error) {
      status.textContent = "The live traffic could not be read: " + error.message;
    });
  }

  window_.addEventListener("change", load);
  load();
  setInterval(function () {
    if (!document.hidden) { load(); }
  }, 1000 * Number(section.dataset.poll));
})();
