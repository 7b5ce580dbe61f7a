// Check-in and check-out with a server-paced face check (face_check.js `converse`). Kiosk mode:
// at first run the page takes the one-time enrolment code, makes an ECDSA P-256 key pair with
// WebCrypto (private key not extractable), keeps the key in IndexedDB and sends the public key
// with the code; every request is then signed (app/services/kiosks.py says what is signed).
(function () {
  const config = document.getElementById("checkin-config").dataset;
  const video = document.getElementById("checkin-video");
  const canvas = document.getElementById("checkin-canvas");
  const actionEl = document.getElementById("checkin-action");
  const result = document.getElementById("checkin-result");
  const buttons = [document.getElementById("check-in-button"), document.getElementById("check-out-button")];
  const kiosk = config.mode === "kiosk" ? kioskDevice() : null;

  function headers(json) {
    const h = { "Accept": "application/json" };
    if (json) h["Content-Type"] = "application/json";
    if (!kiosk) h["X-CSRFToken"] = config.csrf;
    return h;
  }

  async function run(purpose) {
    buttons.forEach(function (b) { b.disabled = true; });
    await window.faceCheck.converse({
      purpose: purpose, url: purpose === "check_in" ? config.checkInUrl : config.checkOutUrl,
      challengeUrl: config.challengeUrl, frameUrl: config.frameUrl, headers: headers, video: video,
      canvas: canvas, actionEl: actionEl, hintEl: document.getElementById("checkin-hint"), result: result,
      msgWorking: config.msgWorking, msgWait: config.msgWait, msgNetwork: config.msgNetwork,
      sign: kiosk ? kiosk.sign : null,
    });
    // the page's blocker (server-rendered `data-blocked`) holds until a check is accepted
    if (result.dataset.state === "accepted") {
      buttons.forEach(function (b) { delete b.dataset.blocked; });
      const reason = document.getElementById("check-buttons-reason");
      if (reason) reason.hidden = true;
    }
    buttons.forEach(function (b) { b.disabled = b.dataset.blocked === "1"; });
  }

  // The kiosk's device key: enrolment, storage and request signatures.
  function kioskDevice() {
    const DB = "skilltrace-kiosk", STORE = "device";
    const clockOffset = Number(config.serverTime) - Math.floor(Date.now() / 1000);
    const form = document.getElementById("kiosk-enrol"), said = document.getElementById("kiosk-enrol-result");
    const identity = document.getElementById("kiosk-identity");
    let device = null;

    function store(mode, action) {
      return new Promise(function (resolve, reject) {
        const open = indexedDB.open(DB, 1);
        open.onupgradeneeded = function () { open.result.createObjectStore(STORE); };
        open.onerror = function () { reject(open.error); };
        open.onsuccess = function () {
          const tx = open.result.transaction(STORE, mode);
          const request = action(tx.objectStore(STORE));
          tx.oncomplete = function () { resolve(request.result); };
          tx.onerror = function () { reject(tx.error); };
        };
      });
    }
    function b64(buffer) { return btoa(String.fromCharCode.apply(null, new Uint8Array(buffer))); }
    function hex(buffer) {
      return Array.from(new Uint8Array(buffer), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    }
    function nonce() {
      const bytes = new Uint8Array(18);
      crypto.getRandomValues(bytes);
      return b64(bytes).replace(/\+/g, "-").replace(/\//g, "_");
    }
    function show() {
      const ready = device !== null;
      form.hidden = ready;
      identity.hidden = !ready;
      identity.dataset.key = ready ? device.key : "";
      identity.textContent = ready ? config.msgKiosk.replace("{name}", device.name).replace("{site}", device.site) : "";
      buttons.forEach(function (b) { b.disabled = !ready; });
    }

    async function enrol(code) {
      const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
      const r = await fetch(config.enrolUrl, { method: "POST", credentials: "omit",
        headers: { "Accept": "application/json", "Content-Type": "application/json" },
        body: JSON.stringify({ code: code, public_key: b64(spki) }) });
      const body = await r.json();
      if (r.status !== 201) throw { message: body.message || body.title, reason: body.error };
      device = { key: body.key, name: body.name, site: body.site, privateKey: pair.privateKey };
      await store("readwrite", function (s) { return s.put(device, "device"); });
    }

    // A request init for `url` carrying the signature of its method, path, time, nonce and body.
    async function sign(url, init) {
      const request = new Request(url, init);
      const body = await request.arrayBuffer();
      const h = new Headers(init.headers);
      const type = request.headers.get("Content-Type");
      if (type) h.set("Content-Type", type);
      const time = String(Math.floor(Date.now() / 1000) + clockOffset), once = nonce();
      const digest = hex(await crypto.subtle.digest("SHA-256", body));
      const message = [init.method, new URL(url, location.href).pathname, time, once, digest].join("\n");
      const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, device.privateKey,
                                                 new TextEncoder().encode(message));
      h.set("X-Kiosk-Key", device.key);
      h.set("X-Kiosk-Time", time);
      h.set("X-Kiosk-Nonce", once);
      h.set("X-Kiosk-Signature", b64(signature));
      return Object.assign({}, init, { headers: h, body: body, credentials: "omit" });
    }

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      said.dataset.state = "working";
      enrol(document.getElementById("kiosk-code").value).then(function () {
        said.dataset.state = "enrolled";
        said.textContent = "";
        show();
      }, function (e) {
        said.dataset.state = "refused";
        said.textContent = (e && e.message) || config.msgNetwork;
      });
    });
    show();
    if (!window.crypto || !crypto.subtle || !window.indexedDB) {
      said.dataset.state = "refused";
      said.textContent = config.msgNoCrypto;
    } else {
      store("readonly", function (s) { return s.get("device"); }).then(function (saved) {
        device = saved || null;
        show();
      }, function () { show(); });
    }
    return { sign: sign };
  }

  buttons[0].addEventListener("click", function () { run("check_in"); });
  buttons[1].addEventListener("click", function () { run("check_out"); });
  window.SkillTraceWebcam.open(video, result).catch(function () { /* said in words by webcam.js */ });
})();
