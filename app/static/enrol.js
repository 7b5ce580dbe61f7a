// Face enrolment: open the webcam, send one frame at a time to the quality check and show its
// verdict in words, keep the good frames, then send them together for enrolment. Frames only
// leave the page for this server; nothing is stored in the browser.
(function () {
  const config = document.getElementById("enrol-config").dataset;
  const video = document.getElementById("enrol-video");
  const canvas = document.getElementById("enrol-canvas");
  const feedback = document.getElementById("enrol-feedback");
  const progress = document.getElementById("enrol-progress");
  const result = document.getElementById("enrol-result");
  const restart = document.getElementById("enrol-start");
  const ctx = canvas.getContext("2d");
  const needed = parseInt(config.frames, 10);
  const pauseMs = 250;  // between checks, so the good frames are spread over a moment
  let good = [];
  let running = false;
  let stream = null;

  function show(el, state, text) {
    el.dataset.state = state;
    el.textContent = text;
  }

  function showProgress() {
    progress.textContent = config.msgProgress.replace("{n}", good.length).replace("{total}", needed);
  }

  function grab() {
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.9); });
  }

  async function post(url, form) {
    const response = await fetch(url, {
      method: "POST", body: form, credentials: "same-origin",
      headers: { "X-CSRFToken": config.csrf, "Accept": "application/json" },
    });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!body) throw new Error("network");
    return { status: response.status, body: body };
  }

  async function enrol() {
    show(result, "sending", config.msgSending);
    const form = new FormData();
    good.forEach(function (blob, i) { form.append("frames", blob, "frame" + i + ".jpg"); });
    try {
      const answer = await post(config.enrolUrl, form);
      if (answer.status === 201) {
        show(result, "enrolled", answer.body.message);
        stop();
        return;
      }
      result.dataset.error = answer.body.error || "";
      show(result, "refused", answer.body.message);
    } catch (e) {
      show(result, "error", config.msgNetwork);
    }
    restart.hidden = false;
  }

  async function loop() {
    while (running && good.length < needed) {
      const blob = await grab();
      const form = new FormData();
      form.append("frame", blob, "frame.jpg");
      let answer;
      try {
        answer = await post(config.checkUrl, form);
      } catch (e) {
        show(feedback, "error", config.msgNetwork);
        break;
      }
      if (answer.status !== 200) {  // no consent, signed out, server trouble: stop and say so
        feedback.dataset.reason = answer.body.error || "";
        show(feedback, "error", answer.body.message);
        running = false;
        restart.hidden = false;
        return;
      }
      feedback.dataset.reason = answer.body.reason || "";
      show(feedback, answer.body.ok ? "ok" : "refused", answer.body.message);
      if (answer.body.ok) {
        good.push(blob);
        showProgress();
      }
      await new Promise(function (r) { setTimeout(r, pauseMs); });
    }
    if (running && good.length >= needed) {
      running = false;
      await enrol();
    }
  }

  function stop() {
    running = false;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
  }

  function start() {
    good = [];
    restart.hidden = true;
    show(result, "pending", "");
    showProgress();
    running = true;
    loop();
  }

  restart.addEventListener("click", start);
  window.SkillTraceWebcam.open(video, feedback)
    .then(function (s) {
      stream = s;
      video.addEventListener("loadeddata", start, { once: true });
    })
    .catch(function () { /* webcam.js has said what to do; no frame is sent */ });
})();
