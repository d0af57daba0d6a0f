(function () {
  /* Sort a report table by the clicked column: by each cell's data-sort number where it has one,
     by its text otherwise; cells without a value go last either way. A click on a figure shows it
     at its own size and back. One listener for the page, however many reports it holds. */
  if (window.losslabReportInstalled) return;
  window.losslabReportInstalled = true;
  function key(cell) {
    if (!cell) return null;
    var n = cell.getAttribute("data-sort");
    if (n !== null && n !== "") return parseFloat(n);
    var t = cell.textContent.trim();
    return t === "" || t === "\u2013" ? null : t;
  }
  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    var figure = event.target.closest(".losslab-report svg.figure, .losslab-report img.figure");
    if (figure) { figure.classList.toggle("enlarged"); return; }
    var button = event.target.closest(".losslab-report table.sortable thead th button");
    if (!button) return;
    var th = button.parentNode, row = th.parentNode, table = th.closest("table"), body = table.tBodies[0];
    var column = Array.prototype.indexOf.call(row.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(row.children, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows).map(function (r, i) { return [key(r.cells[column]), i, r]; });
    rows.sort(function (a, b) {
      if (a[0] === null || b[0] === null) return a[0] === b[0] ? a[1] - b[1] : (a[0] === null ? 1 : -1);
      var d = (typeof a[0] === "number" && typeof b[0] === "number") ? a[0] - b[0]
        : String(a[0]).localeCompare(String(b[0]), undefined, { numeric: true });
      return (ascending ? d : -d) || a[1] - b[1];
    });
    rows.forEach(function (r) { body.appendChild(r[2]); });
  });
})();
