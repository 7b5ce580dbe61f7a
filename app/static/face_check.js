// Face checks. `run` (the online-study page): ask the server for a challenge (nonce + liveness
// action), show the action, capture a short burst of frames while the person does it, send them
// with the nonce. `converse` (the check-in/kiosk page): a server-paced challenge — stream each
// frame as it is captured, show whatever prompt the server's answer carries, large and in words,
// until the server says done or failed, then ask for the check with the nonce. Both show the
// answer in words.
window.faceCheck = (function () {
  const FRAMES = 6, GAP_MS = 200, STREAM_GAP_MS = 120, STREAM_LIMIT_MS = 90000;

  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // opts: purpose, url (where the frames go), challengeUrl, headers(json), video, canvas,
  // actionEl, result, msgWorking, msgNetwork. Resolves when the answer is shown.
  // No picture: send nothing, so a blank frame never counts toward the lock-out. True when live.
  async function cameraLive(opts) {
    if (await window.SkillTraceWebcam.whenLive(opts.video)) return true;
    const m = document.getElementById("webcam-messages").dataset;
    opts.result.dataset.state = "camera-error";
    opts.result.dataset.reason = "camera_not_live";
    opts.result.textContent = m.notLive;
    return false;
  }

  async function run(opts) {
    const result = opts.result, ctx = opts.canvas.getContext("2d");
    if (!(await cameraLive(opts))) return;
    function grab() {
      ctx.drawImage(opts.video, 0, 0, opts.canvas.width, opts.canvas.height);
      return new Promise(function (resolve) { opts.canvas.toBlob(resolve, "image/jpeg", 0.9); });
    }
    result.dataset.state = "working";
    result.dataset.reason = "";
    result.textContent = opts.msgWorking;
    try {
      const ch = await fetch(opts.challengeUrl, { method: "POST", credentials: "same-origin",
        headers: opts.headers(true), body: JSON.stringify({ purpose: opts.purpose }) });
      const challenge = await ch.json();
      if (ch.status !== 201) throw { message: challenge.message || challenge.title, reason: challenge.error };
      opts.actionEl.dataset.action = challenge.action;
      opts.actionEl.textContent = challenge.action_text;
      await wait(600);
      const form = new FormData();
      form.append("nonce", challenge.nonce);
      form.append("device", navigator.userAgent);
      form.append("captured_at", new Date().toISOString());  // checked against the server's clock
      for (let i = 0; i < FRAMES; i++) {
        form.append("frames", await grab(), "frame" + i + ".jpg");
        await wait(GAP_MS);
      }
      const answer = await fetch(opts.url, { method: "POST", credentials: "same-origin",
        headers: opts.headers(false), body: form });
      const body = await answer.json();
      showAnswer(opts, body);
    } catch (e) {
      showFailure(opts, e);
    }
    opts.actionEl.textContent = "";
  }

  // The server's answer to a check, in words, with its reason code for the page and the tests.
  function showAnswer(opts, body) {
    const result = opts.result;
    result.dataset.state = body.accepted ? "accepted" : "refused";
    result.dataset.purpose = opts.purpose;
    result.dataset.reason = body.error || "";
    result.textContent = body.message || body.detail || body.title;
  }

  function showFailure(opts, e) {
    opts.result.dataset.state = "refused";
    opts.result.dataset.reason = (e && e.reason) || "network";
    opts.result.textContent = (e && e.message) || opts.msgNetwork;
  }

  function grabber(opts) {
    const ctx = opts.canvas.getContext("2d");
    return function () {
      ctx.drawImage(opts.video, 0, 0, opts.canvas.width, opts.canvas.height);
      return new Promise(function (resolve) { opts.canvas.toBlob(resolve, "image/jpeg", 0.85); });
    };
  }

  function showPrompt(opts, answer) {
    const el = opts.actionEl;
    if (answer.prompt) {
      el.dataset.action = answer.prompt.action;
      el.dataset.step = answer.prompt.step;
      el.textContent = answer.prompt.text;
    } else {
      el.dataset.action = "";
      el.textContent = answer.phase === "waiting" ? opts.msgWait : "";
    }
    if (opts.hintEl) opts.hintEl.textContent = answer.face ? "" : (answer.hint || "");
  }

  // A POST of the paced check; `opts.sign` (the kiosk page) returns the request init signed.
  async function post(opts, url, json, body) {
    const init = { method: "POST", credentials: "same-origin", headers: opts.headers(json), body: body };
    return fetch(url, opts.sign ? await opts.sign(url, init) : init);
  }

  // opts: purpose, url (the check), challengeUrl (starts the conversation), frameUrl (with
  // NONCE in it), headers(json), video, canvas, actionEl, hintEl, result, msgWorking, msgWait,
  // msgNetwork, sign (optional). Resolves when the answer is shown.
  async function converse(opts) {
    if (!(await cameraLive(opts))) return;
    const result = opts.result, grab = grabber(opts);
    result.dataset.state = "working";
    result.dataset.reason = "";
    result.textContent = opts.msgWorking;
    try {
      const ch = await post(opts, opts.challengeUrl, true, JSON.stringify({ purpose: opts.purpose }));
      const challenge = await ch.json();
      if (ch.status !== 201) throw { message: challenge.message || challenge.title, reason: challenge.error };
      const frameUrl = opts.frameUrl.replace("NONCE", encodeURIComponent(challenge.nonce));
      const started = Date.now();
      let answer = { phase: "waiting", face: true };
      showPrompt(opts, answer);
      while (answer.phase === "waiting" || answer.phase === "acting") {
        if (Date.now() - started > STREAM_LIMIT_MS) break;
        const form = new FormData();
        form.append("frame", await grab(), "frame.jpg");
        const r = await post(opts, frameUrl, false, form);
        answer = await r.json();
        if (r.status !== 200) throw { message: answer.message || answer.title, reason: answer.error };
        showPrompt(opts, answer);
        await wait(STREAM_GAP_MS);
      }
      const form = new FormData();
      form.append("nonce", challenge.nonce);
      form.append("device", navigator.userAgent);
      form.append("captured_at", new Date().toISOString());  // checked against the server's clock
      const r = await post(opts, opts.url, false, form);
      const body = await r.json();
      showAnswer(opts, body);
    } catch (e) {
      showFailure(opts, e);
    }
    opts.actionEl.dataset.action = "";
    opts.actionEl.textContent = "";
    if (opts.hintEl) opts.hintEl.textContent = "";
  }

  return { run: run, converse: converse };
})();
