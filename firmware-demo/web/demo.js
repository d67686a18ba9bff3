// The browser demo: Bottleneck's int8 runtime (firmware-demo/wasm, plain exports, no bindings)
// on a model exported by `bottleneck export`, served by `bottleneck serve-demo RUN_DIR`.
const $ = (id) => document.getElementById(id);
const state = { ready: false, lastClass: null, lastCode: null, reconSum: null, seed: 1, digest: null };
window.demo = state;

function fail(err) {
  $("status").textContent = `error: ${err.message ?? err}`;
  $("status").dataset.state = "error";
  throw err;
}

async function fetchBytes(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

// vectors.bin, format 1 (docs/vectors-format.md).
function parseVectors(b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = String.fromCharCode(...b.slice(0, 4));
  if (magic !== "BTNV" || dv.getUint16(4, true) !== 1) throw new Error("vectors.bin: not format 1");
  const count = dv.getUint32(8, true);
  const pixels = dv.getUint16(12, true) * dv.getUint16(14, true) * dv.getUint16(16, true);
  const latent = dv.getUint16(18, true), classes = dv.getUint16(20, true);
  const record = (2 * pixels + latent + classes) * 4 + 4;
  const f32 = (at, n) => Array.from({ length: n }, (_, i) => dv.getFloat32(at + 4 * i, true));
  const items = [];
  for (let v = 0; v < count; v++) {
    const at = 32 + v * record;
    items.push({ input: f32(at, pixels), code: f32(at + 4 * pixels, latent), label: dv.getUint32(at + record - 4, true) });
  }
  return { pixels, latent, classes, items };
}

const [wasmBytes, modelBytes, vectorBytes, meta] = await Promise.all([
  fetchBytes("bottleneck_wasm.wasm"),
  fetchBytes("model.bnq"),
  fetchBytes("vectors.bin"),
  fetch("meta.json").then((r) => r.json()),
]).catch(fail);

const { instance } = await WebAssembly.instantiate(wasmBytes).catch(fail);
const w = instance.exports;
new Uint8Array(w.memory.buffer, w.model_ptr(), modelBytes.length).set(modelBytes);
const loaded = w.load(modelBytes.length);
if (loaded !== 0) fail(new Error(`the runtime refused model.bnq (code ${loaded})`));
const pixels = w.input_len(), latent = w.latent_len(), classes = w.classes();
// The input shape from model.bnq's header (docs/runtime-format.md): channels, height, width.
const header = new DataView(modelBytes.buffer, modelBytes.byteOffset, modelBytes.byteLength);
const CH = header.getUint16(20, true), H = header.getUint16(22, true), W = header.getUint16(24, true);
if (CH * H * W !== pixels) fail(new Error(`model.bnq: input ${CH}x${H}x${W} but ${pixels} values`));
document.body.dataset.shape = `${CH}x${H}x${W}`;
// A classifier alone (the CNN: no code) only classifies: no reconstruction, sliders or samples.
const autoencoder = latent > 0;
document.body.dataset.autoencoder = String(autoencoder);
if (!autoencoder) document.querySelectorAll(".autoencoder").forEach((e) => { e.hidden = true; });
const symmetric = modelBytes[26] === 1; // header: inputs in [-1, 1]
const vectors = parseVectors(vectorBytes);
const f32view = (ptr, n) => new Float32Array(w.memory.buffer, ptr, n);

// Display: model outputs (channel-major, grey or RGB planes) to bytes.
const toByte = (v) => Math.max(0, Math.min(255, Math.round((symmetric ? (v + 1) / 2 : v) * 255)));
const toInput = (unit) => (symmetric ? unit * 2 - 1 : unit);

function paint(canvas, values) {
  const small = document.createElement("canvas");
  small.width = W;
  small.height = H;
  const ctx = small.getContext("2d");
  const img = ctx.createImageData(W, H);
  const plane = H * W;
  for (let i = 0; i < plane; i++) {
    const c = (k) => toByte(values[(CH >= 3 ? k : 0) * plane + i]);
    img.data.set([c(0), c(1), c(2), 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
  const big = canvas.getContext("2d");
  big.imageSmoothingEnabled = false;
  big.clearRect(0, 0, canvas.width, canvas.height);
  big.drawImage(small, 0, 0, canvas.width, canvas.height);
}

function showImage(values) {
  paint($("recon"), values);
  state.reconSum = values.reduce((a, b) => a + b, 0);
  $("recon").dataset.sum = state.reconSum.toFixed(6);
}

function showClass(logits) {
  if (classes <= 0) {
    $("prediction").textContent = "(this model has no classifier)";
    return;
  }
  const best = logits.indexOf(Math.max(...logits));
  state.lastClass = best;
  $("prediction").textContent = `${meta.classes[best] ?? best}`;
  $("prediction").dataset.class = String(best);
  const max = Math.max(...logits.map(Math.abs), 1e-6);
  $("logits").replaceChildren(
    ...logits.map((l, k) => {
      const row = document.createElement("div");
      row.innerHTML = `<span class="name">${meta.classes[k] ?? k}</span><span class="bar" style="width:${Math.max(0, (60 * l) / max)}px"></span>${l.toFixed(2)}`;
      return row;
    }),
  );
}

// Sliders: one per code dimension, spanning the codes seen in the test images.
const span = Array.from({ length: latent }, (_, k) => {
  const vals = vectors.items.map((v) => v.code[k]);
  const lo = Math.min(...vals), hi = Math.max(...vals), pad = 0.25 * (hi - lo || 1);
  return [lo - pad, hi + pad];
});
const sliders = [];
$("sliders").replaceChildren(
  ...Array.from({ length: latent }, (_, k) => {
    const label = document.createElement("span");
    label.textContent = `z${k}`;
    const s = document.createElement("input");
    Object.assign(s, { type: "range", min: span[k][0], max: span[k][1], step: (span[k][1] - span[k][0]) / 200 });
    s.dataset.index = String(k);
    const value = document.createElement("span");
    s.addEventListener("input", () => decodeSliders());
    sliders.push([s, value]);
    return [label, s, value];
  }).flat(),
);

function setSliders(code) {
  state.lastCode = Array.from(code);
  sliders.forEach(([s, v], k) => {
    s.value = code[k];
    v.textContent = code[k].toFixed(2);
  });
}

function decodeSliders() {
  const code = f32view(w.code_ptr(), latent);
  sliders.forEach(([s, v], k) => {
    code[k] = Number(s.value);
    v.textContent = code[k].toFixed(2);
  });
  state.lastCode = Array.from(code);
  if (w.decode() < 0) fail(new Error("decode failed"));
  showImage(Array.from(f32view(w.image_ptr(), pixels)));
}

// Encode, decode and classify an input image.
function run(input) {
  f32view(w.input_ptr(), pixels).set(input);
  if (autoencoder) {
    if (w.encode() < 0) fail(new Error("encode failed"));
    setSliders(f32view(w.code_ptr(), latent));
    if (w.decode() < 0) fail(new Error("decode failed"));
    showImage(Array.from(f32view(w.image_ptr(), pixels)));
  }
  if (classes > 0) {
    if (w.classify() < 0) fail(new Error("classify failed"));
    showClass(Array.from(f32view(w.logits_ptr(), classes)));
  }
}

// Gallery of test images.
$("gallery").replaceChildren(
  ...vectors.items.slice(0, 30).map((v, i) => {
    const c = document.createElement("canvas");
    c.width = W;
    c.height = H;
    c.dataset.index = String(i);
    c.title = meta.classes[v.label] ?? String(v.label);
    paint(c, v.input);
    c.addEventListener("click", () => {
      document.querySelectorAll("#gallery canvas").forEach((x) => x.classList.remove("selected"));
      c.classList.add("selected");
      paint($("draw"), v.input);
      run(v.input);
    });
    return c;
  }),
);

// Drawing: white strokes on black, averaged down to the model's input size.
const draw = $("draw"), dctx = draw.getContext("2d", { willReadFrequently: true });
function clearDrawing() {
  dctx.fillStyle = "#000";
  dctx.fillRect(0, 0, draw.width, draw.height);
}
clearDrawing();
let drawing = false;
function strokeTo(e) {
  const r = draw.getBoundingClientRect();
  const x = ((e.clientX - r.left) * draw.width) / r.width, y = ((e.clientY - r.top) * draw.height) / r.height;
  dctx.fillStyle = "#fff";
  dctx.beginPath();
  dctx.arc(x, y, 14, 0, 2 * Math.PI);
  dctx.fill();
}
function drawnInput() {
  const small = document.createElement("canvas");
  small.width = W;
  small.height = H;
  const sctx = small.getContext("2d", { willReadFrequently: true });
  sctx.imageSmoothingEnabled = true;
  sctx.imageSmoothingQuality = "high";
  sctx.drawImage(draw, 0, 0, W, H);
  const data = sctx.getImageData(0, 0, W, H).data;
  const out = new Array(CH * H * W);
  for (let c = 0; c < CH; c++)
    for (let i = 0; i < H * W; i++) out[c * H * W + i] = toInput(data[4 * i + Math.min(c, 2)] / 255);
  return out;
}
draw.addEventListener("pointerdown", (e) => { drawing = true; strokeTo(e); });
draw.addEventListener("pointermove", (e) => { if (drawing) strokeTo(e); });
window.addEventListener("pointerup", () => { if (drawing) { drawing = false; run(drawnInput()); } });
$("clear").addEventListener("click", () => { clearDrawing(); run(drawnInput()); });

$("sample").addEventListener("click", () => {
  if (w.sample(state.seed++, 0) < 0) fail(new Error("sample failed"));
  setSliders(f32view(w.code_ptr(), latent));
  showImage(Array.from(f32view(w.image_ptr(), pixels)));
});

// The check every target runs (bottleneck_runtime::check): its digest must equal the host's.
$("verify").addEventListener("click", () => {
  const t0 = performance.now();
  w.check_reset();
  for (const v of vectors.items) {
    f32view(w.input_ptr(), pixels).set(v.input);
    f32view(w.float_code_ptr(), latent).set(v.code);
    if (w.check_vector() < 0) fail(new Error("check failed"));
  }
  if (w.check_samples() < 0) fail(new Error("check failed"));
  const digest = "0x" + (w.check_digest() >>> 0).toString(16).padStart(8, "0");
  state.digest = digest;
  const same = digest === meta.host_digest;
  $("verify-result").dataset.digest = digest;
  $("verify-result").textContent = `${vectors.items.length} test images: digest ${digest}, ${same ? "identical to" : "DIFFERENT from"} the host runtime's ${meta.host_digest} (${(performance.now() - t0).toFixed(0)} ms)`;
});

// Time per call of each entry point on the current input, in this browser: the median of 9
// rounds of at least 50 ms each.
function timeCall(call) {
  let n = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < n; i++) call();
    if (performance.now() - t > 50) break;
    n *= 2;
  }
  const rounds = [];
  for (let r = 0; r < 9; r++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) call();
    rounds.push(((performance.now() - t) * 1000) / n);
  }
  return rounds.sort((a, b) => a - b)[4];
}
$("time").addEventListener("click", () => {
  const ok = (code, what) => { if (code < 0) fail(new Error(`${what} failed`)); };
  const us = {};
  if (autoencoder) {
    us.encode = timeCall(() => ok(w.encode(), "encode"));
    us.decode = timeCall(() => ok(w.decode(), "decode"));
  }
  if (classes > 0) us.classify = timeCall(() => ok(w.classify(), "classify"));
  for (const [k, v] of Object.entries(us)) $("timing").dataset[k] = v.toFixed(1);
  $("timing").textContent = "per image in this browser: " +
    Object.entries(us).map(([k, v]) => `${k} ${v.toFixed(1)} µs`).join(", ");
});

const what = autoencoder ? `code of ${latent}` : "a classifier alone";
$("info").textContent = `${meta.kind} model from ${meta.run}: ${modelBytes.length} bytes int8, ${what}, ${classes > 0 ? classes + " classes" : "no classifier"}; runtime ${wasmBytes.length} bytes of wasm.`;
document.querySelector("#gallery canvas")?.click();
state.ready = true;
$("status").textContent = "ready";
$("status").dataset.state = "ready";
document.body.dataset.ready = "true";
