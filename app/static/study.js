// Online study: start and end with a face burst (as check-in), send a heartbeat every
// STUDY_HEARTBEAT_MS while the page is visible (with whether the trainee was active lately),
// and answer the face roll-calls the server asks for in the heartbeat's answer.
(function () {
  const config = document.getElementById("study-config").dataset;
  const video = document.getElementById("checkin-video");
  const canvas = document.getElementById("checkin-canvas");
  const actionEl = document.getElementById("checkin-action");
  const result = document.getElementById("checkin-result");
  const statusEl = document.getElementById("study-status");
  const startBtn = document.getElementById("study-start");
  const endBtn = document.getElementById("study-end");
  const rollBtn = document.getElementById("study-roll-call");
  const HEARTBEAT_MS = parseInt(config.heartbeatMs, 10) || 30000;
  const ACTIVE_MS = parseInt(config.activeMs, 10) || 120000;
  let lastInput = Date.now(), timer = null, busy = false, answering = false, autoAnswered = null;

  ["mousemove", "keydown", "scroll", "touchstart", "click"].forEach(function (ev) {
    document.addEventListener(ev, function () { lastInput = Date.now(); }, { passive: true });
  });

  function headers(json) {
    const h = { "Accept": "application/json", "X-CSRFToken": config.csrf };
    if (json) h["Content-Type"] = "application/json";
    return h;
  }

  function show(status) {
    if (!status || status.studying === false) {
      statusEl.dataset.state = "idle";
      statusEl.textContent = "";
      rollBtn.hidden = true;
      return;
    }
    statusEl.dataset.state = "studying";
    statusEl.dataset.counted = status.counted_seconds;
    statusEl.dataset.paused = status.paused ? "true" : "false";
    statusEl.dataset.rollCall = status.roll_call ? "due" : "";
    let text = config.msgCounted.replace("{m}", status.counted_minutes);
    if (status.paused) text += " " + (status.pause_message || config.msgPaused);
    else if (status.roll_call) text += " " + config.msgRollCall;
    statusEl.textContent = text;
    rollBtn.hidden = !status.face_required;
    // a roll-call is answered once by itself; after a failure the trainee presses the button
    if (status.roll_call && status.roll_call.id !== autoAnswered && !answering) {
      autoAnswered = status.roll_call.id;
      faceCheck("roll_call");
    }
  }

  async function faceCheck(purpose) {
    if (busy) return;
    busy = true; answering = purpose === "roll_call";
    [startBtn, endBtn, rollBtn].forEach(function (b) { b.disabled = true; });
    await window.faceCheck.run({
      purpose: purpose,
      url: { check_in: config.startUrl, check_out: config.endUrl, roll_call: config.rollCallUrl }[purpose],
      challengeUrl: config.challengeUrl, headers: headers, video: video, canvas: canvas,
      actionEl: actionEl, result: result, msgWorking: config.msgWorking, msgNetwork: config.msgNetwork,
    });
    [startBtn, endBtn, rollBtn].forEach(function (b) { b.disabled = false; });
    busy = false; answering = false;
    await refresh();
  }

  async function refresh() {
    try {
      const r = await fetch(config.statusUrl, { credentials: "same-origin", headers: headers(false) });
      show(await r.json());
    } catch (e) { /* next heartbeat */ }
  }

  async function beat() {
    if (document.visibilityState !== "visible" || statusEl.dataset.state !== "studying") return;
    try {
      const r = await fetch(config.heartbeatUrl, { method: "POST", credentials: "same-origin", headers: headers(true),
        body: JSON.stringify({ visible: true, active: Date.now() - lastInput < ACTIVE_MS }) });
      if (r.status === 200) show(await r.json());
      else if (r.status === 409) show(null);
    } catch (e) { /* try again at the next beat */ }
  }

  startBtn.addEventListener("click", function () { faceCheck("check_in"); });
  endBtn.addEventListener("click", function () { faceCheck("check_out"); });
  rollBtn.addEventListener("click", function () { faceCheck("roll_call"); });
  timer = setInterval(beat, HEARTBEAT_MS);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") beat(); });

  window.SkillTraceWebcam.open(video, result).catch(function () { /* said in words by webcam.js */ });
  refresh();
})();
