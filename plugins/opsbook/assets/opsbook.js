/* opsbook's script, shipped with the site (no request leaves it): two accessibility fixes to the markup
   Material's theme writes, checked with axe-core by tests/test_accessibility.py.

   - Material's search is a `role="dialog"` with no name: it is named after its input ("Search").
   - Material wraps each table in a box that scrolls sideways when the table is wider than the page, and
     does not let the keyboard reach it: a box that scrolls is made focusable (a named region), so that
     its hidden columns can be scrolled to with the arrow keys; a box that fits is left out of the tab
     order. */
(function () {
  "use strict";

  function nameSearch() {
    var dialog = document.querySelector('.md-search[role="dialog"]');
    if (dialog && !dialog.hasAttribute("aria-label") && !dialog.hasAttribute("aria-labelledby")) {
      var input = dialog.querySelector(".md-search__input");
      dialog.setAttribute("aria-label", (input && input.getAttribute("aria-label")) || "Search");
    }
  }

  function fitScrollBox(box) {
    if (box.scrollWidth > box.clientWidth + 1) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      if (!box.hasAttribute("aria-label")) {
        box.setAttribute("aria-label", "Table, scrolls sideways");
      }
    } else if (box.getAttribute("role") === "region") {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }

  var watcher = typeof ResizeObserver === "function"
    ? new ResizeObserver(function (entries) { entries.forEach(function (entry) { fitScrollBox(entry.target); }); })
    : null;

  function reachTables() {
    document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (box) {
      fitScrollBox(box);
      if (watcher) {
        watcher.observe(box);
      }
    });
  }

  function apply() {
    nameSearch();
    reachTables();
  }

  // Material publishes each page (also after instant navigation) on `document$`, once its own components,
  // the table boxes among them, are mounted; without it, the page is ready at DOMContentLoaded.
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(apply);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", apply);
  } else {
    apply();
  }
})();
