// The dashboard's module library (upload, add as layer, swap), scenes and take,
// outputs and recording, and live inputs. Loaded before app.js.
"use strict";

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
    out.textContent = `swapped ${r.layer}: ${moduleLabel(r.from)} → ${moduleLabel(r.to)} in ${r.swap_ms.toFixed(1)} ms, state ${r.state_carried ? `carried (${r.state_bytes} bytes)` : "not carried"}`;
    await refreshShow();
  });
  const title = el("div", {}, el("strong", {}, `${module.name}@${module.version}`), el("span", { class: "meta" }, ` ${module.hash.slice(0, 12)}… · ${(module.size / 1024).toFixed(0)} KiB`));
  if (module.world === "transition") return el("li", { "data-module": module.hash }, title, el("p", { class: "meta" }, "a transition: choose it next to Take"));
  return el("li", { "data-module": module.hash }, title,
    el("div", { class: "row" }, layerId, scene, el("button", { type: "button", class: "add-layer", onclick: add }, "Add as layer")),
    layers.length ? el("div", { class: "row" }, target, el("button", { type: "button", class: "swap", onclick: swap }, "Swap onto layer")) : null,
    out);
}

/** `name@version` of a module the library knows by this hash, else what the server said. */
function moduleLabel(hashOrName) {
  const module = state.modules.get(hashOrName);
  return module ? `${module.name}@${module.version}` : String(hashOrName).slice(0, 80);
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

/** In a cluster, which node runs an output (its lease holder); nothing on one server. */
const onNode = (output) => (output.owner ? ` · node ${output.owner}` : "");

async function refreshOutputs() {
  const o = await apiJson("GET", "/outputs");
  $("streaming").textContent = o.streaming ? "streaming" : "off";
  $("recording").textContent = o.recording ? `recording ${o.recording.target} · ${o.recording.state}${onNode(o.recording)}` : "";
  $("outputs").replaceChildren(...o.outputs.map((d) => el("li", { "data-output": d.id, "data-state": d.state, "data-reconnects": String(d.reconnects) },
    el("strong", {}, d.id), ` ${d.target} · ${d.state} · ${d.bitrate_kbps} kbps · ${d.reconnects} reconnects${onNode(d)}`, d.error ? el("span", { class: "error" }, ` ${d.error}`) : null,
    el("button", { type: "button", class: "danger", onclick: () => attempt($("output-error"), async () => { await apiJson("DELETE", `/outputs/${encodeURIComponent(d.id)}`); await refreshOutputs(); }) }, "remove"))));
}

// --- inputs -------------------------------------------------------------------------

async function refreshInputs() {
  const inputs = await apiJson("GET", "/inputs");
  $("inputs").replaceChildren(...inputs.map((i) => el("li", { "data-input": i.name, "data-state": i.state },
    el("strong", {}, i.name), ` ${i.kind} · ${i.kind === "ingest" ? i.key_masked : i.uri}${i.looping ? " (loop)" : ""} · ${i.state} · ${i.frames} frames`,
    i.size ? ` · ${i.size.width}x${i.size.height}` : "", i.kind === "ingest" ? ` · ${i.sessions} sessions` : i.loops ? ` · ${i.loops} loops` : "",
    i.error ? el("span", { class: "error" }, ` ${i.error}`) : null,
    el("button", { type: "button", class: "danger", onclick: () => attempt($("input-error"), async () => { await apiJson("DELETE", `/inputs/${encodeURIComponent(i.name)}`); await refreshInputs(); }) }, "remove"))));
}

function addInput() {
  const ingest = $("input-kind").value === "ingest";
  const source = $("input-source").value.trim();
  const body = ingest ? { name: $("input-name").value, kind: "ingest", key: source } : { name: $("input-name").value, kind: "media", uri: source, loop: $("input-loop").checked };
  return attempt($("input-error"), async () => {
    await apiJson("POST", "/inputs", body);
    $("input-source").value = "";
    await refreshInputs();
  });
}

