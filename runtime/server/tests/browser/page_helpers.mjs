// The functions drive.mjs installs in the dashboard page (as `window.__drive`, through
// Runtime.evaluate) and its steps call: visibility, text, form input, pixel statistics
// of the two monitors' canvases, a drag-and-drop of a file built in the page, and a
// sampler of the programme monitor during a take. They read the page; they never call
// the API themselves.

export const PAGE_HELPERS = `
window.__drive = {
  visible: (sel) => { const e = document.querySelector(sel); return !!e && !e.closest("[hidden]") && e.getClientRects().length > 0; },
  text: (sel) => { const e = document.querySelector(sel); return e ? e.textContent : null; },
  setValue: (sel, value) => { const e = document.querySelector(sel); e.value = value; e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return true; },
  setChecked: (sel, on) => { const e = document.querySelector(sel); e.checked = on; e.dispatchEvent(new Event("change", {bubbles: true})); return true; },
  click: (sel) => { document.querySelector(sel).click(); return true; },
  submit: (sel) => { document.querySelector(sel).requestSubmit(); return true; },
  // Pixel statistics of a monitor's canvas ("program" or "preview"): in the lower-left
  // region where a lower third sits, the share of bright pixels and of clearly green,
  // red and blue ones, and the mean of each channel; over the whole picture, the share
  // of light pixels. null before the monitor drew its first picture.
  picture: (which = "program") => {
    const c = document.getElementById(which + "-monitor");
    const pictures = Number(c.dataset.pictures || 0);
    if (!pictures) return null;
    const ctx = c.getContext("2d");
    const w = c.width, h = c.height, x1 = Math.round(w * 0.6), y0 = Math.round(h * 0.66);
    const d = ctx.getImageData(0, y0, x1, h - y0).data;
    let bright = 0, green = 0, red = 0, blue = 0, sr = 0, sg = 0, sb = 0, n = 0;
    for (let i = 0; i < d.length; i += 4, n++) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (0.299 * r + 0.587 * g + 0.114 * b > 80) bright++;
      if (g > 120 && g > r + 60 && g > b + 60) green++;
      if (r > 120 && r > g + 60 && r > b + 60) red++;
      if (b > 120 && b > r + 60 && b > g + 60) blue++;
      sr += r; sg += g; sb += b;
    }
    const all = ctx.getImageData(0, 0, w, h).data;
    let light = 0;
    for (let i = 0; i < all.length; i += 4) if (0.299 * all[i] + 0.587 * all[i + 1] + 0.114 * all[i + 2] > 200) light++;
    return { width: w, height: h, frame: pictures, scene: c.dataset.scene || null, mode: c.dataset.mode || null,
      bright: bright / n, green: green / n, red: red / n, blue: blue / n, r: sr / n, g: sg / n, b: sb / n, light: light / (all.length / 4) };
  },
  // Drags a file made in the page from base64 bytes onto the drop zone: dragenter,
  // dragover (whose default the page must prevent for a drop to happen), drop.
  drop: (base64, name) => {
    const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type: "application/wasm" }));
    const zone = document.getElementById("drop");
    const init = { bubbles: true, cancelable: true, dataTransfer: transfer };
    zone.dispatchEvent(new DragEvent("dragenter", init));
    const overAccepted = !zone.dispatchEvent(new DragEvent("dragover", init));
    const highlighted = zone.classList.contains("over");
    const dropAccepted = !zone.dispatchEvent(new DragEvent("drop", init));
    return { over_accepted: overAccepted, highlighted, drop_accepted: dropAccepted, highlight_after: zone.classList.contains("over") };
  },
  // Clicks Take and samples the programme monitor's region means for \`ms\` at every new
  // picture, with the programme title seen meanwhile.
  sampleTake: async (ms) => {
    const samples = [], titles = new Set();
    const first = window.__drive.picture("program");
    samples.push({ t: 0, frame: first.frame, r: first.r, g: first.g, b: first.b });
    const t0 = performance.now();
    document.getElementById("take").click();
    let last = first.frame;
    while (performance.now() - t0 < ms) {
      const p = window.__drive.picture("program");
      if (p.frame !== last) { last = p.frame; samples.push({ t: Math.round(performance.now() - t0), frame: p.frame, r: p.r, g: p.g, b: p.b }); }
      titles.add(document.getElementById("program-name").textContent);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return { samples, titles: [...titles] };
  },
};
true;`;
