// Face checks (the check-in and kiosk pages, and the online-study page for its start, end and
// roll-calls). `converse`: a server-paced challenge — stream each frame as it is captured, show
// whatever prompt the server's answer carries, large and in words, until the server says done or
// failed, then ask for the check with the nonce, and show the answer in words. A colour prompt
// fills the whole screen with that colour (the face must reflect it). `converse` reports the
// camera's device label when it starts (a risk signal for the server, never proof).
window.faceCheck = (function () {
  const STREAM_GAP_MS = 120, STREAM_LIMIT_MS = 90000, COLOUR_SETTLE_MS = 300;
  const SCREEN_COLOURS = { red: "#ff0000", green: "#00ff00", blue: "#0000ff", white: "#ffffff" };

  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // No picture: send nothing, so a blank frame never counts toward the lock-out. True when live.
  async function cameraLive(opts) {
    if (await window.SkillTraceWebcam.whenLive(opts.video)) return true;
    const m = document.getElementById("webcam-messages").dataset;
    opts.result.dataset.state = "camera-error";
    opts.result.dataset.reason = "camera_not_live";
    opts.result.textContent = m.notLive;
    return false;
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

  // The full-screen colour of a colour prompt (created once, on top of everything), or none.
  // True when the colour changed, so that the next frame waits for the screen and camera.
  function showColour(answer) {
    let flash = document.getElementById("colour-flash");
    const colour = answer.prompt && answer.prompt.action === "colour" ? answer.prompt.colour : "";
    if (!flash) {
      if (!colour) return false;
      flash = document.createElement("div");
      flash.id = "colour-flash";
      flash.className = "colour-flash";
      flash.setAttribute("role", "status");
      document.body.appendChild(flash);
    }
    const changed = flash.dataset.colour !== colour;
    flash.dataset.colour = colour;
    flash.hidden = !colour;
    flash.style.backgroundColor = SCREEN_COLOURS[colour] || "";
    flash.textContent = colour ? answer.prompt.text : "";
    return changed && !!colour;
  }

  function cameraLabel(video) {
    const tracks = video.srcObject && video.srcObject.getVideoTracks ? video.srcObject.getVideoTracks() : [];
    return tracks.length ? tracks[0].label || "" : "";
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
  // msgNetwork, fields (optional: more form fields for the final request), sign (optional).
  // Resolves when the answer is shown.
  async function converse(opts) {
    if (!(await cameraLive(opts))) return;
    const result = opts.result, grab = grabber(opts);
    result.dataset.state = "working";
    result.dataset.reason = "";
    result.textContent = opts.msgWorking;
    try {
      const ch = await post(opts, opts.challengeUrl, true,
        JSON.stringify({ purpose: opts.purpose, camera_label: cameraLabel(opts.video) }));
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
        await wait(showColour(answer) ? COLOUR_SETTLE_MS : STREAM_GAP_MS);
      }
      const form = new FormData();
      form.append("nonce", challenge.nonce);
      form.append("device", navigator.userAgent);
      form.append("captured_at", new Date().toISOString());  // checked against the server's clock
      Object.entries(opts.fields || {}).forEach(function (f) { form.append(f[0], f[1]); });
      const r = await post(opts, opts.url, false, form);
      const body = await r.json();
      showAnswer(opts, body);
    } catch (e) {
      showFailure(opts, e);
    }
    showColour({});
    opts.actionEl.dataset.action = "";
    opts.actionEl.textContent = "";
    if (opts.hintEl) opts.hintEl.textContent = "";
  }

  return { converse: converse };
})();
