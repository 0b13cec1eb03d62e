// Drives the system Chromium (headless, offline) for labeltrain's TF.js export. Run by
// labeltrain/training/export/web.py with NODE_PATH = .venv-tfjs/node/node_modules:
//   node driver.cjs verify <job.json> <result.json>   run a TF.js model on given input tensors (verify.html)
//   node driver.cjs demo <job.json> <result.json>     open the exported demo page from file:// and feed it images
// The browser is LABELTRAIN_CHROMIUM with LABELTRAIN_CHROMIUM_FLAGS and a new, empty profile folder; pages are
// served by a server on 127.0.0.1 only (verify) or opened as files (demo). Nothing leaves this machine.
"use strict";
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".json": "application/json",
  ".bin": "application/octet-stream", ".png": "image/png", ".jpg": "image/jpeg" };

// A static server on 127.0.0.1 for a few mounted folders ("/model/" -> folder).
function serve(mounts) {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split("?")[0]);
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (!url.startsWith(prefix)) continue;
      const file = path.resolve(dir, "." + url.slice(prefix.length - 1));
      if (!file.startsWith(path.resolve(dir)) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) break;
      res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] || "application/octet-stream" });
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404);
    res.end("not found");
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function withBrowser(fn) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "labeltrain-chromium-"));
  const flags = (process.env.LABELTRAIN_CHROMIUM_FLAGS || "").split(" ").filter(Boolean);
  const logs = [];
  let context = null;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.LABELTRAIN_CHROMIUM || "/usr/bin/chromium", headless: true, args: flags,
      viewport: { width: 1000, height: 800 },
    });
    const page = context.pages()[0] || (await context.newPage());
    page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
    const out = await fn(page);
    out.browser = context.browser() ? context.browser().version() : "";
    out.userAgent = await page.evaluate(() => navigator.userAgent);
    out.logs = logs;
    return out;
  } catch (err) {
    if (logs.length) err.message += "\nbrowser log:\n" + logs.slice(-20).join("\n");
    throw err;
  } finally {
    if (context) await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function verify(job) {
  const server = await serve({ "/page/": job.page_dir, "/model/": job.model_dir, "/tf/": job.tf_dir,
    "/job/": job.job_dir });
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    return await withBrowser(async (page) => {
      await page.goto(`${base}/page/verify.html`);
      await page.waitForFunction(() => typeof window.labeltrainVerify === "function");
      return page.evaluate((j) => window.labeltrainVerify(j), {
        model: "/model/model.json", inputs: "/job/" + job.inputs, shape: job.shape, repeats: job.repeats,
        backend: job.backend,
      });
    });
  } finally {
    server.close();
  }
}

async function demo(job) {
  return withBrowser(async (page) => {
    await page.goto("file://" + path.resolve(job.page));
    await page.waitForFunction(() => window.labeltrainDemo && (window.labeltrainDemo.ready || window.labeltrainDemo.error),
      null, { timeout: job.timeout_ms });
    const ready = await page.evaluate(() => window.labeltrainDemo.error || "");
    if (ready) throw new Error("the demo page did not load its model: " + ready);
    await page.fill("#conf-number", String(job.conf));
    await page.dispatchEvent("#conf-number", "change");
    const results = [];
    for (const image of job.images) {
      const before = await page.evaluate(() => window.labeltrainDemo.runs);
      await page.setInputFiles("#file", image);
      await page.waitForFunction((n) => window.labeltrainDemo.runs > n || window.labeltrainDemo.error, before,
        { timeout: job.timeout_ms });
      const state = await page.evaluate(() => window.labeltrainDemo.export());
      if (state.error) throw new Error("the demo page failed on " + image + ": " + state.error);
      results.push({ image, ...state });
    }
    if (job.screenshot) await page.screenshot({ path: job.screenshot, fullPage: true });
    const backend = await page.evaluate(() => window.labeltrainDemo.backend);
    return { results, backend };
  });
}

async function main() {
  const [command, jobPath, outPath] = process.argv.slice(2);
  const job = JSON.parse(fs.readFileSync(jobPath, "utf8"));
  const run = { verify, demo }[command];
  if (!run) throw new Error(`unknown command ${command}`);
  const result = await run(job);
  fs.writeFileSync(outPath, JSON.stringify(result));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
