// labeltrain web demo: letterbox an image, run the TF.js model, decode its raw output [1, 4+nc, anchors] and
// apply class-aware NMS exactly as labeltrain's decode_raw (onnx_infer.py) does, in float32 arithmetic, then
// draw the boxes. window.labeltrainDemo exposes the last run (input tensor, raw output, detections) for tests.
"use strict";
(function () {
  const IOU = 0.7, MAX_WH = 7680, MAX_NMS = 30000, MAX_DET = 300, PAD = 114;
  const f32 = Math.fround;
  const $ = (id) => document.getElementById(id);
  const state = { ready: false, error: "", runs: 0, backend: "", model: null, names: {}, inputHW: [640, 640],
    last: null, conf: 0.25 };
  window.labeltrainDemo = state;

  // Python's round(): halves to even (the letterbox sizes must equal Ultralytics' to the pixel).
  function pyRound(x) {
    const f = Math.floor(x), d = x - f;
    if (d > 0.5) return f + 1;
    if (d < 0.5) return f;
    return f % 2 === 0 ? f : f + 1;
  }

  // Fit the image into the network input keeping its aspect ratio, centred on grey 114 (Ultralytics' LetterBox).
  function letterbox(bitmap, inH, inW) {
    const h = bitmap.height, w = bitmap.width;
    const r = Math.min(inH / h, inW / w);
    const uw = Math.max(pyRound(w * r), 1), uh = Math.max(pyRound(h * r), 1);
    const dw = (inW - uw) / 2, dh = (inH - uh) / 2;
    const top = pyRound(dh - 0.1), left = pyRound(dw - 0.1);
    const canvas = document.createElement("canvas");
    canvas.width = inW;
    canvas.height = inH;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.fillStyle = `rgb(${PAD},${PAD},${PAD})`;
    ctx.fillRect(0, 0, inW, inH);
    ctx.drawImage(bitmap, left, top, uw, uh);
    const rgba = ctx.getImageData(0, 0, inW, inH).data;
    const input = new Float32Array(inW * inH * 3); // NHWC, RGB, 0..1
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
      input[j] = rgba[i] / 255;
      input[j + 1] = rgba[i + 1] / 255;
      input[j + 2] = rgba[i + 2] / 255;
    }
    return { input, info: { orig_hw: [h, w], input_hw: [inH, inW], gain_xy: [uw / w, uh / h], pad_xy: [left, top] } };
  }

  // Descending by score, ties in index order (numpy's stable argsort of -score).
  function order(scores, idx) {
    return idx.sort((a, b) => scores[b] - scores[a] || a - b);
  }

  // Greedy NMS as torchvision.ops.nms in float32: drop boxes whose IoU with a kept one is > iouThres.
  function nms(boxes, scores, iouThres) {
    const thr = f32(iouThres);
    let rest = order(scores, scores.map((_, i) => i));
    const area = boxes.map((b) => f32(f32(b[2] - b[0]) * f32(b[3] - b[1])));
    const keep = [];
    while (rest.length) {
      const i = rest[0], bi = boxes[i];
      keep.push(i);
      rest = rest.slice(1).filter((k) => {
        const bk = boxes[k];
        const iw = Math.max(f32(Math.min(bi[2], bk[2]) - Math.max(bi[0], bk[0])), 0);
        const ih = Math.max(f32(Math.min(bi[3], bk[3]) - Math.max(bi[1], bk[1])), 0);
        const inter = f32(iw * ih);
        const iou = f32(inter / f32(f32(area[i] + area[k]) - inter));
        return !(iou > thr);
      });
    }
    return keep;
  }

  // Raw output (channels = 4 + nc rows of `anchors` values) -> [x1, y1, x2, y2, score, class] in input pixels.
  function decodeRaw(raw, channels, anchors, conf, iouThres, maxDet) {
    const c = f32(conf), nc = channels - 4;
    let cand = [];
    for (let a = 0; a < anchors; a++) {
      let best = -Infinity, cls = 0;
      for (let k = 0; k < nc; k++) {
        const s = raw[(4 + k) * anchors + a];
        if (s > best) { best = s; cls = k; }
      }
      if (!(best > c)) continue;
      const cx = raw[a], cy = raw[anchors + a], hw = f32(raw[2 * anchors + a] / 2), hh = f32(raw[3 * anchors + a] / 2);
      cand.push({ box: [f32(cx - hw), f32(cy - hh), f32(cx + hw), f32(cy + hh)], score: best, cls });
    }
    if (cand.length > MAX_NMS) {
      const top = order(cand.map((d) => d.score), cand.map((_, i) => i)).slice(0, MAX_NMS);
      cand = top.map((i) => cand[i]);
    }
    const shifted = cand.map((d) => d.box.map((v) => f32(v + d.cls * MAX_WH)));
    const keep = nms(shifted, cand.map((d) => d.score), iouThres).slice(0, maxDet);
    return keep.map((i) => [...cand[i].box, cand[i].score, cand[i].cls]);
  }

  // Input pixels -> original image pixels, clipped to the image (Ultralytics' scale_boxes), in float32.
  function scaleToOriginal(dets, info) {
    const [gx, gy] = info.gain_xy.map(f32), [px, py] = info.pad_xy, [h, w] = info.orig_hw;
    const clip = (v, hi) => Math.min(Math.max(v, 0), hi);
    return dets.map(([x1, y1, x2, y2, s, c]) => [
      clip(f32(f32(x1 - px) / gx), w), clip(f32(f32(y1 - py) / gy), h),
      clip(f32(f32(x2 - px) / gx), w), clip(f32(f32(y2 - py) / gy), h), s, c]);
  }

  function colour(cls) {
    return `hsl(${(cls * 137.5) % 360}, 85%, 45%)`;
  }

  function draw() {
    const last = state.last;
    if (!last) return;
    const dets = scaleToOriginal(decodeRaw(last.raw, last.channels, last.anchors, state.conf, IOU, MAX_DET), last.info);
    last.dets = dets;
    const view = $("view"), [h, w] = last.info.orig_hw;
    const k = Math.min(900 / w, 640 / h); // display scale (small images are enlarged)
    view.width = Math.round(w * k);
    view.height = Math.round(h * k);
    const ctx = view.getContext("2d");
    ctx.imageSmoothingEnabled = k < 1;
    ctx.drawImage(last.bitmap, 0, 0, view.width, view.height);
    ctx.lineWidth = 2;
    ctx.font = "13px sans-serif";
    const rows = ["<tr><th>class</th><th>score</th><th>x1</th><th>y1</th><th>x2</th><th>y2</th></tr>"];
    for (const [x1, y1, x2, y2, s, c] of dets) {
      const name = state.names[c] ?? `class${c}`, label = `${name} ${s.toFixed(3)}`;
      ctx.strokeStyle = ctx.fillStyle = colour(c);
      ctx.strokeRect(x1 * k, y1 * k, (x2 - x1) * k, (y2 - y1) * k);
      const tw = ctx.measureText(label).width + 6, th = 17, ty = y1 * k >= th ? y1 * k - th : y1 * k;
      ctx.fillRect(x1 * k, ty, tw, th);
      ctx.fillStyle = "#fff";
      ctx.fillText(label, x1 * k + 3, ty + th - 4);
      rows.push(`<tr><td><span class="swatch" style="background:${colour(c)}"></span>${name}</td><td>${s.toFixed(4)}</td>` +
        [x1, y1, x2, y2].map((v) => `<td>${v.toFixed(1)}</td>`).join("") + "</tr>");
    }
    $("dets").innerHTML = rows.join("");
    $("status").textContent = `${dets.length} detection(s) at confidence > ${state.conf} · model ${last.ms.model.toFixed(1)} ms` +
      ` · ${state.backend} backend`;
  }

  async function detect(file) {
    try {
      const bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
      const [inH, inW] = state.inputHW;
      const t0 = performance.now();
      const { input, info } = letterbox(bitmap, inH, inW);
      const t1 = performance.now();
      const y = tf.tidy(() => state.model.execute(tf.tensor4d(input, [1, inH, inW, 3])));
      const out = Array.isArray(y) ? y[0] : y;
      const raw = await out.data();
      const [, channels, anchors] = out.shape;
      tf.dispose(y);
      const t2 = performance.now();
      state.last = { bitmap, input, info, raw, channels, anchors, ms: { letterbox: t1 - t0, model: t2 - t1 } };
      draw();
      state.runs += 1;
    } catch (err) {
      state.error = String(err && err.message ? err.message : err);
      $("status").textContent = "error: " + state.error;
    }
  }

  function b64(floats) {
    const bytes = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(text);
  }

  // The last run for tests: input tensor and raw output as base64 float32, the letterbox, the detections.
  state.export = () => {
    const l = state.last;
    if (!l) return { error: state.error || "no image yet" };
    return { error: state.error, conf: state.conf, info: l.info, dets: l.dets, ms: l.ms, backend: state.backend,
      input: b64(l.input), input_shape: [1, l.info.input_hw[0], l.info.input_hw[1], 3],
      raw: b64(new Float32Array(l.raw)), raw_shape: [1, l.channels, l.anchors] };
  };

  function setConf(value, fromRange) {
    const v = Math.min(Math.max(Number(value) || 0.25, 0.0001), 1);
    state.conf = v;
    if (fromRange) $("conf-number").value = v.toPrecision(3);
    else $("conf-range").value = Math.log10(v).toFixed(2);
    draw();
  }

  async function loadModel() {
    const M = window.LABELTRAIN_MODEL;
    const bin = atob(M.weights), bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const j = M.model;
    const artifacts = { modelTopology: j.modelTopology, weightSpecs: j.weightsManifest.flatMap((g) => g.weights),
      weightData: bytes.buffer, format: j.format, generatedBy: j.generatedBy, convertedBy: j.convertedBy,
      signature: j.signature, userDefinedMetadata: j.userDefinedMetadata };
    await tf.ready();
    state.backend = tf.getBackend();
    state.model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    const meta = (j.userDefinedMetadata || {}).labeltrain || {};
    state.names = meta.names || {};
    const dims = Object.values(j.signature.inputs)[0].tensorShape.dim.map((d) => Number(d.size));
    state.inputHW = [dims[1], dims[2]];
    tf.tidy(() => state.model.execute(tf.zeros([1, dims[1], dims[2], 3]))); // warm-up
    if (meta.title) $("title").textContent = meta.title;
    state.ready = true;
    $("status").textContent = `model ready (${state.inputHW[0]}x${state.inputHW[1]}, ${Object.keys(state.names).length} classes,` +
      ` ${state.backend}): pick or drop an image`;
  }

  $("file").addEventListener("change", (e) => e.target.files[0] && detect(e.target.files[0]));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files[0]) detect(e.dataTransfer.files[0]);
  });
  $("conf-range").addEventListener("input", (e) => setConf(10 ** Number(e.target.value), true));
  $("conf-number").addEventListener("change", (e) => setConf(e.target.value, false));
  const hashConf = /conf=([0-9.]+)/.exec(location.hash);
  setConf(hashConf ? hashConf[1] : $("conf-number").value, false);
  loadModel().catch((err) => {
    state.error = String(err && err.message ? err.message : err);
    $("status").textContent = "the model did not load: " + state.error;
  });
})();
