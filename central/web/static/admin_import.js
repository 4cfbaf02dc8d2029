// Candidate import progress: polls the status endpoint until the import has finished.
(function () {
  "use strict";
  const box = document.getElementById("import-job");
  if (!box) { return; }
  const bar = document.getElementById("import-progress");
  const state = document.getElementById("import-state");
  const problems = document.getElementById("import-problems");
  const error = document.getElementById("import-error");

  function show(status) {
    bar.max = Math.max(status.total, 1);
    bar.value = status.done;
    bar.textContent = status.done + " / " + status.total;
    // The sentence and the state words come translated from the page (data-progress etc.).
    const words = {
      state: box.dataset["state" + status.state.charAt(0).toUpperCase() + status.state.slice(1)] ||
        status.state,
      done: status.done, total: status.total, imported: status.imported.length,
    };
    state.textContent = box.dataset.progress.replace(/\{(\w+)\}/g, function (whole, name) {
      return name in words ? String(words[name]) : whole;
    });
    // A failed import lists its reasons as problems; an interrupted one says what to do here.
    error.hidden = status.state !== "interrupted";
    error.textContent = error.hidden ? "" : status.error;
    problems.replaceChildren(...status.problems.map(function (text) {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }));
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        show(status);
        if (status.state === "running") { setTimeout(poll, 500); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
