// The agreement editor: "Add a term" copies an empty row (the form works without this: it
// always offers spare rows, and blank rows are ignored when saving).
(function () {
  "use strict";
  var button = document.getElementById("add-term");
  if (!button) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var rows = document.querySelectorAll("[data-term-row]");
    var last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    var index = rows.length;
    copy.querySelectorAll("input, textarea, select").forEach(function (field) {
      var base = field.name;
      field.id = base + "_" + index;
      if (field.tagName === "SELECT") { field.selectedIndex = 0; } else { field.value = ""; }
      field.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll("label").forEach(function (label) {
      label.htmlFor = label.htmlFor.replace(/_\d+$/, "_" + index);
    });
    copy.querySelectorAll(".error").forEach(function (e) { e.remove(); });
    copy.querySelectorAll(".invalid").forEach(function (e) { e.classList.remove("invalid"); });
    var number = copy.querySelector(".term-number");
    if (number) { number.textContent = number.textContent.replace(/\d+/, String(index + 1)); }
    last.parentNode.insertBefore(copy, last.nextSibling);
    copy.querySelector("textarea").focus();
  });
})();
