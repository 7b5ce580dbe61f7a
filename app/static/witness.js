// The witnessed face check of an appeal (the instructor's appeals page): the instructor turns the
// camera to the trainee, face_check.js `converse` runs the server-paced check, and the final
// request approves the appeal only if the check passed (with the note written in the row).
(function () {
  const config = document.getElementById("witness-config").dataset;
  const panel = document.getElementById("witness-panel");
  const video = document.getElementById("witness-video");
  const result = document.getElementById("witness-result");
  let opened = null;

  function headers(json) {
    const h = { "Accept": "application/json", "X-CSRFToken": config.csrf };
    if (json) h["Content-Type"] = "application/json";
    return h;
  }

  async function witness(button) {
    const note = button.form.querySelector("input[name=note]");
    if (!note.value.trim()) {
      note.setCustomValidity(config.msgNote);
      note.reportValidity();
      note.setCustomValidity("");
      return;
    }
    panel.hidden = false;
    document.getElementById("witness-title").textContent = config.msgTitle.replace("{name}", button.dataset.trainee);
    panel.scrollIntoView({ behavior: "smooth" });
    opened = opened || window.SkillTraceWebcam.open(video, result).catch(function () { /* said in words */ });
    await opened;
    document.querySelectorAll(".witness-button").forEach(function (b) { b.disabled = true; });
    await window.faceCheck.converse({
      purpose: "witness", url: button.dataset.approveUrl, challengeUrl: button.dataset.startUrl,
      frameUrl: button.dataset.frameUrl, headers: headers, video: video,
      canvas: document.getElementById("witness-canvas"), actionEl: document.getElementById("witness-action"),
      hintEl: document.getElementById("witness-hint"), result: result, fields: { note: note.value.trim() },
      msgWorking: config.msgWorking, msgWait: config.msgWait, msgNetwork: config.msgNetwork,
    });
    document.querySelectorAll(".witness-button").forEach(function (b) { b.disabled = false; });
    if (result.dataset.state === "accepted") setTimeout(function () { window.location.reload(); }, 2500);
  }

  document.querySelectorAll(".witness-button").forEach(function (button) {
    button.addEventListener("click", function () { witness(button); });
  });
})();
