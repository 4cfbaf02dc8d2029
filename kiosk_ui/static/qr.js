// Check-in by admission slip: a QR code held up to the camera fills in the candidate number
// (the candidate still presses the button, so nothing is checked without them).
(function () {
  "use strict";
  var field = document.getElementById("candidate_number");
  var note = document.getElementById("qr-found");
  if (!field) { return; }
  var last = "";
  function poll() {
    fetch(field.getAttribute("data-qr-url"), { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        var text = body && typeof body.text === "string" ? body.text : "";
        if (text && text !== last && field.value !== text) {
          last = text;
          field.value = text;
          if (note) { note.hidden = false; }
          field.focus();
        }
      })
      .catch(function () { /* the agent is busy or restarting: try again */ });
  }
  setInterval(poll, 1000);
})();
