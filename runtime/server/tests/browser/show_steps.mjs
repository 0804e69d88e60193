// The show steps drive.mjs runs after the login and the props form, each returning what
// it saw for tests/dashboard.rs to assert on: the preview monitor, a drag-and-drop upload,
// a take with a transition, visibility and z order, a hot-swap from the library, an RTMP
// output, the inputs panel, the charts, and the monitors' reconnect and polling fallback.
// `t` carries drive.mjs's tools (page, open, call, evaluate, waitFor, sleep, rest, step,
// requests, opts). REST is used only to set the scene up; what is
// asserted goes through the page's controls and is read from the page.

import fs from "node:fs";
import path from "node:path";

const guest = (t, name) => fs.readFileSync(path.join(t.opts.guests, `${name}.wasm`));

/** The next programme (or preview) picture for which `check` holds, or the last one seen. */
export function pictureWhere(t, which, what, check, ms = 15000) {
  let last = null;
  return t.waitFor(what, ms, async () => {
    last = await t.call("picture", which);
    return last && check(last) ? last : null;
  }).catch(() => last);
}

/** Scene `second` with a playing blue lower third `lt2` becomes the preview scene. */
export async function previewMonitor(t, lowerThird) {
  t.step("adding scene second");
  const placeholder = { visible: await t.call("visible", "#preview-empty"), text: await t.call("text", "#preview-empty") };
  await t.call("setValue", "#scene-name", "second");
  await t.call("submit", "#scene-form");
  const li = `#modules li[data-module="${lowerThird}"]`;
  await t.waitFor("second in the library's scene list", 10000, () => t.evaluate(`!!document.querySelector('${li} .new-layer-scene option[value="second"]')`));

  t.step("adding lt2 to second through the library");
  await t.call("setValue", `${li} .new-layer-id`, "lt2");
  await t.call("setValue", `${li} .new-layer-scene`, "second");
  await t.call("click", `${li} .add-layer`);
  await t.waitFor("the lt2 card", 10000, () => t.evaluate(`!!document.querySelector('[data-layer="lt2"] form.props')`));
  await t.rest("PATCH", "/layers/lt2/props", { background: "#0000E0", accent: "#0000E0" });
  await t.rest("POST", "/layers/lt2/events", { name: "play", payload: "" });

  t.step("choosing second as the preview scene");
  await t.call("setValue", "#preview-scene", "second");
  const preview = await pictureWhere(t, "preview", "the blue lower third on the preview monitor", (p) => p.blue > 0.02);
  const before = (await t.call("picture", "program")).frame;
  const program = await pictureWhere(t, "program", "a newer programme picture", (p) => p.frame > before);
  return { placeholder, preview, program, placeholder_after: await t.call("visible", "#preview-empty"), label: await t.call("text", "#preview-scene-shown") };
}

/** The crossfade transition, dropped onto the library's drop zone as a File. */
export async function dropTransition(t) {
  t.step("dropping the crossfade module on the drop zone");
  const before = await t.evaluate(`document.querySelectorAll("#modules li").length`);
  const drag = await t.call("drop", guest(t, "transition_crossfade").toString("base64"), "transition_crossfade.wasm");
  const listed = await t.waitFor("the dropped module in the library", 30000, () => t.evaluate(`[...document.querySelectorAll("#modules li strong")].map((s) => s.textContent).find((n) => n.startsWith("Crossfade")) || null`));
  const option = await t.waitFor("the crossfade among the transitions", 10000, () => t.evaluate(`[...document.querySelectorAll("#take-transition option")].find((o) => o.textContent.startsWith("Crossfade"))?.value || null`));
  return { ...drag, modules_before: before, modules_after: await t.evaluate(`document.querySelectorAll("#modules li").length`), listed, option, message: await t.call("text", "#upload-result") };
}

/** Take second with the crossfade over 1 s, sampling the programme monitor throughout. */
export async function takeWithTransition(t, transition) {
  t.step("taking second with the crossfade");
  await t.call("setValue", "#take-transition", transition);
  await t.call("setValue", "#take-duration", "1000");
  const sampled = await t.call("sampleTake", 2500);
  await t.waitFor("second on program", 10000, async () => (await t.call("text", "#program-name")) === "second");
  const settled = (await t.call("picture", "program")).frame;
  const after = await pictureWhere(t, "program", "a picture after the take", (p) => p.frame > settled + 2);
  return { ...sampled, program: await t.call("text", "#program-name"), after };
}

/** Red lt3 over blue lt2, then under it (z), then lt2 hidden: the overlap's colour follows. */
export async function visibilityAndZ(t, lowerThird) {
  t.step("adding a red lower third above lt2");
  await t.rest("POST", "/layers", { id: "lt3", scene: "second", module: lowerThird, z: 1, props: { background: "#E00000", accent: "#E00000" } });
  await t.rest("POST", "/layers/lt3/events", { name: "play", payload: "" });
  await t.waitFor("the lt3 card", 10000, () => t.evaluate(`!!document.querySelector('[data-layer="lt3"] input.z')`));
  const above = await pictureWhere(t, "program", "red on top", (p) => p.red > 0.02 && p.red > 4 * p.blue);

  t.step("moving lt3 below lt2 with its z field");
  await t.call("setValue", '[data-layer="lt3"] input.z', "-1");
  const below = await pictureWhere(t, "program", "blue on top", (p) => p.blue > 0.02 && p.blue > 4 * p.red);

  t.step("hiding lt2 with its visible box");
  await t.call("setChecked", '[data-layer="lt2"] input.visible', false);
  const hidden = await pictureWhere(t, "program", "lt2 gone", (p) => p.blue < 0.002 && p.red > 0.02);
  const layers = await t.rest("GET", "/layers");
  const find = (id) => (layers.layers || layers).find((l) => l.id === id);
  return { above, below, hidden, lt3_z: find("lt3").z, lt2_visible: find("lt2").visible };
}

/** A scoreboard swapped to its v2 from the library: the message and the picture change. */
export async function swapFromLibrary(t) {
  t.step("adding a scoreboard to second");
  const v1 = await t.rest("POST", "/modules", guest(t, "scene_scoreboard"), "application/wasm");
  const v2 = await t.rest("POST", "/modules", guest(t, "guest_scoreboard_v2"), "application/wasm");
  await t.rest("POST", "/layers", { id: "sb", scene: "second", module: v1.hash });
  await t.rest("POST", "/layers/sb/events", { name: "play", payload: "" });
  const li = `#modules li[data-module="${v2.hash}"]`;
  await t.waitFor("sb among the swap targets of v2", 15000, () => t.evaluate(`!!document.querySelector('${li} .swap-layer option[value="sb"]')`));
  await t.sleep(1500);
  const before = await pictureWhere(t, "program", "the scoreboard on program", (p) => p.light > 0);

  t.step("swapping sb to v2 from the library");
  await t.call("setValue", `${li} .swap-layer`, "sb");
  await t.call("click", `${li} .swap`);
  const message = await t.waitFor("the swap result", 15000, async () => {
    const text = await t.evaluate(`document.querySelector('${li} > p.meta')?.textContent || ""`);
    return text.startsWith("swapped") ? text : null;
  });
  const after = await pictureWhere(t, "program", "the v2 look", (p) => p.light > before.light + 0.005 && p.frame > before.frame);
  return { message, before, after, notice: await t.evaluate(`[...document.querySelectorAll("#notices .notice")].map((n) => n.textContent).find((x) => x.includes("swapped")) || null`) };
}

/** An RTMP destination that refuses: its state goes through the page's list. */
export async function outputs(t) {
  t.step("adding an RTMP destination and starting the stream");
  await t.call("setValue", "#output-id", "dest");
  await t.call("setValue", "#output-url", "rtmp://127.0.0.1:1/live/secret-stream-key");
  await t.call("submit", "#output-form");
  const item = '#outputs li[data-output="dest"]';
  await t.waitFor("the destination in the list", 10000, () => t.evaluate(`!!document.querySelector('${item}')`));
  const states = [await t.evaluate(`document.querySelector('${item}').dataset.state`)];
  await t.call("click", "#stream-start");
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline && !states.includes("retrying") && !states.includes("failed")) {
    const now = await t.evaluate(`document.querySelector('${item}')?.dataset.state || ""`);
    if (now && now !== states.at(-1)) states.push(now);
    await t.sleep(100);
  }
  const text = await t.call("text", item);
  const streaming = await t.call("text", "#streaming");
  await t.call("click", "#stream-stop");
  await t.waitFor("the stream off", 10000, async () => (await t.call("text", "#streaming")) === "off");
  return { states, text, streaming, reconnects: await t.evaluate(`document.querySelector('${item}').dataset.reconnects`) };
}

/** The inputs panel: a refused file named in its error, a URL input listed masked, removed. */
export async function inputs(t) {
  t.step("adding a media input that does not exist");
  await t.evaluate(`document.getElementById("inputs").scrollIntoView(); true`);
  await t.call("setValue", "#input-name", "missing");
  await t.call("setValue", "#input-source", "/nonexistent/clip.mp4");
  await t.call("submit", "#input-form");
  const refused = await t.waitFor("the refusal", 10000, () => t.call("text", "#input-error"));

  t.step("adding a media input with credentials in its URL");
  await t.call("setValue", "#input-name", "cam");
  await t.call("setValue", "#input-source", "rtsp://operator:hunter2@127.0.0.1:1/cam");
  await t.call("submit", "#input-form");
  const item = '#inputs li[data-input="cam"]';
  const listed = await t.waitFor("cam in the list", 15000, () => t.call("text", item));
  const error = await t.call("text", "#input-error");

  t.step("removing the input");
  await t.call("click", `${item} button.danger`);
  await t.waitFor("cam gone", 10000, () => t.evaluate(`!document.querySelector('${item}')`));
  return { refused, listed, error, after_remove: await t.evaluate(`document.querySelectorAll("#inputs li").length`) };
}

/** What the frame-time chart holds: its points, its last values, and its drawn line. */
export async function charts(t) {
  t.step("reading the charts");
  await t.waitFor("five stats in the frame-time chart", 15000, () => t.evaluate(`Number(document.getElementById("chart-frame").dataset.points) >= 5`));
  return t.evaluate(`(() => {
    const c = document.getElementById("chart-frame");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let mean = 0, budget = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (g > 80 && g > r + 40 && g > b + 20) mean++;
      if (r > 80 && r > g + 50 && r > b + 50) budget++;
    }
    const drops = document.getElementById("chart-drops");
    return { points: Number(c.dataset.points), last: JSON.parse(c.dataset.last), mean_pixels: mean, budget_pixels: budget,
      drops_points: Number(drops.dataset.points), cpu_shown: !document.getElementById("chart-cpu-box").hidden,
      cpu_points: Number(document.getElementById("chart-cpu").dataset.points) };
  })()`);
}

/** A monitor socket that closes is opened again; one that cannot open is polled instead. */
export async function monitorsRecover(t) {
  t.step("closing the programme monitor's socket");
  const mode = () => t.evaluate(`document.getElementById("program-monitor").dataset.mode`);
  const before = (await t.call("picture", "program")).frame;
  const modes = [await mode()];
  await t.evaluate(`state.monitors.find((m) => m.which === "program").ws.close(); true`);
  await t.waitFor("the socket open again", 10000, async () => {
    const now = await mode();
    if (now !== modes.at(-1)) modes.push(now);
    return now === "live" && modes.length > 1;
  });
  const reconnected = await pictureWhere(t, "program", "pictures after the reconnect", (p) => p.frame > before + 3);

  t.step("reloading with the monitor sockets refused");
  // A proxy that refuses WebSocket upgrades: the page's monitor sockets go to a path that answers 404.
  const { identifier } = await t.page("Page.addScriptToEvaluateOnNewDocument", { source: `(() => {
    const Real = WebSocket;
    window.WebSocket = function (url, protocols) { return new Real(String(url).replace("/monitors/", "/refused-monitors/"), protocols); };
    window.WebSocket.prototype = Real.prototype;
  })();` });
  const asked = t.requests.length;
  await t.open(`${t.opts.base}/dashboard/`);
  await t.waitFor("the dashboard", 10000, () => t.call("visible", "#app"));
  const polled = await pictureWhere(t, "program", "polled programme pictures", (p) => p.frame >= 3 && p.mode === "polling");
  await t.page("Page.removeScriptToEvaluateOnNewDocument", { identifier });
  const polls = t.requests.slice(asked).filter((u) => /\/api\/v1\/monitors\/program$/.test(u)).length;
  return { modes, reconnected, polled, polls, meta: await t.call("text", "#program-meta") };
}
