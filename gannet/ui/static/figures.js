/* Charts whose traces the server wrote into the page (dataset profiles, monitor reports):
   each <figure class="plotly"> holds a .plot element and a JSON script {data, layout}. */
"use strict";
(function () {
  var config = {responsive: true, displaylogo: false};
  document.querySelectorAll("figure.plotly").forEach(function (fig) {
    var plot = fig.querySelector(".plot");
    var spec = JSON.parse(fig.querySelector("script[type='application/json']").textContent);
    var layout = Object.assign({margin: {l: 50, r: 10, t: 10, b: 40}, height: 240}, spec.layout);
    Plotly.newPlot(plot, spec.data, layout, config).then(function () {
      plot.dataset.drawn = "true";
    });
  });
})();
