// The dashboard's scenes and layers: layer cards (visibility, z, play/stop/next,
// release, remove) and the props forms generated from each module's prop specs.
// Loaded before app.js.
"use strict";

// --- show: scenes and layers ------------------------------------------------------

async function refreshShow() {
  const show = await apiJson("GET", "/show");
  state.show = show;
  $("program-name").textContent = show.incoming ? `${show.program} → ${show.incoming}` : show.program;
  $("preview-name").textContent = show.preview || "";
  if ($("frame-index").textContent === "–") $("frame-index").textContent = show.frame;
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
    if (scene.name === show.program && box.dataset.program !== "yes") box.open = true;
    box.dataset.program = scene.name === show.program ? "yes" : "no";
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

