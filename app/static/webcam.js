// Opening the webcam for every camera page, with what to do in words when it cannot be opened:
// an insecure context (no navigator.mediaDevices: the page must be served over HTTPS), a denied,
// missing or busy camera, with hints for WeChat's and phones' browsers. Asks for the front
// camera and mirrors the preview only (frames are captured unmirrored). The messages come from
// the page's #webcam-messages element (translated by the server).
window.SkillTraceWebcam = (function () {
  const WECHAT = /MicroMessenger/i.test(navigator.userAgent);
  const PHONE = /Android|iPhone|iPad|Mobile/i.test(navigator.userAgent);

  function messages() {
    const el = document.getElementById("webcam-messages");
    return el ? el.dataset : {};
  }

  function reasonOf(err) {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return "insecure";
    }
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return "denied";
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") return "absent";
    if (name === "NotReadableError" || name === "AbortError" || name === "TrackStartError") return "busy";
    return "other";
  }

  function explain(reason, err) {
    const m = messages();
    const parts = [(m[reason] || m.other || "").replace("{name}", (err && err.name) || "")];
    if (WECHAT && (reason === "insecure" || reason === "denied" || reason === "other")) parts.push(m.wechat);
    else if (PHONE && reason === "denied") parts.push(m.phone);
    return parts.filter(Boolean).join(" ");
  }

  function fail(messageEl, reason, err) {
    messageEl.dataset.state = "camera-error";
    messageEl.dataset.reason = "camera_" + reason;
    messageEl.textContent = explain(reason, err);
    const e = new Error(reason);
    e.cameraReason = reason;
    throw e;
  }

  // Resolves with the stream shown in ``video``; rejects after writing what to do in ``messageEl``.
  function open(video, messageEl) {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.resolve().then(function () { fail(messageEl, "insecure"); });
    }
    video.dataset.camera = "opening";
    return navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
    }).then(function (stream) {
      video.classList.add("mirrored");
      video.srcObject = stream;
      video.dataset.camera = "live";
      return stream;
    }, function (err) {
      video.dataset.camera = "error";
      fail(messageEl, reasonOf(err), err);
    });
  }

  // True when ``video`` shows a live camera picture, so frames taken from it are real.
  function isLive(video) {
    return video.dataset.camera === "live" && video.readyState >= 2 && video.videoWidth > 0;
  }

  // Resolves true once ``video`` is live (waiting up to ``ms`` while the camera is opening),
  // false at once when the camera failed or was never opened.
  function whenLive(video, ms) {
    const until = Date.now() + (ms || 5000);
    return new Promise(function (resolve) {
      (function poll() {
        if (isLive(video)) return resolve(true);
        const pending = video.dataset.camera === "opening" || video.dataset.camera === "live";
        if (!pending || Date.now() > until) return resolve(false);
        setTimeout(poll, 100);
      })();
    });
  }

  return { open: open, isLive: isLive, whenLive: whenLive, explain: explain };
})();
