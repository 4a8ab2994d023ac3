// Cross-checks vramplan's GGUF reader against an independent parser, the npm package
// @huggingface/gguf: for each file, the metadata vramplan plans with and every tensor's name,
// type and shape must agree with what @huggingface/gguf reads.
// Usage: node gguf_crosscheck.mjs VRAMPLAN_BINARY FILE.gguf...   (exit 1 on any mismatch)
import { execFileSync } from "node:child_process";
import { gguf, GGMLQuantizationType } from "@huggingface/gguf";

const [vramplan, ...files] = process.argv.slice(2);
if (!vramplan || files.length === 0) {
  console.error("usage: node gguf_crosscheck.mjs VRAMPLAN_BINARY FILE.gguf...");
  process.exit(2);
}

// Shapes without trailing 1s: vramplan prints as many dimensions as carry data.
const trim = (shape) => {
  const out = shape.map((n) => Number(n));
  while (out.length > 1 && out[out.length - 1] === 1) out.pop();
  return out;
};

let failures = 0;
const fail = (file, what) => {
  failures += 1;
  console.log(`MISMATCH ${file}: ${what}`);
};

for (const file of files) {
  const theirs = await gguf(file, { allowLocalFile: true, computeParametersCount: true });
  const ours = JSON.parse(
    execFileSync(vramplan, ["inspect", file, "--format", "json"], { encoding: "utf8" }));
  const md = theirs.metadata;
  const arch = md["general.architecture"];
  const expect = (what, a, b) => {
    if (String(a) !== String(b)) fail(file, `${what}: @huggingface/gguf ${a}, vramplan ${b}`);
  };
  expect("architecture", arch, ours.architecture.arch);
  expect("block_count", md[`${arch}.block_count`], ours.architecture.layers);
  expect("context_length", md[`${arch}.context_length`], ours.architecture.context);
  expect("embedding_length", md[`${arch}.embedding_length`], ours.architecture.embd);
  expect("head_count", md[`${arch}.attention.head_count`], ours.architecture.heads);
  expect("tokens", md["tokenizer.ggml.tokens"]?.length, ours.file.tokenizer_tokens);
  expect("parameters", theirs.parameterCount, ours.model.params);
  expect("tensor count", theirs.tensorInfos.length, ours.tensors.length);
  const byName = new Map(ours.tensors.map((t) => [t.name, t]));
  for (const t of theirs.tensorInfos) {
    const o = byName.get(t.name);
    if (!o) {
      fail(file, `tensor ${t.name} missing in vramplan`);
      continue;
    }
    const type = GGMLQuantizationType[t.dtype];
    if (String(type).toLowerCase() !== o.type.toLowerCase()) {
      fail(file, `tensor ${t.name} type: ${type} vs ${o.type}`);
    }
    if (JSON.stringify(trim(t.shape)) !== JSON.stringify(o.shape)) {
      fail(file, `tensor ${t.name} shape: ${trim(t.shape)} vs ${o.shape}`);
    }
  }
  console.log(`${failures === 0 ? "ok" : "checked"} ${file}: ${arch}, ${theirs.tensorInfos.length} ` +
              `tensors, ${theirs.parameterCount} parameters`);
}
console.log(`${files.length - 0} files, ${failures} mismatches`);
process.exit(failures === 0 ? 0 : 1);
