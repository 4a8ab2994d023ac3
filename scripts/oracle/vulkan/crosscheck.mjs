#!/usr/bin/env node
// Cross-check of driver.cpp against node-llama-cpp itself (scripts/oracle/vulkan/README.md):
// loads the cases of a measured file that node-llama-cpp 3.22.1 can express (op offload on, no
// --n-cpu-moe) through node-llama-cpp's own Vulkan build and compares every buffer line per
// device with the driver's record. Exit status 1 on any difference.
//
//   GGML_VK_VISIBLE_DEVICES=0 NODE_PATH=~/.cache/vramplan-oracle-vulkan/node_modules \
//     node scripts/oracle/vulkan/crosscheck.mjs bench/accuracy/vulkan/llamacpp-vulkan.jsonl [N [MODEL]]
import fs from "node:fs";
import path from "node:path";

function resolveModule(name) {  // ES modules ignore NODE_PATH
  for (const dir of (process.env.NODE_PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const pkg = path.join(dir, name, "package.json");
    if (fs.existsSync(pkg)) {
      const meta = JSON.parse(fs.readFileSync(pkg, "utf8"));
      const entry = meta.exports?.["."]?.import ?? meta.exports?.["."]?.default ?? meta.main;
      return path.join(dir, name, typeof entry === "string" ? entry : "dist/index.js");
    }
  }
  throw new Error(`${name} not found in NODE_PATH`);
}
const {getLlama, LlamaLogLevel} = await import(resolveModule("node-llama-cpp"));

const [file, limitArg, only] = process.argv.slice(2);
const limit = Number(limitArg ?? 1e9);
const records = fs.readFileSync(file, "utf8").trim().split("\n").map(JSON.parse)
    .filter((r) => r.complete && r.asked.op_offload && r.asked.n_cpu_moe === 0 &&
                   (r.asked.seqs ?? 1) === 1 && !r.asked.type_k &&
                   (only == null || r.model.includes(only)))
    .slice(0, limit);

let lines = [];
const llama = await getLlama({gpu: "vulkan", build: "never", logLevel: LlamaLogLevel.debug,
                              logger: (level, message) => lines.push(...String(message).split("\n"))});
const bufferLine = /^(load_tensors|llama_kv_cache|sched_reserve|llama_context):\s+(\S+)\s+(model|KV|compute|output) buffer size =\s*([0-9.]+) MiB/;

function buffers(from) {
  const out = [];
  for (const l of from) {
    const m = l.match(bufferLine);
    if (m) out.push(`${m[3]} ${m[2]} ${m[4]}`);
  }
  return out;
}

function driverBuffers(r) {
  const l = r.llama;
  const fmt = (kind, list) => list.map((b) => `${kind} ${b.buffer} ${b.mib}`);
  return [...fmt("model", l.model_buffers), ...fmt("output", l.output_buffers),
          ...fmt("KV", l.kv_buffers), ...fmt("compute", l.compute_buffers)];
}

let differ = 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
for (const r of records) {
  const a = r.asked;
  lines = [];
  const model = await llama.loadModel({modelPath: r.gguf, gpuLayers: a.ngl, useMmap: a.mmap,
                                       ignoreMemorySafetyChecks: true});
  // node-llama-cpp adds 1 to batchSize on sliding-window models (../README.md): ask for one less.
  const swaBump = (model.fileInsights.swaSize ?? 0) > 0 ? 1 : 0;
  const context = await model.createContext({
    contextSize: a.ctx, sequences: 1, flashAttention: a.fa, batchSize: a.ubatch - swaBump,
    ignoreMemorySafetyChecks: true, failedCreationRemedy: false});
  for (let i = 0; i < 100 && !lines.some((l) => l.includes("reserve took")); ++i) await sleep(50);
  // The lines of the real load: after the last "loading model" banner of a load with
  // allocation (node-llama-cpp's simulator loads its own copy too).
  const start = lines.findLastIndex((l) => l.includes("load_tensors: loading model tensors"));
  const ctor = lines.findLastIndex((l) => l.includes("constructing llama_context"));
  const got = [...buffers(lines.slice(Math.max(start, 0), ctor)), ...buffers(lines.slice(ctor))];
  const want = driverBuffers(r);
  const same = JSON.stringify([...got].sort()) === JSON.stringify([...want].sort());
  if (!same) ++differ;
  console.log(`${same ? "same" : "DIFFERENT"}: ${r.model} ngl=${a.ngl} fa=${a.fa} mmap=${a.mmap}` +
              ` ub=${a.ubatch}` + (same ? "" : `\n  node-llama-cpp: ${got.join(", ")}\n  driver:         ${want.join(", ")}`));
  await context.dispose();
  await model.dispose();
}
console.log(`${records.length - differ}/${records.length} cases identical to the driver's`);
await Promise.race([llama.dispose(), sleep(3000)]);
process.exit(differ > 0 ? 1 : 0);
