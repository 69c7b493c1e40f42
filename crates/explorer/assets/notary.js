// The notary page's file check: hashes a dropped or chosen file with
// SHA-256 in the browser (the file is never uploaded), then asks
// /api/notary/<hash> and shows the answer. crypto.subtle exists only in a
// secure context (HTTPS, or http://localhost / 127.0.0.1): elsewhere the
// page says so and the pasted-hash form does the job.
(function () {
  "use strict";
  var zone = document.getElementById("dropzone");
  var input = document.getElementById("file");
  var status = document.getElementById("file-status");
  var result = document.getElementById("notary-result");
  var field = document.getElementById("document");
  if (!zone || !input || !result) return;

  if (!window.isSecureContext || !window.crypto || !window.crypto.subtle) {
    document.getElementById("insecure").hidden = false;
    return;
  }
  zone.hidden = false;

  function hex(buffer) {
    return Array.prototype.map
      .call(new Uint8Array(buffer), function (b) { return b.toString(16).padStart(2, "0"); })
      .join("");
  }

  function check(file) {
    status.textContent = "Hashing " + file.name + " (" + file.size + " bytes)…";
    file.arrayBuffer()
      .then(function (data) { return crypto.subtle.digest("SHA-256", data); })
      .then(function (digest) {
        var hash = "0x" + hex(digest);
        field.value = hash;
        status.textContent = file.name + ": SHA-256 " + hash + " — asking the chain…";
        return fetch("/api/notary/" + hash, { cache: "no-store" });
      })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.error || "HTTP " + r.status);
          return body;
        });
      })
      .then(function (answer) {
        var n = answer.stamps.length;
        status.textContent = file.name + ": " + (answer.stamped
          ? "stamped " + n + " time" + (n === 1 ? "" : "s")
          : "not stamped") + " (checked at block " + answer.checkedAtBlock + ")";
        result.innerHTML = answer.html;
        history.replaceState(null, "", "/notary?document=" + answer.document);
      })
      .catch(function (e) {
        status.textContent = "Could not check " + file.name + ": " + e.message;
      });
  }

  input.addEventListener("change", function () {
    if (input.files && input.files[0]) check(input.files[0]);
  });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    var files = e.dataTransfer && e.dataTransfer.files;
    if (files && files[0]) check(files[0]);
  });
})();
