// One face check, shared by the check-in/kiosk page and the online-study page: ask the server
// for a challenge (nonce + liveness action), show the action, capture a short burst of frames
// while the person does it, send them with the nonce, and show the answer in words.
window.faceCheck = (function () {
  const FRAMES = 6, GAP_MS = 200;

  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // opts: purpose, url (where the frames go), challengeUrl, headers(json), video, canvas,
  // actionEl, result, msgWorking, msgNetwork. Resolves when the answer is shown.
  async function run(opts) {
    const result = opts.result, ctx = opts.canvas.getContext("2d");
    if (!(await window.SkillTraceWebcam.whenLive(opts.video))) {
      // no picture: send nothing, so a blank frame never counts toward the lock-out
      const m = document.getElementById("webcam-messages").dataset;
      result.dataset.state = "camera-error";
      result.dataset.reason = "camera_not_live";
      result.textContent = m.notLive;
      return;
    }
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
      result.dataset.state = body.accepted ? "accepted" : "refused";
      result.dataset.purpose = opts.purpose;
      result.dataset.reason = body.error || "";
      result.textContent = body.message || body.detail || body.title;
    } catch (e) {
      result.dataset.state = "refused";
      result.dataset.reason = (e && e.reason) || "network";
      result.textContent = (e && e.message) || opts.msgNetwork;
    }
    opts.actionEl.textContent = "";
  }

  return { run: run };
})();
