// The showrunner dashboard: a login, then the show over /api/v1 with the token in
// sessionStorage. Every data call carries `Authorization: Bearer TOKEN`; a 401 from
// any of them goes back to the login. Live notices and stats (drawn as charts) come
// from the event WebSocket (/api/v1/ws?token=); the programme and preview monitors
// from one picture WebSocket each (/api/v1/monitors/{which}/ws), polled instead while
// a socket cannot open. The show is polled once a second, outputs and inputs every 2 s.
// Everything the server sends is put in the page as text.
"use strict";

const TOKEN_KEY = "showrunner.token";
const API = "/api/v1";
const SHOW_INTERVAL_MS = 1000;
const OUTPUTS_INTERVAL_MS = 2000;
const MONITOR_POLL_MS = 250;
const MONITOR_BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
const CHART_SECONDS = 60;
const MAX_NOTICES = 8;

const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem(TOKEN_KEY), running: false, session: 0, timers: new Set(), ws: null, modules: new Map(), show: null, monitors: [], samples: [] };

class ApiFailure extends Error {
  constructor(status, body) {
    if (body && body.error) body = body.error;
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.details = (body && body.details) || {};
  }
}

/** `el("div", {class: "x", onclick: f}, child, "text")`: an element, children as nodes or text. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

async function api(method, path, body, contentType = "application/json") {
  if (!state.token) throw new ApiFailure(401, { message: "not logged in" });
  const headers = { Authorization: `Bearer ${state.token}` };
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = contentType;
    payload = contentType === "application/json" ? JSON.stringify(body) : body;
  }
  const response = await fetch(API + path, { method, headers, body: payload, cache: "no-store" });
  if (response.status === 401) {
    logout("The token was refused: log in again.");
    throw new ApiFailure(401, { message: "unauthorized" });
  }
  if (!response.ok) throw new ApiFailure(response.status, await response.json().catch(() => null));
  return response;
}
const apiJson = async (method, path, body) => {
  const response = await api(method, path, body);
  return response.status === 204 || response.status === 202 ? null : response.json();
};

/** Runs `action`, putting its failure's message in `target` (an element) instead of throwing. */
async function attempt(target, action) {
  if (target) target.textContent = "";
  try {
    return await action();
  } catch (error) {
    if (error.status !== 401 && target) target.textContent = error.message;
    return undefined;
  }
}

// --- login ----------------------------------------------------------------------

function showLogin(message) {
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

function logout(message) {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  stop();
  showLogin(message);
}

async function login(token) {
  state.token = token;
  try {
    await apiJson("GET", "/show");
  } catch (error) {
    if (error.status !== 401) showLogin(`The server did not answer: ${error.message}`);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("login").hidden = true;
  $("app").hidden = false;
  start();
}

// --- loops ----------------------------------------------------------------------

/** Runs `task` after `ms` while the page is logged in; `stop` cancels it. */
function later(ms, task) {
  const timer = setTimeout(() => {
    state.timers.delete(timer);
    if (state.running) task();
  }, ms);
  state.timers.add(timer);
  return timer;
}

/** Runs `task` now and `ms` after each run ends, until this login session stops. */
function every(ms, task) {
  const session = state.session;
  const tick = async () => {
    if (state.session !== session) return;
    try {
      await task();
    } catch (error) {
      if (error.status !== 401) $("status").textContent = `error: ${error.message}`;
    }
    later(ms, tick);
  };
  if (state.running) tick();
}

function start() {
  state.running = true;
  state.session += 1;
  state.samples = [];
  every(SHOW_INTERVAL_MS, refreshShow);
  every(OUTPUTS_INTERVAL_MS, () => Promise.all([refreshOutputs(), refreshInputs()]));
  refreshModules();
  connectEvents();
  state.monitors = ["program", "preview"].map(newMonitor);
  state.monitors.forEach(connectMonitor);
  every(500, () => state.monitors.forEach(showMonitorMeta));
}

function stop() {
  state.running = false;
  state.timers.forEach(clearTimeout);
  state.timers.clear();
  for (const socket of [state.ws, ...state.monitors.map((m) => m.ws)]) if (socket) socket.close();
  state.ws = null;
  state.monitors = [];
}

const socketUrl = (path) => `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${API}${path}?token=${encodeURIComponent(state.token)}`;

// --- events (WebSocket) -----------------------------------------------------------

function connectEvents() {
  let ws;
  try {
    ws = new WebSocket(socketUrl("/ws"));
  } catch {
    $("status").textContent = "polling (no live events)";
    return;
  }
  state.ws = ws;
  ws.onopen = () => ($("status").textContent = "live");
  ws.onclose = () => {
    if (state.ws !== ws || !state.running) return;
    $("status").textContent = "polling (events reconnecting)";
    later(3000, connectEvents);
  };
  ws.onmessage = (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (data.type === "event" && data.event) onEvent(data.event);
  };
}

function onEvent(event) {
  switch (event.type) {
    case "stats":
      $("stats").textContent = `${event.frame_ms_mean.toFixed(1)} ms/frame (max ${event.frame_ms_max.toFixed(1)}, budget ${event.budget_ms.toFixed(1)}) · late ${event.frames_late} · dropped ${event.frames_dropped}`;
      $("frame-index").textContent = event.frame;
      drawCharts(event);
      break;
    case "module_fault":
      notice("fault", `Layer ${event.layer}: ${event.module} faulted in ${event.call}: ${event.reason}`, `fault:${event.layer}`);
      break;
    case "performance_warning":
      notice("warn", `Performance: ${event.message}`, `perf:${event.kind}`);
      break;
    case "quarantined":
      notice("fault", `Layer ${event.layer} is quarantined (${event.module}): ${event.reason}. Release it from its layer card.`, `quarantined:${event.layer}`);
      break;
    case "module_swapped":
      notice("info", `Layer ${event.layer} swapped ${moduleLabel(event.from)} → ${moduleLabel(event.to)} in ${event.swap_ms.toFixed(1)} ms, state ${event.state_carried ? "carried" : "not carried"}`, `swapped:${event.layer}`);
      refreshShow().catch(() => {});
      break;
    case "swap_failed":
      notice("fault", `Swap on layer ${event.layer} failed: ${event.reason}`);
      break;
    case "output":
      notice("info", `Output ${event.id}: ${event.message}`);
      refreshOutputs().catch(() => {});
      break;
    case "input":
      refreshInputs().catch(() => {});
      break;
    case "engine":
      notice("fault", `Engine: ${event.message}`);
      break;
    case "config_reloaded": {
      const applied = event.applied.length ? event.applied.join(", ") : "nothing";
      const waiting = event.needs_restart.length ? `; needs a restart: ${event.needs_restart.join(", ")}` : "";
      notice(event.needs_restart.length ? "warn" : "info", `Settings reloaded: applied ${applied}${waiting}`, "config");
      break;
    }
    case "cluster_status":
      notice(event.up ? "info" : "fault", `Cluster: ${event.message}`, "cluster");
      break;
    case "config_rejected":
      notice("fault", `The changed settings file was not used: ${event.reason}`, "config");
      break;
    default:
      if (/changed|swapped|released/.test(event.type)) refreshShow().catch(() => {});
  }
}

/** Shows a dismissible notice; a repeat of the same `key` updates the one shown and counts it. */
function notice(kind, text, key = text) {
  const box = $("notices");
  const shown = [...box.children].find((n) => n.dataset.key === key);
  const count = shown ? Number(shown.dataset.count) + 1 : 1;
  if (shown) shown.remove();
  const item = el("div", { class: `notice ${kind}`, role: "alert", "data-key": key, "data-count": String(count) },
    el("span", {}, count > 1 ? `${text} (×${count})` : text),
    el("button", { type: "button", class: "dismiss", "aria-label": "dismiss", onclick: () => item.remove() }, "×"));
  box.prepend(item);
  while (box.children.length > MAX_NOTICES) box.lastElementChild.remove();
}

function wire() {
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    login($("token").value.trim());
  });
  $("logout").addEventListener("click", () => logout());
  const outputAction = (action) => () => attempt($("output-error"), async () => { await action(); await refreshOutputs(); });
  $("stream-start").addEventListener("click", outputAction(() => apiJson("POST", "/stream/start")));
  $("stream-stop").addEventListener("click", outputAction(() => apiJson("POST", "/stream/stop")));
  $("record-stop").addEventListener("click", outputAction(() => apiJson("DELETE", "/recording")));
  $("record-form").addEventListener("submit", (e) => { e.preventDefault(); outputAction(() => apiJson("POST", "/recording", { file: $("record-file").value }))(); });
  $("output-form").addEventListener("submit", (e) => {
    e.preventDefault();
    outputAction(async () => {
      await apiJson("POST", "/outputs", { id: $("output-id").value, url: $("output-url").value });
      $("output-url").value = "";
    })();
  });
  $("preview-scene").addEventListener("change", (e) => attempt($("scene-error"), async () => { await apiJson("PUT", "/preview", { scene: e.target.value || null }); await refreshShow(); }));
  $("take").addEventListener("click", () => attempt($("scene-error"), async () => {
    const module = $("take-transition").value;
    await apiJson("POST", "/take", module ? { transition: { module, duration_ms: Number($("take-duration").value) } } : {});
    await refreshShow();
  }));
  $("scene-form").addEventListener("submit", (e) => { e.preventDefault(); attempt($("scene-error"), async () => { await apiJson("POST", "/scenes", { name: $("scene-name").value }); $("scene-name").value = ""; await refreshShow(); await refreshModules(); }); });
  $("input-form").addEventListener("submit", (e) => { e.preventDefault(); addInput(); });
  $("input-kind").addEventListener("change", (e) => {
    const ingest = e.target.value === "ingest";
    Object.assign($("input-source"), { type: ingest ? "password" : "text", placeholder: ingest ? "stream key" : "/abs/path.mp4 or URL" });
    $("input-loop-label").hidden = ingest;
  });
  $("module-file").addEventListener("change", (e) => e.target.files[0] && upload(e.target.files[0]));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]); });
}

wire();
if (state.token) login(state.token);
else showLogin();
