#!/usr/bin/env node
// Measures what real llama.cpp (through node-llama-cpp, CPU backend) allocates for each
// configuration of a grid, and what node-llama-cpp's arithmetic estimator predicts.
// Usage: scripts/oracle/README.md; results: docs/accuracy.md.
//
//   NODE_PATH=<dir>/node_modules node measure.mjs --grid grid.json --out results.jsonl \
//       [--log-dir DIR]
//
// grid.json: [{ "model": "llama3.1:8b-q8_0", "gguf": "/tmp/x.gguf", "arch": "llama",
//               "file_type": "Q8_0",
//               "cases": [{ "contextSize": 4096, "sequences": 1, "flashAttention": false,
//                           "ubatch": 512, "kvCacheKeyType": "F16",
//                           "kvCacheValueType": "F16" }] }]
// "kvType" sets both cache types. "ubatch" is the n_ubatch wanted from llama.cpp (batchSize is
// derived: node-llama-cpp adds 1 on sliding-window models); "batchSize" is passed as is.
// contextSize is PER SEQUENCE (node-llama-cpp gives llama.cpp n_ctx = contextSize *
// sequences). On sliding-window models node-llama-cpp adds 1 to batchSize; the real n_ubatch
// is read from the log. Writes one JSON object per case per line.
import fs from "node:fs";
import path from "node:path";
import {createRequire} from "node:module";

const require = createRequire(import.meta.url);
const {getLlama, LlamaLogLevel, GgmlType} = await import(resolveModule("node-llama-cpp"));

// node-llama-cpp from NODE_PATH (ES modules ignore NODE_PATH, so resolve it by hand).
function resolveModule(name) {
  const dirs = (process.env.NODE_PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const pkg = path.join(dir, name, "package.json");
    if (fs.existsSync(pkg)) {
      const meta = JSON.parse(fs.readFileSync(pkg, "utf8"));
      const entry = meta.exports?.["."]?.import ?? meta.exports?.["."]?.default ?? meta.main;
      return path.join(dir, name, typeof entry === "string" ? entry : "dist/index.js");
    }
  }
  return require.resolve(name);
}

function packageVersion(name) {
  const dirs = (process.env.NODE_PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const pkg = path.join(dir, name, "package.json");
    if (fs.existsSync(pkg)) return JSON.parse(fs.readFileSync(pkg, "utf8")).version;
  }
  return null;
}

function parseArgs(argv) {
  const args = {grid: null, out: null, logDir: null};
  for (let i = 2; i < argv.length; ++i) {
    const a = argv[i];
    if (a === "--grid") args.grid = argv[++i];
    else if (a === "--out") args.out = argv[++i];
    else if (a === "--log-dir") args.logDir = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.grid || !args.out) throw new Error("usage: measure.mjs --grid FILE --out FILE [--log-dir DIR]");
  return args;
}

const MiB = 1024 * 1024;
const mibToBytes = (mib) => Math.round(Number(mib) * MiB);
const buffer = (name, mib) => ({buffer: name, mib, bytes: mibToBytes(mib)});
const sum = (items) => items.reduce((acc, x) => acc + x.bytes, 0);

// KV types are passed as ggml's upper-case names: lower case is silently ignored by
// node-llama-cpp (it falls back to f16).
function kvType(name) {
  const upper = String(name ?? "F16").toUpperCase();
  if (!(upper in GgmlType)) throw new Error(`unknown KV cache type ${name}`);
  return upper;
}

// --- log capture -------------------------------------------------------------------------
// node-llama-cpp hands the logger complete lines most of the time, but a line printed in
// several pieces can arrive split. A piece without a "function: " prefix that does not start
// with a capital letter (node-llama-cpp's own messages do) continues the previous line.
const log = {lines: [], waiters: []};
const linePrefix = /^[A-Za-z_~][A-Za-z0-9_~]*:\s/;
const continuation = (piece) => piece !== "" && !linePrefix.test(piece) && !/^[A-Z.]/.test(piece);

function onLog(level, message) {
  for (const piece of String(message).split("\n")) {
    if (log.lines.length > 0 && continuation(piece)) {
      log.lines[log.lines.length - 1] += piece;  // continuation of the previous line
    } else {
      log.lines.push(piece);
    }
  }
  for (const w of [...log.waiters]) {
    if (w.test()) {
      log.waiters.splice(log.waiters.indexOf(w), 1);
      w.resolve();
    }
  }
}

function waitFor(test, timeoutMs) {
  if (test()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const w = {test, resolve};
    log.waiters.push(w);
    setTimeout(() => {
      const i = log.waiters.indexOf(w);
      if (i >= 0) {
        log.waiters.splice(i, 1);
        reject(new Error("timed out waiting for llama.cpp's log lines"));
      }
    }, timeoutMs);
  });
}

// --- parsing -----------------------------------------------------------------------------
const num = "([0-9]+(?:\\.[0-9]+)?)";

function parseModelLines(lines) {
  const model = [];
  for (const line of lines) {
    const m = line.match(new RegExp(`load_tensors:\\s+(\\S+) model buffer size =\\s*${num} MiB`));
    if (m) model.push(buffer(m[1], m[2]));
  }
  return {model_buffers: model, model_bytes: sum(model)};
}

function parseContextLines(lines) {
  const r = {
    params: {}, output_buffers: [], kv_buffers: [], kv_size_lines: [], rs_buffers: [],
    rs_size_lines: [], compute_buffers: [], compute_buffers_precise: [], iswa_cells: {},
    worst_case: null, graph: null, warnings: [],
  };
  for (const line of lines) {
    let m;
    if ((m = line.match(/^llama_context:\s+(n_seq_max|n_ctx|n_ctx_seq|n_batch|n_ubatch|causal_attn|flash_attn|kv_unified|n_rs_seq|n_outputs_max|n_outputs_max_per_seq|freq_base|freq_scale)\s+=\s+(\S+)/))) {
      const v = m[2];
      r.params[m[1]] = /^-?[0-9]+$/.test(v) ? Number(v) : (v === "true" ? true : v === "false" ? false : v);
    } else if ((m = line.match(new RegExp(`^llama_context:\\s+(\\S+)\\s+output buffer size =\\s*${num} MiB`)))) {
      r.output_buffers.push(buffer(m[1], m[2]));
    } else if ((m = line.match(new RegExp(`^llama_kv_cache\\S*:\\s+(\\S+) KV buffer size =\\s*${num} MiB`)))) {
      r.kv_buffers.push(buffer(m[1], m[2]));
    } else if ((m = line.match(new RegExp(`^llama_kv_cache\\S*: size =\\s*${num} MiB \\(\\s*([0-9]+) cells,\\s*([0-9]+) layers,\\s*([0-9]+)/([0-9]+) seqs\\), K \\((\\S+)\\):\\s*${num} MiB, V \\((\\S+)\\):\\s*${num} MiB`)))) {
      r.kv_size_lines.push({
        raw: line, mib: m[1], bytes: mibToBytes(m[1]), cells: Number(m[2]), layers: Number(m[3]),
        n_seq_max: Number(m[4]), n_stream: Number(m[5]), k_type: m[6], k_mib: m[7],
        k_bytes: mibToBytes(m[7]), v_type: m[8], v_mib: m[9], v_bytes: mibToBytes(m[9]),
      });
    } else if ((m = line.match(/^llama_kv_cache\S*: size =/))) {
      // a size line in another format (e.g. a V-less MLA cache): keep it raw
      const k = line.match(new RegExp(`size =\\s*${num} MiB`));
      r.kv_size_lines.push({raw: line, mib: k?.[1] ?? null, bytes: k ? mibToBytes(k[1]) : null});
    } else if ((m = line.match(/creating\s+(non-SWA|SWA) KV cache, size = ([0-9]+) cells/))) {
      r.iswa_cells[m[1] === "SWA" ? "swa" : "non_swa"] = Number(m[2]);
    } else if ((m = line.match(new RegExp(`^llama_memory_recurrent:\\s+(\\S+) RS buffer size =\\s*${num} MiB`)))) {
      r.rs_buffers.push(buffer(m[1], m[2]));
    } else if ((m = line.match(/^llama_memory_recurrent: size =/))) {
      r.rs_size_lines.push({raw: line});
    } else if ((m = line.match(new RegExp(`^(?:sched_reserve|llama_context):\\s+(\\S+) compute buffer size =\\s*${num} MiB`)))) {
      r.compute_buffers.push(buffer(m[1], m[2]));
    } else if ((m = line.match(new RegExp(`^~llama_context:\\s+(\\S+) compute buffer size is\\s*${num} MiB`)))) {
      r.compute_buffers_precise.push(buffer(m[1], m[2]));
    } else if ((m = line.match(/worst-case: n_tokens = ([0-9]+), n_seqs = ([0-9]+), n_outputs = ([0-9]+)/))) {
      r.worst_case = {n_tokens: Number(m[1]), n_seqs: Number(m[2]), n_outputs: Number(m[3])};
    } else if ((m = line.match(/graph: nodes = ([0-9]+), splits = ([0-9]+)/)) ||
               (m = line.match(/graph nodes\s+= ([0-9]+).*graph splits = ([0-9]+)/))) {
      r.graph = {nodes: Number(m[1]), splits: Number(m[2])};
    } else if (/padding V cache|SWA is currently disabled|failed|error/i.test(line)) {
      r.warnings.push(line);
    }
  }
  r.kv_bytes = sum(r.kv_buffers);
  r.rs_bytes = sum(r.rs_buffers);
  r.compute_bytes = sum(r.compute_buffers);
  r.output_bytes = sum(r.output_buffers);
  return r;
}

function estimatorFor(model, c) {
  const args = {
    contextSize: c.contextSize, modelGpuLayers: 0, sequences: c.sequences,
    flashAttention: c.flashAttention, batchSize: c.batchSize,
    kvCacheKeyType: GgmlType[kvType(c.kvCacheKeyType)],
    kvCacheValueType: GgmlType[kvType(c.kvCacheValueType)],
  };
  try {
    const typed = model.fileInsights.estimateContextResourceRequirements(args);
    const plain = model.fileInsights.estimateContextResourceRequirements(
        {...args, kvCacheKeyType: undefined, kvCacheValueType: undefined});
    return {
      cpuRam: typed.cpuRam, gpuVram: typed.gpuVram,
      // with the KV types left out it assumes f16 (node-llama-cpp's estimator counts bytes
      // per block as bytes per element for quantised KV types)
      cpuRam_types_omitted: plain.cpuRam, gpuVram_types_omitted: plain.gpuVram,
    };
  } catch (e) {
    return {error: String(e?.message ?? e)};
  }
}

async function measureModel(llama, entry, versions, out, logDir) {
  // node-llama-cpp's simulator (its V2 estimator, run inside loadModel and createContext)
  // lowers the global log level while it loads its own copy, and the real load's lines can be
  // lost to that. Without a "model buffer size" line the model is loaded again (the simulator's
  // copy is cached then).
  let model;
  let start = log.lines.length;
  const hasModelLines = () => log.lines.slice(start).some((l) => l.includes("model buffer size"));
  for (let attempt = 0; attempt < 3; ++attempt) {
    start = log.lines.length;
    try {
      model = await llama.loadModel({modelPath: entry.gguf, gpuLayers: 0, useMmap: true,
                                     ignoreMemorySafetyChecks: true});
    } catch (e) {
      const tail = log.lines.slice(start).filter((l) => /error|failed|exception/i.test(l)).slice(-8);
      const record = {model: entry.model, arch: entry.arch, file_type: entry.file_type,
                      gguf: entry.gguf, load_error: String(e?.message ?? e), log_tail: tail,
                      versions};
      out.write(JSON.stringify(record) + "\n");
      console.error(`load failed: ${entry.model}: ${record.load_error}\n  ${tail.join("\n  ")}`);
      return;
    }
    await waitFor(hasModelLines, 3000).catch(() => {});
    if (hasModelLines()) break;
    console.error(`${entry.model}: no model buffer lines in the log, loading again`);
    await model.dispose();
  }
  const modelInfo = () => {  // the lines before the first context are the model's
    const lines = log.lines.slice(start);
    const ctor = lines.findIndex((l) => l.includes("constructing llama_context"));
    return parseModelLines(ctor >= 0 ? lines.slice(0, ctor) : lines);
  };
  const swaSize = model.fileInsights.swaSize ?? null;

  for (const c of entry.cases) {
    // "ubatch" asks for llama.cpp's n_ubatch: node-llama-cpp adds 1 on SWA models.
    const swaBump = swaSize != null && swaSize > 0 ? 1 : 0;
    const batchSize = c.ubatch != null ? c.ubatch - swaBump : (c.batchSize ?? 512);
    const asked = {
      contextSize: c.contextSize, sequences: c.sequences ?? 1,
      flashAttention: Boolean(c.flashAttention), batchSize, ubatch: c.ubatch ?? null,
      kvCacheKeyType: kvType(c.kvCacheKeyType ?? c.kvType),
      kvCacheValueType: kvType(c.kvCacheValueType ?? c.kvType),
    };
    const record = {model: entry.model, arch: entry.arch, file_type: entry.file_type,
                    gguf: entry.gguf, tensor_bytes: entry.tensor_bytes ?? null, asked,
                    swa_size: swaSize};
    // A context whose log lost lines to the simulator's log-level override (see above) is
    // created again.
    let lines = [];
    let ctxInfo = null;
    for (let attempt = 0; attempt < 3; ++attempt) {
      const caseStart = log.lines.length;
      delete record.error;
      let context = null;
      try {
        context = await model.createContext({
          contextSize: asked.contextSize, sequences: asked.sequences,
          flashAttention: asked.flashAttention, batchSize: asked.batchSize,
          experimentalKvCacheKeyType: asked.kvCacheKeyType,
          experimentalKvCacheValueType: asked.kvCacheValueType,
          ignoreMemorySafetyChecks: true, failedCreationRemedy: false,
        });
        const reserved = () => {
          const seen = log.lines.slice(caseStart);
          const ctor = seen.findLastIndex((l) => l.includes("constructing llama_context"));
          return ctor >= 0 && seen.slice(ctor).some((l) => l.includes("reserve took"));
        };
        await waitFor(reserved, 120000);
      } catch (e) {
        record.error = String(e?.message ?? e);
      }
      if (context) {
        await context.dispose();
        // the destructor prints the compute buffer with 4 decimals
        const destructed = () => log.lines.slice(caseStart).some((l) => l.startsWith("~llama_context:"));
        await waitFor(destructed, 1000).catch(() => {});
      }

      lines = log.lines.slice(caseStart);
      const ctor = lines.findLastIndex((l) => l.includes("constructing llama_context"));
      ctxInfo = parseContextLines(ctor >= 0 ? lines.slice(ctor) : []);
      // A non-causal model without memory (gemma-embedding, bert) logs no KV or RS buffer.
      const noMemory = String(ctxInfo.params.causal_attn) === "0";
      const complete = ctxInfo.params.n_ctx != null && ctxInfo.compute_buffers.length > 0 &&
          ctxInfo.output_buffers.length > 0 &&
          (ctxInfo.kv_buffers.length > 0 || ctxInfo.rs_buffers.length > 0 || noMemory);
      record.complete = complete;
      if (complete || record.error) break;
      console.error(`${entry.model}: incomplete context log, creating it again`);
    }
    record.llama = {...ctxInfo, ...modelInfo()};
    record.estimator = estimatorFor(model, asked);
    record.versions = versions;
    out.write(JSON.stringify(record) + "\n");
    if (logDir) {
      const name = `${entry.model.replace(/[^A-Za-z0-9._-]/g, "_")}-${asked.contextSize}x` +
          `${asked.sequences}-fa${asked.flashAttention ? 1 : 0}-b${asked.batchSize}-` +
          `${asked.kvCacheKeyType}-${asked.kvCacheValueType}.log`;
      fs.writeFileSync(path.join(logDir, name), lines.join("\n") + "\n");
    }
    const p = ctxInfo.params;
    console.error(`${entry.model} n_ctx=${p.n_ctx} seqs=${p.n_seq_max} ub=${p.n_ubatch} ` +
                  `fa=${p.flash_attn} kv=${asked.kvCacheKeyType}/${asked.kvCacheValueType}: ` +
                  `KV ${(ctxInfo.kv_bytes / MiB).toFixed(2)} compute ` +
                  `${(ctxInfo.compute_bytes / MiB).toFixed(2)} output ` +
                  `${(ctxInfo.output_bytes / MiB).toFixed(2)} MiB` +
                  (record.error ? ` ERROR ${record.error}` : ""));
  }
  await model.dispose();
}

async function main() {
  const args = parseArgs(process.argv);
  const grid = JSON.parse(fs.readFileSync(args.grid, "utf8"));
  if (args.logDir) fs.mkdirSync(args.logDir, {recursive: true});
  const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.debug,
                                logger: onLog});
  const versions = {
    node_llama_cpp: packageVersion("node-llama-cpp"),
    llama_cpp_release: llama.llamaCppRelease,  // {repo, release} of node-llama-cpp's build
    llama_cpp_build: process.env.VRAMPLAN_LLAMA_BUILD ?? null,  // "build N, commit X" (run.sh)
    backend: "cpu",
    build_type: llama.buildType,
  };
  const out = fs.createWriteStream(args.out, {flags: "w"});
  for (const entry of grid) await measureModel(llama, entry, versions, out, args.logDir);
  await new Promise((resolve) => out.end(resolve));
  // llama.dispose() can hang with node-llama-cpp's simulator models still cached: give it a
  // moment, then exit.
  await Promise.race([llama.dispose(), new Promise((resolve) => setTimeout(resolve, 3000))]);
  process.exit(0);
}

await main();
