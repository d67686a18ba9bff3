// Clicks through the browser demo in headless Chromium and checks what the page shows.
//   node test/demo.test.mjs URL HOST_DIGEST
// Prints one JSON line of observations; exits 1 on any failed check or page error.
import { chromium } from "playwright-core";

const [url, hostDigest] = process.argv.slice(2);
if (!hostDigest) {
  console.error("usage: node test/demo.test.mjs URL HOST_DIGEST");
  process.exit(2);
}
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const out = {};
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => failures.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") failures.push(`console: ${m.text()}`); });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  out.status = await page.textContent("#status");

  // A classifier alone (the CNN) shows classes only; an autoencoder also reconstructs, decodes
  // slider changes and samples.
  const autoencoder = (await page.getAttribute("body", "data-autoencoder")) === "true";
  out.autoencoder = autoencoder;
  out.shape = await page.getAttribute("body", "data-shape");
  const sumOf = async () => Number(await page.getAttribute("#recon", "data-sum"));

  // The first test image is shown on load: a class (and a reconstruction).
  out.class0 = await page.getAttribute("#prediction", "data-class");
  const sum0 = autoencoder ? await sumOf() : 0;
  check(!autoencoder || (Number.isFinite(sum0) && sum0 > 0), "no reconstruction on load");

  // Another test image.
  await page.click('#gallery canvas[data-index="7"]');
  out.class7 = await page.getAttribute("#prediction", "data-class");
  if (autoencoder) {
    const sum7 = await sumOf();
    check(sum7 !== sum0, "picking another image did not change the reconstruction");

    // A latent slider decodes a changed code. A small model may leave a code dimension nearly
    // unused (its int8 decoding then does not move), so the sliders are tried in turn.
    let moved = false;
    for (const slider of await page.locator("#sliders input").all()) {
      await slider.evaluate((s) => { s.value = s.max; s.dispatchEvent(new Event("input")); });
      if ((await sumOf()) !== sum7) { moved = true; break; }
    }
    check(moved, "moving the sliders did not change the decoded image");

    // New samples differ from each other.
    await page.click("#sample");
    const s1 = await sumOf();
    await page.click("#sample");
    check(s1 !== (await sumOf()), "two samples gave the same image");
  } else {
    check(out.class0 !== null && out.class0 !== "" && out.class7 !== null && out.class7 !== "", "no class shown");
    check(!(await page.isVisible("#recon")) && !(await page.isVisible("#sample")), "a classifier alone shows a reconstruction");
  }

  // Draw a vertical bar (a trouser-like stroke on Fashion-MNIST) and get a prediction.
  await page.click("#clear");
  const box = await page.locator("#draw").boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let i = 0; i <= 20; i++) await page.mouse.move(box.x + box.width / 2, box.y + box.height * (0.15 + 0.035 * i));
  await page.mouse.up();
  out.drawnClass = await page.getAttribute("#prediction", "data-class");
  if (autoencoder) {
    const sumDrawn = await sumOf();
    check(Number.isFinite(sumDrawn) && sumDrawn > 0, "no reconstruction of the drawing");
  } else {
    check(out.drawnClass !== null && out.drawnClass !== "", "no class for the drawing");
  }

  // Time per image of the entry points in this browser (the wasm module, batch 1).
  await page.click("#time");
  await page.waitForFunction(() => document.querySelector("#timing").textContent.length > 0, null, { timeout: 60000 });
  out.us = {};
  for (const k of autoencoder ? ["encode", "decode", "classify"] : ["classify"]) {
    out.us[k] = Number(await page.getAttribute("#timing", `data-${k}`));
    check(Number.isFinite(out.us[k]) && out.us[k] > 0, `no ${k} time`);
  }

  // Verification in the browser: the same digest as the host runtime.
  await page.click("#verify");
  await page.waitForSelector("#verify-result[data-digest^='0x']", { timeout: 30000 });
  out.digest = await page.getAttribute("#verify-result", "data-digest");
  check(out.digest === hostDigest, `browser digest ${out.digest} differs from the host's ${hostDigest}`);
  out.verify = await page.textContent("#verify-result");
  await page.screenshot({ path: process.env.SCREENSHOT ?? "/tmp/bottleneck-demo.png", fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ...out, failures }));
process.exit(failures.length ? 1 : 0);
