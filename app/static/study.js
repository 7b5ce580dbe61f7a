// Online study: start, end and answer roll-calls with the server-paced face check of check-in, send a heartbeat about every
// STUDY_HEARTBEAT_MS while the page is visible (jittered by ±25 % on purpose: a too regular
// pattern is a script's mark), with whether the trainee was active and how many input events
// there were. The CSRF token is refreshed before it expires, and again before every face check,
// so a page open all day keeps counting and can always be ended. A roll-call is never answered
// by the page: it alerts the trainee (banner, a tone, vibration) and waits for them to press the
// button. Every refusal is shown at once, in words.
(function () {
  const config = document.getElementById("study-config").dataset;
  const video = document.getElementById("checkin-video");
  const canvas = document.getElementById("checkin-canvas");
  const actionEl = document.getElementById("checkin-action");
  const hintEl = document.getElementById("checkin-hint");
  const result = document.getElementById("checkin-result");
  const statusEl = document.getElementById("study-status");
  const alertEl = document.getElementById("study-alert");
  const banner = document.getElementById("study-roll-call-banner");
  const startBtn = document.getElementById("study-start");
  const endBtn = document.getElementById("study-end");
  const rollBtn = document.getElementById("study-roll-call");
  const HEARTBEAT_MS = parseInt(config.heartbeatMs, 10) || 30000;
  const ACTIVE_MS = parseInt(config.activeMs, 10) || 120000;
  const TOKEN_MS = Math.max(1000, (parseInt(config.csrfLifetime, 10) || 3600) * 500);
  let csrf = config.csrf, lastInput = Date.now(), interactions = 0, busy = false, alerted = null;

  ["mousemove", "keydown", "scroll", "touchstart", "click"].forEach(function (ev) {
    document.addEventListener(ev, function () { lastInput = Date.now(); interactions += 1; }, { passive: true });
  });

  function headers(json) {
    const h = { "Accept": "application/json", "X-CSRFToken": csrf };
    if (json) h["Content-Type"] = "application/json";
    return h;
  }

  function warn(text) {
    alertEl.textContent = text || "";
    alertEl.hidden = !text;
  }

  async function refreshToken() {
    try {
      const r = await fetch(config.tokenUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } });
      if (r.status === 200) { csrf = (await r.json()).csrf_token; return true; }
      warn((await r.json()).message || config.msgNetwork);
    } catch (e) { warn(config.msgNetwork); }
    return false;
  }

  function alertTrainee() {  // a short tone and a vibration: the trainee may be looking away
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.2;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.6);
    } catch (e) { /* no audio: the banner still shows */ }
    if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
  }

  function show(status) {
    if (!status || status.studying === false) {
      statusEl.dataset.state = "idle";
      statusEl.textContent = "";
      rollBtn.hidden = true;
      banner.hidden = true;
      return;
    }
    statusEl.dataset.state = "studying";
    statusEl.dataset.counted = status.counted_seconds;
    statusEl.dataset.paused = status.paused ? "true" : "false";
    statusEl.dataset.rollCall = status.roll_call ? "due" : "";
    let text = config.msgCounted.replace("{m}", status.counted_minutes);
    if (status.paused) text += " " + (status.pause_message || config.msgPaused);
    statusEl.textContent = text;
    rollBtn.hidden = !status.face_required;
    banner.hidden = !status.roll_call;
    if (status.roll_call) {
      banner.textContent = config.msgRollCall.replace("{s}", status.roll_call.seconds_left);
      if (status.roll_call.id !== alerted) { alerted = status.roll_call.id; alertTrainee(); }
    }
  }

  async function faceCheck(purpose) {
    if (busy) return;
    busy = true;
    [startBtn, endBtn, rollBtn].forEach(function (b) { b.disabled = true; });
    result.dataset.state = "working";
    result.dataset.reason = "";
    result.textContent = config.msgWorking;
    await refreshToken();  // a page open for hours: the check must not fail on an old token
    await window.faceCheck.converse({
      purpose: purpose,
      url: { check_in: config.startUrl, check_out: config.endUrl, roll_call: config.rollCallUrl }[purpose],
      challengeUrl: config.challengeUrl, frameUrl: config.frameUrl, headers: headers, video: video,
      canvas: canvas, actionEl: actionEl, hintEl: hintEl, result: result, msgWorking: config.msgWorking,
      msgWait: config.msgWait, msgNetwork: config.msgNetwork,
    });
    [startBtn, endBtn, rollBtn].forEach(function (b) { b.disabled = false; });
    busy = false;
    warn("");
    await refresh();
  }

  async function refresh() {
    try {
      const r = await fetch(config.statusUrl, { credentials: "same-origin", headers: headers(false) });
      show(await r.json());
    } catch (e) { warn(config.msgNetwork); }
  }

  async function sendBeat(retry) {
    const r = await fetch(config.heartbeatUrl, { method: "POST", credentials: "same-origin", headers: headers(true),
      body: JSON.stringify({ visible: true, active: Date.now() - lastInput < ACTIVE_MS, interactions: interactions }) });
    const body = await r.json();
    if (r.status === 400 && body.error === "csrf" && retry && await refreshToken()) return sendBeat(false);
    if (r.status === 200) {
      interactions = 0;
      warn(body.studying === false ? body.message : "");
      show(body);
    } else {
      warn(body.message || config.msgNetwork);
      if (r.status === 409) show(null);
    }
  }

  async function beat() {
    if (document.visibilityState !== "visible" || statusEl.dataset.state !== "studying") return;
    try { await sendBeat(true); } catch (e) { warn(config.msgNetwork); }
  }

  function schedule() {
    setTimeout(function () { beat().finally(schedule); }, HEARTBEAT_MS * (0.75 + Math.random() * 0.5));
  }

  startBtn.addEventListener("click", function () { faceCheck("check_in"); });
  endBtn.addEventListener("click", function () { faceCheck("check_out"); });
  rollBtn.addEventListener("click", function () { faceCheck("roll_call"); });
  setInterval(refreshToken, TOKEN_MS);
  schedule();
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") beat(); });

  window.SkillTraceWebcam.open(video, result).catch(function () { /* said in words by webcam.js */ });
  refresh();
})();
