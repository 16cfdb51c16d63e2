// Reads a dataset version back with the official Hugging Face JavaScript client (@huggingface/hub),
// as a user of the Hub would: every file of the repository at a revision (a version tag), listed
// through the tree's pages and downloaded through /resolve/. Run by tests/fake_hub_js_client_test.cc
// after `orchestrator prepare --hub hf://datasets/...` published to the fake Hub; the C++ side
// compares what this script saw with what the fake holds and what prepare reported.
//
// Environment: HF_ENDPOINT (the fake), HF_TOKEN, ORCH_NODE_PREFIX (see hub_client_proof.mjs),
// READ_REPO ("namespace/name", a dataset) and READ_REVISION (a tag, a branch or a commit).
// Prints one line "READBACK <json>"; exits non-zero on the first broken expectation.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { loadOfficialClient } from "./official_client.mjs";

const endpoint = process.env.HF_ENDPOINT;
const accessToken = process.env.HF_TOKEN;
const prefix = process.env.ORCH_NODE_PREFIX;
const name = process.env.READ_REPO;
const revision = process.env.READ_REVISION;

const hub = loadOfficialClient(prefix);

const repo = { type: "dataset", name };
const common = { repo, accessToken, hubUrl: endpoint };

const info = await hub.datasetInfo({ name, accessToken, hubUrl: endpoint });
assert.equal(info.name, name);

const files = {};
for await (const entry of hub.listFiles({ ...common, revision, recursive: true })) {
  if (entry.type !== "file") continue;
  const blob = await hub.downloadFile({ ...common, path: entry.path, revision });
  assert.ok(blob, `${entry.path} can be downloaded at ${revision}`);
  const bytes = Buffer.from(await blob.arrayBuffer());
  assert.equal(bytes.length, entry.size, `${entry.path}: the size the listing gave`);
  files[entry.path] = { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length, text: bytes.toString("utf8") };
}

// What `datasets.load_dataset` would find: a card with YAML front matter, the three splits as JSON lines.
assert.ok(files["README.md"].text.startsWith("---\n"), "the card starts with its YAML front matter");
const rows = {};
for (const split of ["train", "validation", "test"]) {
  const lines = files[`data/${split}.jsonl`].text.split("\n").filter((line) => line.length > 0);
  for (const line of lines) {
    const row = JSON.parse(line);
    assert.equal(typeof row.grievance, "string");
    assert.ok(Number.isInteger(row.label));
  }
  rows[split] = lines.length;
}
const metadata = JSON.parse(files["dataset_metadata.json"].text);
const labels = JSON.parse(files["labels.json"].text);

for (const file of Object.values(files)) delete file.text;
console.log(
  "READBACK " + JSON.stringify({ private: info.private, files, rows, version_tag: metadata.version_tag, labels }),
);
