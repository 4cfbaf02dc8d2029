// While the agent calibrates (a few seconds), say so and keep the button from a second press.
(function () {
  "use strict";
  var form = document.getElementById("calibrate-form");
  if (!form) { return; }
  form.addEventListener("submit", function () {
    document.getElementById("calibrate").disabled = true;
    document.getElementById("calibrating").hidden = false;
  });
})();
