/* The little behaviour every page shares. */
"use strict";
(function () {
  // bulk actions send the runs ticked in the table (boxes that belong to the compare form)
  document.querySelectorAll("form.selection").forEach(function (form) {
    form.addEventListener("submit", function () {
      var ticked = document.querySelectorAll("input[form=compare]:checked");
      form.elements.runs.value = Array.prototype.map.call(ticked, function (box) {
        return box.value;
      }).join(",");
    });
  });
  // a form button that asks first (promote, roll back) says what it will do
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
  // the compare button says how many runs are ticked
  var button = document.querySelector("button[form=compare]");
  if (button) {
    var boxes = document.querySelectorAll("input[form=compare]");
    var label = button.textContent;
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        var n = document.querySelectorAll("input[form=compare]:checked").length;
        button.textContent = n ? label + " (" + n + ")" : label;
      });
    });
  }
})();
