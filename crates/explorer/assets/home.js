// Keeps the home page live: polls /api/latest and swaps in the fresh
// server-rendered fragments when the head moves. Without this script the
// page is complete, only static.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) return;
  var head = Number(live.getAttribute("data-head"));
  var parts = { stats: "stats", chart: "chart", blocks: "latest-blocks", transactions: "latest-txs" };

  function refresh() {
    fetch("/api/latest", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        live.classList.remove("stale");
        live.textContent = "live";
        if (data.head === head) return;
        head = data.head;
        live.setAttribute("data-head", String(head));
        Object.keys(parts).forEach(function (key) {
          var el = document.getElementById(parts[key]);
          if (el && typeof data[key] === "string") el.innerHTML = data[key];
        });
      })
      .catch(function () {
        live.classList.add("stale");
        live.textContent = "offline, retrying";
      })
      .then(function () { setTimeout(refresh, 2000); });
  }
  setTimeout(refresh, 2000);
})();
