// Show only the categories of the chosen domain; the server checks the pair either way.
(function () {
  var select = document.getElementById("category");
  function sync() {
    var chosen = document.querySelector("input[name=domain]:checked");
    var domain = chosen ? chosen.value : "";
    Array.prototype.forEach.call(select.options, function (o) {
      var show = !o.dataset.domain || o.dataset.domain === domain;
      o.hidden = !show; o.disabled = !show;
      if (!show && o.selected) { select.value = ""; }
    });
  }
  document.querySelectorAll("input[name=domain]").forEach(function (r) { r.addEventListener("change", sync); });
  sync();
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
