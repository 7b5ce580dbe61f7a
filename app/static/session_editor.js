// The session editor's rows: add a row (a copy of the last, emptied) and remove one. The server
// reads every row and ignores empty ones, so the form works without this script.
(function () {
  "use strict";
  var body = document.querySelector("#session-rows tbody");
  var add = document.getElementById("add-row");
  if (!body || !add) { return; }

  function clear(row) {
    row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
  }

  function wire(row) {
    var remove = row.querySelector(".remove-row");
    remove.hidden = false;
    remove.addEventListener("click", function () {
      if (body.rows.length > 1) { row.remove(); } else { clear(row); }
    });
  }

  Array.prototype.forEach.call(body.rows, wire);
  add.hidden = false;
  add.addEventListener("click", function () {
    var row = body.rows[body.rows.length - 1].cloneNode(true);
    clear(row);
    body.appendChild(row);
    wire(row);
    row.querySelector("input").focus();
  });
})();
