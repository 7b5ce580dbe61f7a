// Camera check: open the webcam, copy frames to a canvas, report how many arrived and whether
// the picture has detail (variance of brightness), so a black or frozen feed is noticed.
(function () {
  const video = document.getElementById("camera-video");
  const canvas = document.getElementById("camera-canvas");
  const status = document.getElementById("camera-status");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let frames = 0;

  function variance() {
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0, sumSq = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const y = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      sum += y; sumSq += y * y;
    }
    const mean = sum / n;
    return sumSq / n - mean * mean;
  }

  function onFrame() {
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    frames += 1;
    if (frames % 10 === 0) {
      const v = variance();
      status.dataset.frames = String(frames);
      status.dataset.variance = v.toFixed(1);
      status.dataset.state = v > 50 ? "ok" : "flat";
      status.textContent = v > 50 ? status.dataset.msgOk.replace("{n}", frames) : status.dataset.msgDark;
    }
    video.requestVideoFrameCallback(onFrame);
  }

  window.SkillTraceWebcam.open(video, status)
    .then(function () { video.requestVideoFrameCallback(onFrame); })
    .catch(function () { /* webcam.js has said what to do */ });
})();
