// Check-in and check-out with a server-paced face check (face_check.js `converse`); kiosk mode
// authenticates with the kiosk's key and secret instead of the signed-in session.
(function () {
  const config = document.getElementById("checkin-config").dataset;
  const video = document.getElementById("checkin-video");
  const canvas = document.getElementById("checkin-canvas");
  const actionEl = document.getElementById("checkin-action");
  const result = document.getElementById("checkin-result");
  const buttons = [document.getElementById("check-in-button"), document.getElementById("check-out-button")];

  function headers(json) {
    const h = { "Accept": "application/json" };
    if (json) h["Content-Type"] = "application/json";
    if (config.mode === "kiosk") {
      h["Authorization"] = "Basic " + btoa(sessionStorage.getItem("kioskKey") + ":" + sessionStorage.getItem("kioskSecret"));
    } else {
      h["X-CSRFToken"] = config.csrf;
    }
    return h;
  }

  async function run(purpose) {
    buttons.forEach(function (b) { b.disabled = true; });
    await window.faceCheck.converse({
      purpose: purpose, url: purpose === "check_in" ? config.checkInUrl : config.checkOutUrl,
      challengeUrl: config.challengeUrl, frameUrl: config.frameUrl, headers: headers, video: video,
      canvas: canvas, actionEl: actionEl, hintEl: document.getElementById("checkin-hint"), result: result,
      msgWorking: config.msgWorking, msgWait: config.msgWait, msgNetwork: config.msgNetwork,
    });
    buttons.forEach(function (b) { b.disabled = false; });
  }

  buttons[0].addEventListener("click", function () { run("check_in"); });
  buttons[1].addEventListener("click", function () { run("check_out"); });

  if (config.mode === "kiosk") {
    const login = document.getElementById("kiosk-login");
    if (!sessionStorage.getItem("kioskKey")) login.hidden = false;
    login.addEventListener("submit", function (ev) {
      ev.preventDefault();
      sessionStorage.setItem("kioskKey", document.getElementById("kiosk-key").value);
      sessionStorage.setItem("kioskSecret", document.getElementById("kiosk-secret").value);
      login.hidden = true;
    });
  }
  window.SkillTraceWebcam.open(video, result).catch(function () { /* said in words by webcam.js */ });
})();
