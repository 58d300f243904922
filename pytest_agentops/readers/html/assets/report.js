// pytest-agentops HTML report: outcome filter, name search, expand/collapse. The page reads without it.
(function () {
  "use strict";
  var tests = Array.prototype.slice.call(document.querySelectorAll("details.test"));
  var controls = document.getElementById("controls");
  var search = document.getElementById("search");
  var shown = document.getElementById("shown");
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button.filter"));
  if (!controls || !search || !shown) { return; }
  var filter = "all";

  function visible(test, query) {
    var group = test.getAttribute("data-group");
    var name = test.getAttribute("data-name") || "";
    return (filter === "all" || group === filter) && (!query || name.indexOf(query) !== -1);
  }

  function apply() {
    var query = search.value.trim().toLowerCase();
    var count = 0;
    tests.forEach(function (test) {
      var show = visible(test, query);
      test.hidden = !show;
      if (show) { count += 1; }
    });
    shown.textContent = count.toLocaleString("en-US") + " of " + tests.length.toLocaleString("en-US") + " test(s) shown";
  }

  function choose(name) {
    filter = name;
    buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-filter") === name)); });
    apply();
  }

  buttons.forEach(function (b) {
    b.addEventListener("click", function () { choose(b.getAttribute("data-filter") || "all"); });
  });
  search.addEventListener("input", apply);
  function setOpen(open) {
    tests.forEach(function (test) { if (!test.hidden) { test.open = open; } });
  }
  document.getElementById("expand").addEventListener("click", function () { setOpen(true); });
  document.getElementById("collapse").addEventListener("click", function () { setOpen(false); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== search) { event.preventDefault(); search.focus(); }
  });
  var wanted = /^#(all|passed|failed|skipped)$/.exec(window.location.hash);
  controls.hidden = false;
  choose(wanted ? wanted[1] : "all");
}());
