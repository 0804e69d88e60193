// The dashboard's programme and preview monitors: one picture WebSocket each
// (/api/v1/monitors/{which}/ws), drawn on a canvas; polled while a socket cannot open.
// Loaded before app.js, which owns the state, the API helpers and the loops.
"use strict";

function newMonitor(which) {
  return { which, ws: null, failures: 0, polling: false, scene: undefined, pictures: 0, lastAt: 0, decoding: false, pending: null, mode: "connecting" };
}

function connectMonitor(m) {
  if (!state.running || !state.monitors.includes(m)) return;
  let ws;
  try {
    ws = new WebSocket(socketUrl(`/monitors/${m.which}/ws`));
  } catch {
    return monitorClosed(m, false);
  }
  ws.binaryType = "blob";
  m.ws = ws;
  let opened = false;
  ws.onopen = () => {
    opened = true;
    m.failures = 0;
    m.polling = false;
    m.mode = "live";
    showMonitorMeta(m);
  };
  ws.onmessage = (message) => {
    if (typeof message.data !== "string") return drawPicture(m, message.data);
    try {
      const data = JSON.parse(message.data);
      if (data.type === "monitor") setMonitorScene(m, data.scene);
    } catch {}
  };
  ws.onclose = () => {
    if (m.ws === ws) monitorClosed(m, opened);
  };
}

/** Reconnects with backoff; a socket that never opened is polled for meanwhile. */
function monitorClosed(m, opened) {
  m.ws = null;
  if (!state.running || !state.monitors.includes(m)) return;
  const delay = MONITOR_BACKOFF_MS[Math.min(m.failures++, MONITOR_BACKOFF_MS.length - 1)];
  m.mode = opened ? "reconnecting" : "polling";
  if (!opened && !m.polling) {
    m.polling = true;
    pollMonitor(m);
  }
  showMonitorMeta(m);
  later(delay, () => connectMonitor(m));
}

async function pollMonitor(m) {
  if (!m.polling || !state.running || !state.monitors.includes(m)) return;
  try {
    const response = await api("GET", `/monitors/${m.which}`);
    setMonitorScene(m, response.headers.get("x-scene") || null);
    $("frame-index").textContent = response.headers.get("x-frame-index") || $("frame-index").textContent;
    await drawPicture(m, await response.blob());
  } catch (error) {
    if (error.code === "no_picture") setMonitorScene(m, m.which === "program" ? m.scene : null);
    else if (error.status === 404 && m.which === "program") await pollProgrammeJpeg(m).catch(() => {});
  }
  later(MONITOR_POLL_MS, () => pollMonitor(m));
}

/** A server without monitor routes still has the programme picture at /preview.jpg. */
async function pollProgrammeJpeg(m) {
  const response = await api("GET", "/preview.jpg");
  $("frame-index").textContent = response.headers.get("x-frame-index") || "–";
  await drawPicture(m, await response.blob());
}

function setMonitorScene(m, scene) {
  if (m.scene === scene) return;
  m.scene = scene;
  const canvas = $(`${m.which}-monitor`);
  canvas.dataset.scene = scene || "";
  if (m.which === "preview" && !scene) {
    canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    m.lastAt = 0;
  }
  showMonitorMeta(m);
}

/** Decodes and draws one JPEG; while one decodes, only the newest waiting one is kept. */
async function drawPicture(m, blob) {
  if (m.decoding) {
    m.pending = blob;
    return;
  }
  m.decoding = true;
  try {
    for (let next = blob; next; next = m.pending) {
      m.pending = null;
      const bitmap = await createImageBitmap(next);
      if (m.which === "preview" && m.scene === null) {
        bitmap.close(); // the preview scene was cleared while it decoded
        continue;
      }
      const canvas = $(`${m.which}-monitor`);
      if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) Object.assign(canvas, { width: bitmap.width, height: bitmap.height });
      canvas.getContext("2d").drawImage(bitmap, 0, 0);
      bitmap.close();
      m.pictures += 1;
      m.lastAt = performance.now();
      canvas.dataset.pictures = String(m.pictures);
    }
  } catch {
    // A picture that does not decode is skipped; the next one replaces it.
  } finally {
    m.decoding = false;
  }
  showMonitorMeta(m);
}

function showMonitorMeta(m) {
  const empty = (m.which === "preview" && m.scene === null) || !m.lastAt;
  $(`${m.which}-empty`).hidden = !empty;
  $(`${m.which}-empty`).textContent = m.which === "preview" && m.scene === null ? "no preview scene" : "no picture yet";
  $(m.which === "program" ? "program-scene" : "preview-scene-shown").textContent = m.scene || (m.scene === null ? "no scene" : "–");
  const age = m.lastAt ? `${((performance.now() - m.lastAt) / 1000).toFixed(1)} s ago` : "none yet";
  $(`${m.which}-meta`).textContent = `picture ${m.pictures} · ${age} · ${m.mode}`;
  $(`${m.which}-monitor`).dataset.mode = m.mode;
}

