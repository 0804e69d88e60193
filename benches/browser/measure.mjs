#!/usr/bin/env node
// Measures one HTML overlay the way browser sources run them today: in headless
// Chromium, at 1920x1080, with frames pulled continuously. Prints one JSON line.
//
// Usage: node measure.mjs PAGE.html[?query] [--seconds 5] [--settle 2] [--fps 30]
//          [--format png|jpeg] [--capture screencast|none] [--chromium PATH] [--save-frame FILE]
// Chromium is found as $CHROMIUM, --chromium, or `chromium` / `chromium-browser` /
// `google-chrome` on PATH. Node >= 18; no npm packages: DevTools protocol (CDP)
// messages travel over --remote-debugging-pipe (fd 3: to Chromium, fd 4: from it),
// NUL-terminated JSON.
//
// Timeline: spawn `chromium --headless=new ... about:blank` -> attach to the tab, set
// a 1920x1080 viewport and a transparent background, start a screencast (every 2nd
// compositor frame of 60 Hz = 30 fps, each frame acked), navigate to PAGE -> the
// page's load event -> first frame -> `settle` s (Chromium's post-start work, about
// 1 s of CPU, fades out) -> a window of `seconds` s -> PSS -> close.
// What it measures (Linux /proc; the process tree is the browser process and all of
// its descendants, found through /proc/PID/stat parent links):
//   startup_ms      spawn -> first full-size screencast frame received after the load event
//                   (what an operator waits for before the overlay is on air)
//   cpu_ms          utime+stime (+ reaped children's) of the tree over the window
//   frames          screencast frames delivered in the window. Chromium sends a frame
//                   only when the picture changed, so an overlay that stands still
//                   delivers none; `cores` is the comparable figure then.
//   cpu_ms_per_frame, cores (= cpu seconds / window seconds), fps (= frames / seconds)
//   pss_mib, rss_mib  sums of Pss / Rss in /proc/PID/smaps_rollup over the tree at
//                   the end of the window (Rss counts shared pages once per process)
// Frames arrive PNG-encoded (keeps alpha) or JPEG, base64 over the pipe: the
// encoding is Chromium's CPU and is counted; decoding them here is not.
// --capture none pulls no frame at all: the floor of what the page costs in
// Chromium (startup_ms, frames and cpu_ms_per_frame are null; settle counts from the load).
// --save-frame writes the last frame received (PNG or JPEG bytes) to FILE.
// Exit status: 0 measured, 2 bad arguments, 3 Chromium missing, 1 anything else.

import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const WIDTH = 1920;
const HEIGHT = 1080;
const COMPOSITOR_HZ = 60;

function fail(code, message) {
  process.stderr.write(`measure.mjs: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { page: null, seconds: 5, fps: 30, format: "png", chromium: process.env.CHROMIUM || null, saveFrame: null, capture: "screencast", settle: 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(2, `${a} needs a value`);
      return argv[++i];
    };
    if (a === "--seconds") opts.seconds = Number(value());
    else if (a === "--fps") opts.fps = Number(value());
    else if (a === "--format") opts.format = value();
    else if (a === "--chromium") opts.chromium = value();
    else if (a === "--save-frame") opts.saveFrame = value();
    else if (a === "--capture") opts.capture = value();
    else if (a === "--settle") opts.settle = Number(value());
    else if (a.startsWith("--")) fail(2, `unknown option ${a}`);
    else if (opts.page === null) opts.page = a;
    else fail(2, `unexpected argument ${a}`);
  }
  if (!opts.page) fail(2, "usage: node measure.mjs PAGE.html[?query] [--seconds 5] [--settle 2] [--fps 30] [--format png|jpeg] [--capture screencast|none] [--chromium PATH] [--save-frame FILE]");
  if (!(opts.seconds > 0 && opts.seconds <= 120)) fail(2, "--seconds must be in (0, 120]");
  if (!(opts.settle >= 0 && opts.settle <= 60)) fail(2, "--settle must be in [0, 60]");
  if (!(opts.fps > 0 && opts.fps <= COMPOSITOR_HZ)) fail(2, `--fps must be in (0, ${COMPOSITOR_HZ}]`);
  if (opts.format !== "png" && opts.format !== "jpeg") fail(2, "--format must be png or jpeg");
  if (opts.capture !== "screencast" && opts.capture !== "none") fail(2, "--capture must be screencast or none");
  if (opts.capture === "none" && opts.saveFrame) fail(2, "--save-frame needs --capture screencast");
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

function clockTicksPerSecond() {
  try {
    const hz = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    if (hz > 0) return hz;
  } catch {}
  return 100; // USER_HZ on every mainstream Linux architecture
}

// --- /proc accounting -----------------------------------------------------------

/** pid -> { ppid, cpuTicks } for every readable process. */
function readProcesses() {
  const table = new Map();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // Fields after "(comm)": state ppid ... utime(14) stime(15) cutime(16) cstime(17).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    table.set(Number(entry), { ppid: Number(fields[1]), cpuTicks: ticks });
  }
  return table;
}

function processTree(rootPid, table = readProcesses()) {
  const children = new Map();
  for (const [pid, p] of table) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(pid);
  }
  const tree = [];
  const stack = table.has(rootPid) ? [rootPid] : [];
  while (stack.length) {
    const pid = stack.pop();
    tree.push(pid);
    stack.push(...(children.get(pid) || []));
  }
  return { pids: tree, table };
}

function treeCpuTicks(rootPid) {
  const { pids, table } = processTree(rootPid);
  return pids.reduce((sum, pid) => sum + table.get(pid).cpuTicks, 0);
}

function treeMemory(rootPid) {
  const { pids } = processTree(rootPid);
  let pssKib = 0;
  let rssKib = 0;
  for (const pid of pids) {
    let rollup;
    try {
      rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    } catch {
      continue;
    }
    pssKib += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
    rssKib += Number(/^Rss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
  }
  return { pssMib: pssKib / 1024, rssMib: rssKib / 1024, processes: pids.length };
}

// --- CDP over the pipe ----------------------------------------------------------

class Cdp {
  constructor(toBrowser, fromBrowser) {
    this.toBrowser = toBrowser;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    this.closed = null;
    let buffered = [];
    fromBrowser.on("data", (chunk) => {
      let start = 0;
      for (let end = chunk.indexOf(0); end !== -1; end = chunk.indexOf(0, start)) {
        buffered.push(chunk.subarray(start, end));
        this.dispatch(JSON.parse(Buffer.concat(buffered).toString("utf8")));
        buffered = [];
        start = end + 1;
      }
      if (start < chunk.length) buffered.push(chunk.subarray(start));
    });
    fromBrowser.on("close", () => this.close(new Error("Chromium closed the DevTools pipe")));
  }

  dispatch(message) {
    if (message.id !== undefined) {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (!waiter) return;
      if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
      else waiter.resolve(message.result);
    } else {
      for (const listener of this.listeners) listener(message);
    }
  }

  close(error) {
    this.closed = error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  send(method, params = {}, sessionId = undefined) {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    const message = { id, method, params };
    if (sessionId) message.sessionId = sessionId;
    this.toBrowser.write(JSON.stringify(message) + "\0");
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }

  on(listener) {
    this.listeners.push(listener);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Width and height from a PNG's IHDR or a JPEG's SOFn segment. */
function imageSize(bytes) {
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47) {
    return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  }
  for (let i = 2; i + 9 < bytes.length; ) {
    if (bytes[i] !== 0xff) break;
    const marker = bytes[i + 1];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return [bytes.readUInt16BE(i + 7), bytes.readUInt16BE(i + 5)];
    }
    i += 2 + bytes.readUInt16BE(i + 2);
  }
  return [0, 0];
}

// --- the measurement ------------------------------------------------------------

async function measure(opts) {
  const chromium = findChromium(opts.chromium);
  if (!chromium) {
    fail(3, "Chromium not found: install it (Debian/Ubuntu: `apt-get install chromium`) or set CHROMIUM=/path/to/chrome");
  }
  const [file, query = ""] = opts.page.split("?");
  if (!fs.existsSync(file)) fail(2, `no such page: ${file}`);
  const url = pathToFileURL(path.resolve(file)).href + (query ? `?${query}` : "");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "showrunner-bench-chromium-"));
  const hz = clockTicksPerSecond();

  const args = [
    "--headless=new",
    "--remote-debugging-pipe",
    `--user-data-dir=${profile}`,
    `--window-size=${WIDTH},${HEIGHT}`,
    "--hide-scrollbars",
    "--mute-audio",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    ...(process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : []), // Chromium refuses root otherwise
    "about:blank",
  ];

  const spawnedAt = performance.now();
  const child = spawn(chromium, args, { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
  let stderrTail = "";
  child.stderr.on("data", (d) => {
    stderrTail = (stderrTail + d.toString("utf8")).slice(-4000);
  });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const spawnError = new Promise((_, reject) => child.on("error", reject));
  const cdp = new Cdp(child.stdio[3], child.stdio[4]);

  const cleanup = async () => {
    try {
      await withTimeout(cdp.send("Browser.close"), 3000, "closing Chromium");
    } catch {}
    const done = await withTimeout(exited, 5000, "waiting for Chromium to exit").catch(() => null);
    if (!done) child.kill("SIGKILL");
    fs.rmSync(profile, { recursive: true, force: true });
  };

  try {
    const version = await withTimeout(Promise.race([cdp.send("Browser.getVersion"), spawnError]), 30000, "waiting for Chromium's DevTools pipe");

    // The first tab opens blank; attach to it once it exists, size it, then load the page.
    let target = null;
    while (!target) {
      const { targetInfos } = await cdp.send("Target.getTargets");
      target = targetInfos.find((t) => t.type === "page");
      if (!target) await sleep(5);
    }
    const { sessionId } = await cdp.send("Target.attachToTarget", { targetId: target.targetId, flatten: true });
    const page = (method, params) => cdp.send(method, params, sessionId);

    await page("Emulation.setDefaultBackgroundColorOverride", { color: { r: 0, g: 0, b: 0, a: 0 } });
    await page("Emulation.setDeviceMetricsOverride", { width: WIDTH, height: HEIGHT, deviceScaleFactor: 1, mobile: false });

    // Frames are pulled from now on, so none painted around the load is missed.
    let loadedAt = null;
    let frames = 0;
    let firstFrame = null;
    let lastFrame = null;
    let firstFrameAt = null;
    let onFirstFrame;
    const firstFrameReceived = new Promise((resolve) => (onFirstFrame = resolve));
    cdp.on((message) => {
      if (message.method !== "Page.screencastFrame" || message.sessionId !== sessionId) return;
      page("Page.screencastFrameAck", { sessionId: message.params.sessionId }).catch(() => {});
      frames++;
      lastFrame = message.params.data;
      // A frame painted before the viewport override took effect is smaller.
      const { deviceWidth, deviceHeight } = message.params.metadata;
      if (firstFrameAt === null && loadedAt !== null && deviceWidth === WIDTH && deviceHeight === HEIGHT) {
        firstFrameAt = performance.now();
        firstFrame = Buffer.from(message.params.data, "base64");
        onFirstFrame();
      }
    });
    const capturing = opts.capture === "screencast";
    if (capturing) {
      await page("Page.startScreencast", {
        format: opts.format,
        quality: 80,
        maxWidth: WIDTH,
        maxHeight: HEIGHT,
        everyNthFrame: Math.max(1, Math.round(COMPOSITOR_HZ / opts.fps)),
      });
    }

    await page("Page.navigate", { url });
    // Wait for the page (not the blank document before it) to finish loading.
    await withTimeout(
      (async () => {
        for (;;) {
          const r = await page("Runtime.evaluate", { expression: "[location.href, document.readyState]", returnByValue: true }).catch(() => null);
          const [href, state] = r?.result?.value ?? [];
          if (href === url && state === "complete") return;
          await sleep(5);
        }
      })(),
      30000,
      "waiting for the page to load",
    );
    loadedAt = performance.now();
    if (capturing) {
      // Chromium sends a frame only when the picture changes: the page must animate.
      await withTimeout(firstFrameReceived, 10000, "waiting for the first frame after the load (does the page change on screen?)");
    }

    // Pulling frames all along, let the startup work settle, then time the window.
    await sleep(opts.settle * 1000);
    const cpuStart = treeCpuTicks(child.pid);
    const windowStart = performance.now();
    const framesBefore = frames;
    await sleep(opts.seconds * 1000);
    const cpuEnd = treeCpuTicks(child.pid);
    const windowEnd = performance.now();
    const windowFrames = frames - framesBefore;
    const memory = treeMemory(child.pid);
    if (capturing) await page("Page.stopScreencast").catch(() => {});
    if (opts.saveFrame && lastFrame !== null) fs.writeFileSync(opts.saveFrame, Buffer.from(lastFrame, "base64"));

    const windowSeconds = (windowEnd - windowStart) / 1000;
    const cpuMs = ((cpuEnd - cpuStart) / hz) * 1000;
    const [frameWidth, frameHeight] = capturing ? imageSize(firstFrame) : [null, null];
    return {
      page: path.basename(opts.page),
      browser: version.product,
      executable: chromium,
      headless: "new",
      capture: opts.capture,
      format: capturing ? opts.format : null,
      requested_fps: opts.fps,
      frame_width: frameWidth,
      frame_height: frameHeight,
      load_ms: round(loadedAt - spawnedAt),
      startup_ms: capturing ? round(firstFrameAt - spawnedAt) : null,
      settle_s: opts.settle,
      window_s: round(windowSeconds, 3),
      cpu_ms: round(cpuMs),
      frames: capturing ? windowFrames : null,
      fps: capturing ? round(windowFrames / windowSeconds, 2) : null,
      cpu_ms_per_frame: capturing && windowFrames > 0 ? round(cpuMs / windowFrames, 2) : null,
      cores: round(cpuMs / 1000 / windowSeconds, 3),
      pss_mib: round(memory.pssMib),
      rss_mib: round(memory.rssMib),
      processes: memory.processes,
      clock_ticks_per_s: hz,
    };
  } catch (error) {
    const tail = stderrTail.trim().split("\n").slice(-5).join("\n");
    throw new Error(`${error.message}${tail ? `\nChromium's stderr (last lines):\n${tail}` : ""}`);
  } finally {
    await cleanup();
  }
}

function round(x, digits = 1) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const opts = parseArgs(process.argv.slice(2));
measure(opts).then(
  (result) => {
    process.stdout.write(JSON.stringify(result) + "\n");
    process.exit(0);
  },
  (error) => fail(1, error.message),
);
