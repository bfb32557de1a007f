/* Metric charts of the run page and the compare page, drawn with Plotly from
   /ui/runs/<id>/metric-history (one request per run and metric). */
"use strict";
(function () {
  var histories = {};

  function history(run, key) {
    var id = run + "\u0000" + key;
    if (!histories[id]) {
      var url = "/ui/runs/" + encodeURIComponent(run) + "/metric-history?key=" + encodeURIComponent(key);
      histories[id] = fetch(url, {credentials: "same-origin"}).then(function (r) {
        if (!r.ok) { throw new Error("metric history: HTTP " + r.status); }
        return r.json();
      });
    }
    return histories[id];
  }

  function axisOf(points, xaxis) {
    return xaxis === "timestamp" ? points.timestamp.map(function (t) { return new Date(t); }) : points.step;
  }

  function layout(xaxis, log, title) {
    return {
      margin: {l: 50, r: 10, t: 10, b: 40}, height: 280, showlegend: true,
      xaxis: {title: {text: xaxis === "timestamp" ? "time" : "step"}},
      yaxis: {type: log ? "log" : "linear", title: {text: title}}
    };
  }

  function controls() {
    var x = document.getElementById("xaxis"), log = document.getElementById("logscale");
    var smoothing = document.getElementById("smoothing");
    return {x: x ? x.value : "step", log: log ? log.checked : false,
            smoothing: smoothing ? Number(smoothing.value) : 0};
  }

  // an exponential moving average (TensorBoard's smoothing): weight 0 leaves the values
  function smooth(values, weight) {
    if (!weight) { return values; }
    var last = null;
    return values.map(function (v) {
      if (!isFinite(v)) { return v; }
      last = last === null ? v : last * weight + (1 - weight) * v;
      return last;
    });
  }

  var config = {responsive: true, displaylogo: false};

  function drawRunCharts() {
    var c = controls();
    document.querySelectorAll("figure.chart").forEach(function (fig) {
      var plot = fig.querySelector(".plot");
      history(fig.dataset.run, fig.dataset.key).then(function (points) {
        var trace = {x: axisOf(points, c.x), y: smooth(points.value, c.smoothing), mode: points.value.length > 1 ? "lines" : "markers",
                     name: fig.dataset.key};
        Plotly.react(plot, [trace], layout(c.x, c.log, fig.dataset.key), config);
        plot.dataset.drawn = "true";
      });
    });
  }

  function compareData() {
    var node = document.getElementById("compare-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function drawOverlay(data) {
    var c = controls();
    var plot = document.getElementById("overlay");
    Promise.all(data.runs.map(function (run) {
      return run.metrics[data.metric] === undefined ? null : history(run.id, data.metric);
    })).then(function (all) {
      var traces = [];
      all.forEach(function (points, i) {
        if (points) {
          traces.push({x: axisOf(points, c.x), y: smooth(points.value, c.smoothing),
                       name: data.runs[i].name,
                       mode: points.value.length > 1 ? "lines" : "markers"});
        }
      });
      Plotly.react(plot, traces, layout(c.x, c.log, data.metric), config);
      plot.dataset.drawn = "true";
    });
  }

  function drawParallel(data) {
    var plot = document.getElementById("parcoords");
    var keys = {};
    data.runs.forEach(function (run) {
      Object.keys(run.params).forEach(function (k) {
        if (keys[k] !== false) { keys[k] = run.params[k] !== "" && isFinite(Number(run.params[k])); }
      });
    });
    var numeric = Object.keys(keys).filter(function (k) { return keys[k]; }).sort().slice(0, 12);
    var runs = data.runs.filter(function (run) { return run.metrics[data.metric] !== undefined; });
    var dims = numeric.map(function (k) {
      return {label: k, values: runs.map(function (run) { return Number(run.params[k] || NaN); })};
    });
    var values = runs.map(function (run) { return run.metrics[data.metric]; });
    dims.push({label: data.metric, values: values});
    Plotly.react(plot, [{type: "parcoords", dimensions: dims,
                         line: {color: values, colorscale: "Viridis", showscale: true}}],
                 {margin: {l: 60, r: 60, t: 40, b: 20}, height: 320}, config);
    plot.dataset.drawn = "true";
  }

  function draw() {
    var data = compareData();
    if (data) {
      drawOverlay(data);
      drawParallel(data);
    } else {
      drawRunCharts();
    }
  }

  ["xaxis", "logscale", "smoothing"].forEach(function (id) {
    var node = document.getElementById(id);
    if (node) { node.addEventListener(id === "smoothing" ? "input" : "change", function () { var d = compareData(); if (d) { drawOverlay(d); } else { drawRunCharts(); } }); }
  });
  draw();
})();
