#!/usr/bin/env node
// Drives the showrunner dashboard in headless Chromium against a running `showrunner serve`
// and prints one JSON line of what it saw, for tests/dashboard.rs to assert on.
//
// Usage: node drive.mjs --base http://127.0.0.1:PORT --token TOKEN --guests GUEST_DIR
//          --shots DIR [--chromium PATH]
// GUEST_DIR holds the guests `cargo xtask build-scenes` builds (scene_lower_third,
// guest_hostile, transition_crossfade, scene_scoreboard, guest_scoreboard_v2 .wasm).
// Node >= 18, no npm packages: DevTools protocol (CDP) messages travel over
// --remote-debugging-pipe (fd 3: to Chromium, fd 4: from it), NUL-terminated JSON.
// Exit status: 0 driven (the JSON says what passed), 2 bad arguments, 3 Chromium
// missing, 1 the page could not be driven (the message says at which step).
//
// Steps: open the page without a token (only the login shows; no /api/v1 request),
// log in with a wrong token (refused, still the login), log in, upload the lower third
// through the file input, add it as layer `lt`, play it, read the programme monitor's
// pixels from its canvas, change the bar colour and the name through the generated
// props form, send a bad colour (422 shown next to its field); then (show_steps.mjs)
// the preview monitor, a drag-and-drop upload, a take with the crossfade, visibility
// and z, a swap from the library, an RTMP output, the inputs panel and the charts;
// make a hostile layer panic through its props form (a fault notice shows and is
// dismissed), take screenshots at 1280x720 and 390x844, and end with a stale token.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { PAGE_HELPERS } from "./page_helpers.mjs";
import * as steps from "./show_steps.mjs";

function fail(code, message) {
  process.stderr.write(`drive.mjs: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { base: null, token: null, guests: null, shots: null, chromium: process.env.CHROMIUM || null };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in opts) || i + 1 >= argv.length) fail(2, `bad argument ${argv[i]}`);
    opts[key] = argv[i + 1];
  }
  for (const key of ["base", "token", "guests", "shots"]) if (!opts[key]) fail(2, `--${key} is required`);
  return opts;
}

function findChromium(explicit) {
  if (explicit) return fs.existsSync(explicit) ? explicit : null;
  for (const dir of (process.env.PATH || "").split(path.delimiter)) {
    for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {}
    }
  }
  return null;
}

/** One DevTools connection over the pipe: `send` answers the result, `on` sees events. */
class Devtools {
  constructor(input, output) {
    Object.assign(this, { input, nextId: 1, pending: new Map(), listeners: [], closed: null });
    let parts = [];
    output.on("data", (chunk) => {
      for (let at = 0; at < chunk.length; ) {
        const end = chunk.indexOf(0, at);
        if (end === -1) {
          parts.push(chunk.subarray(at));
          break;
        }
        parts.push(chunk.subarray(at, end));
        this.receive(JSON.parse(Buffer.concat(parts).toString("utf8")));
        parts = [];
        at = end + 1;
      }
    });
    output.on("close", () => this.shut(new Error("Chromium closed the DevTools pipe")));
  }
  receive(message) {
    if (message.id === undefined) return this.listeners.forEach((listener) => listener(message));
    const waiter = this.pending.get(message.id);
    this.pending.delete(message.id);
    if (waiter) message.error ? waiter.reject(new Error(`${waiter.method}: ${message.error.message}`)) : waiter.resolve(message.result);
  }
  shut(error) {
    this.closed = error;
    this.pending.forEach((waiter) => waiter.reject(error));
    this.pending.clear();
  }
  send(method, params = {}, sessionId) {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    this.input.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }
  on(listener) {
    this.listeners.push(listener);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function timeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const chromium = findChromium(opts.chromium);
  if (!chromium) fail(3, "no Chromium: set $CHROMIUM or put chromium on PATH");
  fs.mkdirSync(opts.shots, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "showrunner-dashboard-"));
  const args = ["--headless=new", "--remote-debugging-pipe", `--user-data-dir=${profile}`, "--window-size=1280,720", "--hide-scrollbars", "--mute-audio",
    "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ...(process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : []), "about:blank"];
  const child = spawn(chromium, args, { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
  let stderrTail = "";
  child.stderr.on("data", (d) => (stderrTail = (stderrTail + d).slice(-2000)));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const cdp = new Devtools(child.stdio[3], child.stdio[4]);
  let step = "starting Chromium";
  let pageErrors = [];
  let pageText = async () => "";
  try {
    await timeout(cdp.send("Browser.getVersion"), 30000, "waiting for Chromium's DevTools pipe");
    let target;
    while (!target) {
      target = (await cdp.send("Target.getTargets")).targetInfos.find((t) => t.type === "page");
      if (!target) await sleep(50);
    }
    const { sessionId } = await cdp.send("Target.attachToTarget", { targetId: target.targetId, flatten: true });
    const page = (method, params) => cdp.send(method, params, sessionId);
    const requests = [];
    const loaded = [];
    pageErrors = [];
    cdp.on((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === "Network.requestWillBeSent") requests.push(m.params.request.url);
      if (m.method === "Page.loadEventFired") loaded.push(Date.now());
      if (m.method === "Runtime.exceptionThrown") pageErrors.push(m.params.exceptionDetails.exception?.description || m.params.exceptionDetails.text);
    });
    await page("Page.enable");
    await page("Network.enable");
    await page("Runtime.enable");
    const viewport = (width, height, mobile) => page("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile });
    const evaluate = async (expression) => {
      const r = await page("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
      if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description || r.exceptionDetails.text}`);
      return r.result.value;
    };
    const call = (fn, ...a) => evaluate(`window.__drive.${fn}(${a.map((x) => JSON.stringify(x)).join(",")})`);
    const waitFor = async (what, ms, check) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await sleep(100);
      }
    };
    const open = async (url) => {
      const count = loaded.length;
      await page("Page.navigate", { url });
      await waitFor(`the load of ${url}`, 15000, async () => loaded.length > count);
      await evaluate(PAGE_HELPERS);
    };
    const shot = async (name, width, height, mobile = false) => {
      await viewport(width, height, mobile);
      await sleep(400);
      const { data } = await page("Page.captureScreenshot", { format: "png" });
      fs.writeFileSync(path.join(opts.shots, name), Buffer.from(data, "base64"));
    };
    const pictureAfter = (frame, what) => waitFor(what, 15000, async () => {
      const p = await call("picture");
      return p && p.frame > frame ? p : null;
    });
    pageText = () => evaluate(`[...document.querySelectorAll(".error, #upload-result, #status, #notices")].map((e) => e.id + ": " + e.textContent).filter((t) => !/: $/.test(t)).join(" | ")`);
    const result = {};
    await viewport(1280, 720, false);

    step = "opening the page without a token";
    await open(`${opts.base}/dashboard/`);
    await sleep(1500);
    result.no_token = { login_visible: await call("visible", "#token"), app_visible: await call("visible", "#app"), api_requests: requests.filter((u) => u.includes("/api/v1/")) };
    await shot("login-1280x720.png", 1280, 720);

    step = "logging in with a wrong token";
    await call("setValue", "#token", "not-the-token");
    await call("submit", "#login-form");
    await waitFor("the refusal", 10000, async () => (await call("text", "#login-error")) !== "");
    result.wrong_token = { login_visible: await call("visible", "#token"), app_visible: await call("visible", "#app"), message: await call("text", "#login-error") };

    step = "logging in";
    await call("setValue", "#token", opts.token);
    await call("submit", "#login-form");
    await waitFor("the dashboard", 10000, () => call("visible", "#app"));
    const empty = await pictureAfter(0, "the first programme picture");
    result.empty = empty;
    result.events_status = await waitFor("the WebSocket", 5000, async () => ((await call("text", "#status")) === "live" ? "live" : null)).catch(() => evaluate(`document.getElementById("status").textContent`));

    step = "uploading the module through the file input";
    const { root } = await page("DOM.getDocument", { depth: -1 });
    const { nodeId } = await page("DOM.querySelector", { nodeId: root.nodeId, selector: "#module-file" });
    await page("DOM.setFileInputFiles", { nodeId, files: [path.resolve(opts.guests, "scene_lower_third.wasm")] });
    await waitFor("the module in the library", 30000, () => evaluate(`document.querySelectorAll("#modules li").length > 0`));
    result.upload_message = await call("text", "#upload-result");

    step = "adding it as layer lt";
    await call("setValue", "#modules li .new-layer-id", "lt");
    await call("click", "#modules li .add-layer");
    await waitFor("the layer card", 10000, () => call("visible", '[data-layer="lt"] form.props'));
    result.prop_fields = await evaluate(`[...document.querySelectorAll('[data-layer="lt"] form.props input')].map((i) => i.name + ":" + i.type)`);

    step = "playing it";
    await call("click", '[data-layer="lt"] .event-play');
    await sleep(2000);
    const shown = await pictureAfter(empty.frame, "a picture after play");
    result.played = shown;
    await evaluate(`document.querySelector('[data-layer="lt"]').scrollIntoView(); true`);
    await shot("dashboard-1280x720-layers.png", 1280, 720);
    await evaluate(`window.scrollTo(0, 0); true`);

    step = "changing the bar colour and the name through the props form";
    await call("setValue", '[data-layer="lt"] input[name="background"]', "#00c000");
    await call("setValue", '[data-layer="lt"] input[name="name"]', "Grace Hopper");
    await call("submit", '[data-layer="lt"] form.props');
    const recoloured = await waitFor("the green bar", 10000, async () => {
      const p = await call("picture");
      return p && p.green > shown.green + 0.05 ? p : null;
    }).catch(() => call("picture"));
    result.recoloured = recoloured;
    result.layer_props = await evaluate(`fetch("/api/v1/layers/lt", {headers: {Authorization: "Bearer " + sessionStorage.getItem("showrunner.token")}}).then((r) => r.json()).then((l) => l.props)`);

    step = "sending a bad colour";
    await evaluate(`document.querySelector('[data-layer="lt"] input[name="accent"]').dataset.alpha = "ZZ"; true`);
    await call("submit", '[data-layer="lt"] form.props');
    result.bad_colour_message = await waitFor("the 422 next to the field", 10000, () => call("text", '[data-layer="lt"] [data-prop="accent"] .field-error')).catch(() => "");

    const rest = async (method, route, body, type = "application/json") => {
      const r = await fetch(`${opts.base}/api/v1${route}`, { method, headers: { Authorization: `Bearer ${opts.token}`, "Content-Type": type }, body: type === "application/json" ? JSON.stringify(body) : body });
      if (!r.ok) throw new Error(`${method} ${route}: ${r.status} ${await r.text()}`);
      const text = await r.text();
      return text ? JSON.parse(text) : null;
    };
    const t = { opts, page, open, call, evaluate, waitFor, sleep, rest, requests, step: (name) => (step = name) };
    const lowerThird = (await rest("GET", "/modules")).modules.find((m) => m.name.startsWith("Lower third")).hash;
    result.preview = await steps.previewMonitor(t, lowerThird);
    result.dropped = await steps.dropTransition(t);
    result.take = await steps.takeWithTransition(t, result.dropped.option);
    result.z = await steps.visibilityAndZ(t, lowerThird);
    result.swap = await steps.swapFromLibrary(t);
    step = "choosing main as the preview scene again";
    await call("setValue", "#preview-scene", "main");
    result.preview_main = await steps.pictureWhere(t, "preview", "main on the preview monitor", (p) => p.scene === "main" && p.green > 0.02);
    await evaluate(`window.scrollTo(0, 0); true`);
    await shot("dashboard-1280x720.png", 1280, 720);
    result.outputs = await steps.outputs(t);
    result.inputs = await steps.inputs(t);
    result.charts = await steps.charts(t);
    await evaluate(`document.querySelector("#chart-frame").scrollIntoView(); true`);
    await shot("dashboard-1280x720-charts.png", 1280, 720);
    await evaluate(`window.scrollTo(0, document.body.scrollHeight); true`);
    await shot("dashboard-1280x720-bottom.png", 1280, 720);
    result.monitor_modes = { program: await evaluate(`document.getElementById("program-monitor").dataset.mode`), preview: await evaluate(`document.getElementById("preview-monitor").dataset.mode`) };

    step = "a module fault";
    const hostileBytes = fs.readFileSync(path.join(opts.guests, "guest_hostile.wasm"));
    const hostile = await rest("POST", "/modules", hostileBytes, "application/wasm");
    await rest("POST", "/layers", { id: "bad", scene: "second", module: hostile.hash, props: { mode: "ok" } });
    await waitFor("the hostile layer's card", 10000, () => evaluate(`!!document.querySelector('[data-layer="bad"] input[name="mode"]')`));
    await call("setValue", '[data-layer="bad"] input[name="mode"]', "panic");
    await call("submit", '[data-layer="bad"] form.props');
    const fault = await waitFor("a fault notice", 10000, () => evaluate(`[...document.querySelectorAll("#notices .notice.fault")].map((n) => n.textContent).find((t) => t.includes("bad")) || null`));
    const quarantined = await waitFor("a quarantine notice", 10000, () => evaluate(`[...document.querySelectorAll("#notices .notice.fault")].map((n) => n.textContent).find((t) => t.includes("quarantined")) || null`));
    await viewport(390, 844, true);
    await evaluate(`window.scrollTo(0, 0); true`);
    await shot("dashboard-390x844.png", 390, 844, true);
    const before_dismiss = await evaluate(`document.querySelectorAll("#notices .notice.fault").length`);
    await evaluate(`document.querySelectorAll("#notices .notice .dismiss").forEach((b) => b.click()); true`);
    result.fault = { text: fault, quarantined, notices: before_dismiss, after_dismiss: await evaluate(`document.querySelectorAll("#notices .notice.fault").length`) };

    await evaluate(`document.querySelector('[data-layer="lt"]').scrollIntoView(); true`);
    await shot("dashboard-390x844-layers.png", 390, 844, true);
    await evaluate(`window.scrollTo(0, document.body.scrollHeight); true`);
    await shot("dashboard-390x844-bottom.png", 390, 844, true);
    result.phone_overflow_px = await evaluate(`document.documentElement.scrollWidth - window.innerWidth`);

    result.recover = await steps.monitorsRecover(t);

    step = "a refused token in the session";
    await evaluate(`sessionStorage.setItem("showrunner.token", "stale"); true`);
    await open(`${opts.base}/dashboard/`);
    await waitFor("the login after a 401", 10000, () => call("visible", "#token"));
    result.stale_token = { login_visible: await call("visible", "#token"), app_visible: await call("visible", "#app"), message: await call("text", "#login-error") };

    process.stdout.write(JSON.stringify(result) + "\n");
  } catch (error) {
    const shown = await timeout(pageText(), 2000, "reading the page").catch(() => "?");
    process.stderr.write(`drive.mjs: ${step}: ${error.message}\npage says: ${shown}\npage errors: ${JSON.stringify(pageErrors)}\n${step === "starting Chromium" ? stderrTail : ""}\n`);
    process.exitCode = 1;
  } finally {
    await timeout(cdp.send("Browser.close"), 3000, "closing Chromium").catch(() => {});
    if (!(await timeout(exited, 5000, "waiting for Chromium to exit").catch(() => null))) child.kill("SIGKILL");
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main();
