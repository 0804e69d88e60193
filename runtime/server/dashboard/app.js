// The showrunner dashboard: a login, then the show over /api/v1 with the token in
// sessionStorage. Every data call carries `Authorization: Bearer TOKEN`; a 401 from
// any of them goes back to the login. Live notices and stats come from the WebSocket
// (/api/v1/ws?token=), the show itself is polled once a second, the programme picture
// about 8 times a second. Everything the server sends is put in the page as text.
"use strict";

const TOKEN_KEY = "showrunner.token";
const API = "/api/v1";
const PREVIEW_INTERVAL_MS = 125;
const SHOW_INTERVAL_MS = 1000;
const OUTPUTS_INTERVAL_MS = 2000;
const MAX_NOTICES = 8;

const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem(TOKEN_KEY), running: false, timers: [], ws: null, modules: new Map(), show: null, previewUrl: null };

class ApiFailure extends Error {
  constructor(status, body) {
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

function every(ms, task) {
  const tick = async () => {
    if (!state.running) return;
    try {
      await task();
    } catch (error) {
      if (error.status !== 401) $("status").textContent = `error: ${error.message}`;
    }
    if (state.running) state.timers.push(setTimeout(tick, ms));
  };
  tick();
}

function start() {
  state.running = true;
  every(PREVIEW_INTERVAL_MS, refreshPreview);
  every(SHOW_INTERVAL_MS, refreshShow);
  every(OUTPUTS_INTERVAL_MS, refreshOutputs);
  refreshModules();
  connectEvents();
}

function stop() {
  state.running = false;
  state.timers.forEach(clearTimeout);
  state.timers = [];
  if (state.ws) state.ws.close();
  state.ws = null;
}

async function refreshPreview() {
  const response = await api("GET", "/preview.jpg");
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const img = $("preview");
  await new Promise((resolve) => {
    img.onload = img.onerror = resolve;
    img.src = url;
  });
  if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
  state.previewUrl = url;
  img.dataset.frame = response.headers.get("x-frame-index") || "";
  $("frame-index").textContent = img.dataset.frame || "–";
}

// --- events (WebSocket) -----------------------------------------------------------

function connectEvents() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  let ws;
  try {
    ws = new WebSocket(`${scheme}//${location.host}${API}/ws?token=${encodeURIComponent(state.token)}`);
  } catch {
    $("status").textContent = "polling (no live events)";
    return;
  }
  state.ws = ws;
  ws.onopen = () => ($("status").textContent = "live");
  ws.onclose = () => {
    if (state.ws !== ws || !state.running) return;
    $("status").textContent = "polling (events reconnecting)";
    state.timers.push(setTimeout(connectEvents, 3000));
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
    case "swap_failed":
      notice("fault", `Swap on layer ${event.layer} failed: ${event.reason}`);
      break;
    case "output":
      notice("info", `Output ${event.id}: ${event.message}`);
      break;
    case "engine":
      notice("fault", `Engine: ${event.message}`);
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

// --- show: scenes and layers ------------------------------------------------------

async function refreshShow() {
  const show = await apiJson("GET", "/show");
  state.show = show;
  $("program-name").textContent = show.incoming ? `${show.program} → ${show.incoming}` : show.program;
  if (!$("frame-index").textContent || $("frame-index").textContent === "–") $("frame-index").textContent = show.frame;
  fillSelect($("preview-scene"), [["", "(none)"], ...show.scenes.map((s) => [s.name, s.name])], show.preview || "");
  const unknown = show.scenes.flatMap((s) => s.layers).some((l) => !state.modules.has(l.module));
  if (unknown) await refreshModules();
  renderScenes(show);
}

function fillSelect(select, options, selected) {
  const wanted = JSON.stringify(options);
  if (select.dataset.options !== wanted) {
    const keep = select.value;
    select.replaceChildren(...options.map(([value, label]) => el("option", { value }, label)));
    select.dataset.options = wanted;
    select.value = selected === undefined ? keep : selected;
  } else if (selected !== undefined && document.activeElement !== select) {
    select.value = selected;
  }
}

function renderScenes(show) {
  const root = $("scenes");
  const ordered = [...show.scenes].sort((a, b) => (b.name === show.program) - (a.name === show.program));
  const seen = new Set();
  for (const scene of ordered) {
    seen.add(scene.name);
    let box = root.querySelector(`details[data-scene="${CSS.escape(scene.name)}"]`);
    if (!box) {
      box = el("details", { "data-scene": scene.name, open: scene.name === show.program }, el("summary"), el("div", { class: "layers" }));
      root.append(box);
    }
    const role = scene.name === show.program ? " (program)" : scene.name === show.preview ? " (preview)" : "";
    box.querySelector("summary").textContent = `${scene.name}${role} · ${scene.layers.length} layer(s)`;
    const list = box.querySelector(".layers");
    const ids = new Set(scene.layers.map((l) => l.id));
    for (const card of [...list.children]) if (!ids.has(card.dataset.layer)) card.remove();
    for (const layer of [...scene.layers].sort((a, b) => b.z - a.z)) {
      const signature = JSON.stringify([layer, state.modules.get(layer.module)?.name]);
      const old = list.querySelector(`[data-layer="${CSS.escape(layer.id)}"]`);
      if (old && old.dataset.signature === signature) continue;
      const card = layerCard(layer);
      card.dataset.signature = signature;
      old ? old.replaceWith(card) : list.append(card);
    }
    root.append(box);
  }
  for (const box of [...root.children]) if (!seen.has(box.dataset.scene)) box.remove();
}

function layerCard(layer) {
  const module = state.modules.get(layer.module);
  const error = el("p", { class: "error" });
  const path = `/layers/${encodeURIComponent(layer.id)}`;
  const send = (name) => attempt(error, () => apiJson("POST", `${path}/events`, { name, payload: "" }));
  const patch = (body) => attempt(error, async () => { await apiJson("PATCH", path, body); await refreshShow(); });
  return el("article", { class: "layer", "data-layer": layer.id },
    el("header", {},
      el("strong", {}, layer.id),
      el("span", { class: "meta" }, module ? `${module.name}@${module.version}` : layer.module.slice(0, 12)),
      el("label", {}, el("input", { type: "checkbox", class: "visible", checked: layer.visible, onchange: (e) => patch({ visible: e.target.checked }) }), " visible"),
      el("label", {}, "z ", el("input", { type: "number", class: "z", value: String(layer.z), step: "1", onchange: (e) => patch({ z: Number(e.target.value) }) }))),
    el("div", { class: "row" },
      ...["play", "stop", "next"].map((name) => el("button", { type: "button", class: `event-${name}`, onclick: () => send(name) }, name)),
      el("button", { type: "button", onclick: () => attempt(error, () => apiJson("POST", `${path}/release`)) }, "release"),
      el("button", { type: "button", class: "danger", onclick: () => confirm(`Remove layer ${layer.id}?`) && attempt(error, async () => { await apiJson("DELETE", path); await refreshShow(); }) }, "remove")),
    propsForm(layer, module ? module.props : []),
    error);
}

// --- props forms -------------------------------------------------------------------

const hex2 = (v) => Math.round(Math.min(1, Math.max(0, v)) * 255).toString(16).padStart(2, "0").toUpperCase();

/** A spec default (`{type, value}`) or a layer's plain JSON value, as plain JSON. */
function plainValue(spec, current) {
  if (current !== undefined) return current;
  const { type, value } = spec.default || {};
  if (type === "color") return `#${hex2(value.r)}${hex2(value.g)}${hex2(value.b)}${value.a >= 1 ? "" : hex2(value.a)}`;
  return value;
}

function propsForm(layer, specs) {
  if (!specs.length) return el("p", { class: "meta" }, "no props");
  const fields = specs.map((spec) => {
    const type = spec.default && spec.default.type;
    const value = plainValue(spec, layer.props[spec.name]);
    const id = `prop-${layer.id}-${spec.name}`;
    let input;
    if (type === "number") input = el("input", { type: "number", step: "any", min: spec.min ?? undefined, max: spec.max ?? undefined, value: String(value) });
    else if (type === "flag") input = el("input", { type: "checkbox", checked: Boolean(value) });
    else if (type === "color") input = el("input", { type: "color", value: String(value).slice(0, 7).toLowerCase(), "data-alpha": String(value).slice(7) });
    else input = el("input", { type: "text", value: String(value ?? ""), maxlength: "4096" });
    Object.assign(input, { id, name: spec.name });
    input.dataset.type = type;
    const range = type === "number" && (spec.min != null || spec.max != null) ? ` (${spec.min ?? "…"}–${spec.max ?? "…"})` : "";
    return el("div", { class: "field", "data-prop": spec.name }, el("label", { for: id }, `${spec.label || spec.name}${range}`), input, el("span", { class: "error field-error" }));
  });
  const form = el("form", { class: "props", "data-layer": layer.id }, ...fields, el("button", { type: "submit" }, "Apply props"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    form.querySelectorAll(".field-error").forEach((s) => (s.textContent = ""));
    const body = {};
    for (const input of form.querySelectorAll("input")) {
      const t = input.dataset.type;
      body[input.name] = t === "number" ? Number(input.value) : t === "flag" ? input.checked : t === "color" ? input.value.toUpperCase() + (input.dataset.alpha || "") : input.value;
    }
    try {
      await apiJson("PATCH", `/layers/${encodeURIComponent(layer.id)}/props`, body);
      await refreshShow();
    } catch (error) {
      if (error.status === 401) return;
      const field = error.details.prop && form.querySelector(`[data-prop="${CSS.escape(error.details.prop)}"] .field-error`);
      (field || form.parentElement.querySelector(":scope > .error")).textContent = error.message;
    }
  });
  return form;
}

// --- module library -----------------------------------------------------------------

async function refreshModules() {
  const { modules } = await apiJson("GET", "/modules");
  state.modules = new Map(modules.map((m) => [m.hash, m]));
  const scenes = state.show ? state.show.scenes.map((s) => s.name) : ["main"];
  const layers = state.show ? state.show.scenes.flatMap((s) => s.layers.map((l) => l.id)) : [];
  const transitions = modules.filter((m) => m.world === "transition");
  fillSelect($("take-transition"), [["", "cut"], ...transitions.map((m) => [m.hash, `${m.name}@${m.version}`])]);
  $("modules").replaceChildren(...modules.map((m) => moduleItem(m, scenes, layers)));
}

function moduleItem(module, scenes, layers) {
  const out = el("p", { class: "meta" });
  const layerId = el("input", { class: "new-layer-id", placeholder: "layer id", required: true, value: module.name.replace(/[^a-z0-9-]/gi, "-").toLowerCase() });
  const scene = el("select", { class: "new-layer-scene" }, ...scenes.map((s) => el("option", { value: s, selected: state.show && s === state.show.program }, s)));
  const target = el("select", { class: "swap-layer" }, ...layers.map((l) => el("option", { value: l }, l)));
  const add = () => attempt(out, async () => {
    await apiJson("POST", "/layers", { id: layerId.value, scene: scene.value, module: module.hash });
    out.textContent = `added layer ${layerId.value} to ${scene.value}`;
    await refreshShow();
    await refreshModules();
  });
  const swap = () => attempt(out, async () => {
    const r = await apiJson("POST", `/layers/${encodeURIComponent(target.value)}/swap`, { module: module.hash });
    out.textContent = `swapped ${r.layer}: ${r.from} → ${r.to} in ${r.swap_ms.toFixed(1)} ms, state ${r.state_carried ? `carried (${r.state_bytes} bytes)` : "not carried"}`;
    await refreshShow();
  });
  return el("li", { "data-module": module.hash },
    el("div", {}, el("strong", {}, `${module.name}@${module.version}`), el("span", { class: "meta" }, ` ${module.hash.slice(0, 12)}… · ${(module.size / 1024).toFixed(0)} KiB`)),
    el("div", { class: "row" }, layerId, scene, el("button", { type: "button", class: "add-layer", onclick: add }, "Add as layer")),
    layers.length ? el("div", { class: "row" }, target, el("button", { type: "button", class: "swap", onclick: swap }, "Swap onto layer")) : null,
    out);
}

async function upload(file) {
  const out = $("upload-result");
  out.textContent = `uploading ${file.name}…`;
  await attempt(out, async () => {
    const m = await (await api("POST", "/modules", await file.arrayBuffer(), "application/wasm")).json();
    out.textContent = `uploaded ${m.name}@${m.version} (${m.props.length} props)`;
    await refreshModules();
  });
}

// --- scenes, take, outputs ----------------------------------------------------------

async function refreshOutputs() {
  const o = await apiJson("GET", "/outputs");
  $("streaming").textContent = o.streaming ? "streaming" : "off";
  $("recording").textContent = o.recording ? `recording ${o.recording.target} · ${o.recording.state}` : "";
  $("outputs").replaceChildren(...o.outputs.map((d) => el("li", { "data-output": d.id },
    el("strong", {}, d.id), ` ${d.target} · ${d.state} · ${d.bitrate_kbps} kbps · ${d.reconnects} reconnects`, d.error ? el("span", { class: "error" }, ` ${d.error}`) : null,
    el("button", { type: "button", class: "danger", onclick: () => attempt($("output-error"), async () => { await apiJson("DELETE", `/outputs/${encodeURIComponent(d.id)}`); await refreshOutputs(); }) }, "remove"))));
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
  $("output-form").addEventListener("submit", (e) => { e.preventDefault(); outputAction(() => apiJson("POST", "/outputs", { id: $("output-id").value, url: $("output-url").value }))(); });
  $("preview-scene").addEventListener("change", (e) => attempt($("scene-error"), async () => { await apiJson("PUT", "/preview", { scene: e.target.value || null }); await refreshShow(); }));
  $("take").addEventListener("click", () => attempt($("scene-error"), async () => {
    const module = $("take-transition").value;
    await apiJson("POST", "/take", module ? { transition: { module, duration_ms: Number($("take-duration").value) } } : {});
    await refreshShow();
  }));
  $("scene-form").addEventListener("submit", (e) => { e.preventDefault(); attempt($("scene-error"), async () => { await apiJson("POST", "/scenes", { name: $("scene-name").value }); $("scene-name").value = ""; await refreshShow(); await refreshModules(); }); });
  $("module-file").addEventListener("change", (e) => e.target.files[0] && upload(e.target.files[0]));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]); });
}

wire();
if (state.token) login(state.token);
else showLogin();
