// Time per image of the module's entry points under Node, for `cargo xtask bench inference`:
//   node bench.mjs MODULE.wasm model.bnq vectors.bin
// Encodes, decodes and classifies the first test image over and over (batch 1, as the native
// benchmark does) and prints one line: `encode_us E decode_us D classify_us C`, each the median of
// 9 rounds of at least 0.2 s.
import { readFileSync } from "node:fs";

const [wasmPath, modelPath, vectorsPath] = process.argv.slice(2);
if (!vectorsPath) {
  console.error("usage: node bench.mjs MODULE.wasm model.bnq vectors.bin");
  process.exit(2);
}
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath));
const w = instance.exports;
const model = readFileSync(modelPath);
new Uint8Array(w.memory.buffer, w.model_ptr(), model.length).set(model);
if (w.load(model.length) !== 0) throw new Error("load failed");

const vb = readFileSync(vectorsPath);
const dv = new DataView(vb.buffer, vb.byteOffset, vb.byteLength);
const pixels = dv.getUint16(12, true) * dv.getUint16(14, true) * dv.getUint16(16, true);
const input = new Float32Array(w.memory.buffer, w.input_ptr(), pixels);
for (let i = 0; i < pixels; i++) input[i] = dv.getFloat32(32 + 4 * i, true);
if (w.encode() !== 0) throw new Error("encode failed");

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// Microseconds per call of `f`.
function time(f) {
  let n = 1;
  for (;;) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    if (Number(process.hrtime.bigint() - t) >= 2e8) break;
    n *= 2;
  }
  const rounds = [];
  for (let r = 0; r < 9; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    rounds.push(Number(process.hrtime.bigint() - t) / n / 1e3);
  }
  return median(rounds);
}

const encode = time(() => w.encode());
const decode = time(() => w.decode());
const classify = w.classes() > 0 ? time(() => w.classify()) : NaN;
console.log(`encode_us ${encode.toFixed(1)} decode_us ${decode.toFixed(1)} classify_us ${classify.toFixed(1)}`);
