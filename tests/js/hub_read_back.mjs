// Reads a published version back with the official Hugging Face JavaScript client (@huggingface/hub),
// as a user of the Hub would: every file of the repository at a revision (a version tag or a
// branch), listed through the tree's pages and downloaded through /resolve/. Run by
// tests/fake_hub_js_client_test.cc after `orchestrator prepare --hub hf://datasets/...` or
// `orchestrator retrain --models hf://...` published to the fake Hub; the C++ side compares what
// this script saw with what the fake holds and what the command reported.
//
// Environment: HF_ENDPOINT (the fake), HF_TOKEN, ORCH_NODE_PREFIX (see hub_client_proof.mjs),
// READ_TYPE ("dataset" or "model"), READ_REPO ("namespace/name") and READ_REVISION (a tag, a
// branch or a commit). Prints one line "READBACK <json>"; exits non-zero on the first broken
// expectation.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { loadOfficialClient } from "./official_client.mjs";

const endpoint = process.env.HF_ENDPOINT;
const accessToken = process.env.HF_TOKEN;
const prefix = process.env.ORCH_NODE_PREFIX;
const type = process.env.READ_TYPE ?? "dataset";
const name = process.env.READ_REPO;
const revision = process.env.READ_REVISION;
assert.ok(type === "dataset" || type === "model", `READ_TYPE is "dataset" or "model", not ${type}`);

const hub = loadOfficialClient(prefix);

const repo = { type, name };
const common = { repo, accessToken, hubUrl: endpoint };

const info = await (type === "dataset" ? hub.datasetInfo : hub.modelInfo)({ name, accessToken, hubUrl: endpoint });
assert.equal(info.name, name);

const files = {};
const bytesOf = {};
for await (const entry of hub.listFiles({ ...common, revision, recursive: true })) {
  if (entry.type !== "file") continue;
  const blob = await hub.downloadFile({ ...common, path: entry.path, revision });
  assert.ok(blob, `${entry.path} can be downloaded at ${revision}`);
  const bytes = Buffer.from(await blob.arrayBuffer());
  assert.equal(bytes.length, entry.size, `${entry.path}: the size the listing gave`);
  files[entry.path] = { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
  bytesOf[entry.path] = bytes;
}
const text = (path) => {
  assert.ok(bytesOf[path], `${path} is in the repository at ${revision}`);
  return bytesOf[path].toString("utf8");
};

// Both kinds of repository carry a card the Hub reads: YAML front matter first.
const card = text("README.md");
assert.ok(card.startsWith("---\n"), "the card starts with its YAML front matter");
const frontMatter = card.slice(4, card.indexOf("\n---\n", 4) + 1);
const yamlLines = frontMatter.split("\n");

const readBack = { private: info.private, files, yaml_lines: yamlLines };
if (type === "dataset") {
  // What `datasets.load_dataset` would find: the three splits as JSON lines.
  const rows = {};
  for (const split of ["train", "validation", "test"]) {
    const lines = text(`data/${split}.jsonl`).split("\n").filter((line) => line.length > 0);
    for (const line of lines) {
      const row = JSON.parse(line);
      assert.equal(typeof row.grievance, "string");
      assert.ok(Number.isInteger(row.label));
    }
    rows[split] = lines.length;
  }
  readBack.rows = rows;
  readBack.version_tag = JSON.parse(text("dataset_metadata.json")).version_tag;
  readBack.labels = JSON.parse(text("labels.json"));
} else {
  // What a user of the model finds: a fastText binary (its file starts with fastText's magic
  // number, 793712314 as a little-endian int32) and what model.json says it was trained on.
  const model = bytesOf["model.bin"];
  assert.ok(model && model.length >= 8, "model.bin is there");
  readBack.fasttext_magic = model.readInt32LE(0);
  readBack.model = JSON.parse(text("model.json"));
  readBack.decisions = bytesOf["decisions.jsonl"]
    ? text("decisions.jsonl").split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line))
    : null;
}

console.log("READBACK " + JSON.stringify(readBack));
