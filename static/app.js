// Faultline: keyboard shortcuts and select-all. Progressive enhancement only: every action is a plain
// form that works without this file.
(function () {
  "use strict";
  function typing(e) {
    var t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  function click(selector) {
    var el = document.querySelector(selector);
    if (el) { el.click(); return true; }
    return false;
  }
  document.addEventListener("DOMContentLoaded", function () {
    // "All on this page" also ticks the row boxes, so the selection is visible.
    var all = document.querySelector("[data-select-all]");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll("table.issues input[name=id]").forEach(function (box) { box.checked = all.checked; });
      });
    }
  });
  var current = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-row]")); }
  function move(delta) {
    var list = rows();
    if (!list.length) return;
    if (list[current]) list[current].classList.remove("cur");
    current = Math.max(0, Math.min(list.length - 1, current + delta));
    list[current].classList.add("cur");
    list[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
    var list = rows(), row = list[current];
    switch (e.key) {
      case "/": var s = document.getElementById("search"); if (s) { e.preventDefault(); s.focus(); s.select(); } break;
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter": case "o": if (row) { var a = row.querySelector("[data-open]"); if (a) a.click(); } break;
      case "x": if (row) { var box = row.querySelector("input[name=id]"); if (box) box.checked = !box.checked; } break;
      case "e": case "i":
        if (document.querySelector("[data-issue]")) { click("button[data-key=" + e.key + "]"); break; }
        if (row) {
          var picked = document.querySelectorAll("table.issues input[name=id]:checked").length;
          if (!picked) { var b = row.querySelector("input[name=id]"); if (b) b.checked = true; }
          click(".bulk button[data-key=" + e.key + "]");
        }
        break;
    }
  });
})();
