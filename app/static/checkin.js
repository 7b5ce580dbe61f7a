// Check-in and check-out: ask the server for a challenge (nonce + liveness action), show the
// action, capture a short burst of frames while the person does it, send them with the nonce
// and show the answer in words. Kiosk mode authenticates with the kiosk's key and secret.
(function () {
  const config = document.getElementById("checkin-config").dataset;
  const video = document.getElementById("checkin-video");
  const canvas = document.getElementById("checkin-canvas");
  const actionEl = document.getElementById("checkin-action");
  const result = document.getElementById("checkin-result");
  const buttons = [document.getElementById("check-in-button"), document.getElementById("check-out-button")];
  const ctx = canvas.getContext("2d");
  const FRAMES = 6, GAP_MS = 200;

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

  function grab() {
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.9); });
  }

  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  async function run(purpose) {
    buttons.forEach(function (b) { b.disabled = true; });
    result.dataset.state = "working";
    result.dataset.reason = "";
    result.textContent = config.msgWorking;
    try {
      const ch = await fetch(config.challengeUrl, { method: "POST", credentials: "same-origin",
        headers: headers(true), body: JSON.stringify({ purpose: purpose }) });
      const challenge = await ch.json();
      if (ch.status !== 201) throw { message: challenge.message || challenge.title, reason: challenge.error };
      actionEl.dataset.action = challenge.action;
      actionEl.textContent = challenge.action_text;
      await wait(600);
      const form = new FormData();
      form.append("nonce", challenge.nonce);
      form.append("device", navigator.userAgent);
      for (let i = 0; i < FRAMES; i++) {
        form.append("frames", await grab(), "frame" + i + ".jpg");
        await wait(GAP_MS);
      }
      const url = purpose === "check_in" ? config.checkInUrl : config.checkOutUrl;
      const answer = await fetch(url, { method: "POST", credentials: "same-origin", headers: headers(false), body: form });
      const body = await answer.json();
      result.dataset.state = body.accepted ? "accepted" : "refused";
      result.dataset.reason = body.error || "";
      result.textContent = body.message || body.detail || body.title;
    } catch (e) {
      result.dataset.state = "refused";
      result.dataset.reason = (e && e.reason) || "network";
      result.textContent = (e && e.message) || config.msgNetwork;
    }
    actionEl.textContent = "";
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
  navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false })
    .then(function (s) { video.srcObject = s; })
    .catch(function (err) {
      result.dataset.state = "error";
      result.textContent = config.msgCameraError.replace("{reason}", err.name);
    });
})();
