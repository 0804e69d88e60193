#!/usr/bin/env node
// Runs a core-ABI scene module in Node like `showrunner ticks` and prints every
// frame's ops in full, one JSON object per line: {"frame", "time", "ops": [...]}.
// For looking at exact numbers and diffing two modules; the real host (sandbox,
// validation, faults) is `showrunner ticks`.
//
//   node harness/ops.mjs MODULE.wasm [--frames N] [--size WxH] [--fps NUM/DEN]
//        [--props NAME=TEXT]... [--set FRAME:NAME=TEXT]... [--event FRAME:NAME[:PAYLOAD]]...
//        [--state]
//
// --props (at init) and --set (a prop change just before FRAME's events and tick)
// take text values only; --state also prints the saved state after the last frame
// as hex.

import { readFileSync } from "node:fs";
import { CoreScene } from "./index.mjs";

const args = process.argv.slice(2);
if (args.length === 0 || args[0].startsWith("-")) {
  console.error("usage: ops.mjs MODULE.wasm [--frames N] [--size WxH] [--fps NUM/DEN] [--props NAME=TEXT]... [--set FRAME:NAME=TEXT]... [--event FRAME:NAME[:PAYLOAD]]... [--state]");
  process.exit(2);
}
const file = args.shift();
let frames = 30, width = 1920, height = 1080, fpsNum = 30, fpsDen = 1, state = false;
const props = [], events = [], sets = [];
while (args.length) {
  const a = args.shift();
  if (a === "--frames") frames = Number(args.shift());
  else if (a === "--size") [width, height] = args.shift().split("x").map(Number);
  else if (a === "--fps") { const [n, d] = args.shift().split("/"); fpsNum = Number(n); fpsDen = Number(d ?? 1); }
  else if (a === "--props") { const s = args.shift(); const i = s.indexOf("="); props.push({ name: s.slice(0, i), value: { text: s.slice(i + 1) } }); }
  else if (a === "--set") { const s = args.shift(); const c = s.indexOf(":"), i = s.indexOf("="); sets.push({ frame: Number(s.slice(0, c)), name: s.slice(c + 1, i), value: { text: s.slice(i + 1) } }); }
  else if (a === "--event") { const [f, name, ...rest] = args.shift().split(":"); events.push({ frame: Number(f), name, payload: rest.join(":") }); }
  else if (a === "--state") state = true;
  else { console.error(`unknown argument ${a}`); process.exit(2); }
}

const scene = new CoreScene(readFileSync(file));
const error = scene.init(props);
if (error !== null) {
  console.error(`init: ${error}`);
  process.exit(4);
}
for (let i = 0; i < frames; i++) {
  for (const p of sets.filter((p) => p.frame === i)) scene.setProps([{ name: p.name, value: p.value }]);
  for (const e of events.filter((e) => e.frame === i)) scene.onEvent(e.name, e.payload);
  const ops = scene.tick(i, width, height, fpsNum, fpsDen);
  console.log(JSON.stringify({ frame: i, time: (i * fpsDen) / fpsNum, ops }));
}
if (state) console.log(JSON.stringify({ state: Buffer.from(scene.saveState()).toString("hex") }));
for (const l of scene.logs) console.error(`[log ${l.level}] ${l.message}`);
