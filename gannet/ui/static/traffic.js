/* A deployment's live traffic: asks traffic.json (the inference log's last minutes) now
   and every data-poll seconds, redraws the request-rate and latency charts and fills the
   shadow comparison and error tables. Stops asking while the tab is hidden. */
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

  function errors(found) {
    var body = section.querySelector("table.errors tbody");
    var note = section.querySelector(".errors-servers");
    body.replaceChildren();
    if (!found) {
      var tr = document.createElement("tr");
      cell(tr, "No inference server of this deployment is known: list them in the " +
        "ui_inference_servers setting to see its errors here.");
      tr.firstChild.colSpan = 5;
      body.appendChild(tr);
      note.textContent = "";
      return;
    }
    found.versions.forEach(function (v) {
      var tr = document.createElement("tr");
      tr.dataset.version = v.version;
      cell(tr, v.version);
      cell(tr, String(v.requests));
      cell(tr, String(v.errors));
      cell(tr, (100 * v.error_rate).toFixed(1) + "%");
      cell(tr, Object.keys(v.codes).sort().map(function (c) {
        return c + ": " + v.codes[c];
      }).join(", "));
      body.appendChild(tr);
    });
    if (!found.versions.length) {
      var none = document.createElement("tr");
      cell(none, "No prediction request counted yet.");
      none.firstChild.colSpan = 5;
      body.appendChild(none);
    }
    var missing = found.servers.filter(function (u) { return found.answered.indexOf(u) < 0; });
    note.textContent = "Read from " + found.answered.length + " of " + found.servers.length +
      " inference servers" + (missing.length ? " (not answering: " + missing.join(", ") + ")" : "") +
      ".";
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
      errors(body.errors);
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
