// Runs a TF.js graph model on float32 NHWC inputs (one raw file: N images after each other) and returns each
// image's raw output (base64 of its float32 bytes, exact), its shape and the median time per run.
"use strict";

function toBase64(floats) {
  const bytes = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function runOnce(model, x) {
  let y;
  try {
    y = model.execute(x);
  } catch (err) { // a graph with control flow needs the asynchronous executor
    y = await model.executeAsync(x);
  }
  const first = Array.isArray(y) ? y[0] : y;
  const data = await first.data();
  const shape = first.shape;
  tf.dispose(y);
  return { data, shape };
}

window.labeltrainVerify = async function (job) {
  if (job.backend) await tf.setBackend(job.backend);
  await tf.ready();
  const model = await tf.loadGraphModel(job.model);
  const all = new Float32Array(await (await fetch(job.inputs)).arrayBuffer());
  const [n, h, w, c] = job.shape;
  const per = h * w * c;
  const outputs = [];
  for (let i = 0; i < n; i++) {
    const x = tf.tensor4d(all.subarray(i * per, (i + 1) * per), [1, h, w, c]);
    const first = await runOnce(model, x);
    const times = [];
    for (let r = 0; r < job.repeats; r++) {
      const t0 = performance.now();
      await runOnce(model, x);
      times.push(performance.now() - t0);
    }
    x.dispose();
    outputs.push({ data: toBase64(new Float32Array(first.data)), shape: first.shape, ms: median(times) });
  }
  return { outputs, backend: tf.getBackend(), tfjs: tf.version.tfjs };
};
