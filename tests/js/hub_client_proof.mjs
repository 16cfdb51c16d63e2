// Runs the official Hugging Face JavaScript client (@huggingface/hub) against the fake Hub, to prove
// that the fake speaks the Hub's protocol: create a dataset repository, commit a small file and two
// LFS files (one in a single PUT, one in parts), tag the commit, read every file back at the tag,
// list the tree, and meet the Hub's errors (409, 412, 404). Run by tests/fake_hub_js_client_test.cc,
// which starts the fake and then checks what it holds; this script checks what the client sees.
//
// Environment: HF_ENDPOINT (the fake), HF_TOKEN, ORCH_NODE_PREFIX (the npm prefix holding
// node_modules/@huggingface/hub, see scripts/install-deps.sh), PROOF_REPO ("namespace/name").
// Prints one line "PROOF <json>" for the C++ side; exits non-zero on the first broken expectation.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { loadOfficialClient } from "./official_client.mjs";

const endpoint = process.env.HF_ENDPOINT;
const accessToken = process.env.HF_TOKEN;
const prefix = process.env.ORCH_NODE_PREFIX;
const name = process.env.PROOF_REPO;

const hub = loadOfficialClient(prefix);

const repo = { type: "dataset", name };
const common = { repo, accessToken, hubUrl: endpoint };
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const status = (code) => (error) => {
  assert.equal(error.statusCode, code, `expected HTTP ${code}, got ${error.statusCode}: ${error.message}`);
  return true;
};
async function bytesOf(blob) {
  assert.ok(blob, "the file exists");
  return Buffer.from(await blob.arrayBuffer());
}

// 1. A private dataset repository; creating it again is a conflict.
const created = await hub.createRepo({ ...common, visibility: "private" });
assert.equal(created.repoUrl, `${endpoint}/datasets/${name}`);
await assert.rejects(hub.createRepo({ ...common, visibility: "private" }), status(409));

// 2. One commit: a text file (regular), binary weights (LFS, one PUT) and a parquet shard larger
// than the fake's multipart threshold (LFS in parts). The client offers Xet (useXet defaults to
// true); the fake answers with the basic LFS transfer, which the client then uses.
const train = Buffer.from('{"text":"first version","label":"urgent"}\n'.repeat(40));
const weights = randomBytes(300 * 1024);
const shard = randomBytes(2 * 1024 * 1024 + 512 * 1024);
const first = await hub.uploadFiles({
  ...common,
  commitTitle: "Publish version 1",
  files: [
    { path: "data/train.jsonl", content: new Blob([train]) },
    { path: "model.bin", content: new Blob([weights]) },
    { path: "data/shard-00000-of-00001.parquet", content: new Blob([shard]) },
  ],
});
assert.match(first.commit.oid, /^[0-9a-f]{40}$/);
assert.equal(first.commit.url, `${endpoint}/datasets/${name}/commit/${first.commit.oid}`);

// 3. A tag on that commit (huggingface.js has no tag call: this is huggingface_hub's create_tag
// request), then the same tag again.
const tagUrl = `${endpoint}/api/datasets/${name}/tag/${encodeURIComponent(first.commit.oid)}`;
const tagRequest = {
  method: "POST",
  headers: { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json" },
  body: JSON.stringify({ tag: "v1", message: "version 1" }),
};
assert.equal((await fetch(tagUrl, tagRequest)).status, 200);
const again = await fetch(tagUrl, tagRequest);
assert.equal(again.status, 409);
assert.ok((await again.json()).error, "an error body");

// 4. A second commit on the first as its parent; a third on the same, now stale, parent fails.
const trainV2 = Buffer.from('{"text":"second version","label":"later"}\n'.repeat(30));
const second = await hub.uploadFiles({
  ...common,
  commitTitle: "Publish version 2",
  parentCommit: first.commit.oid,
  files: [{ path: "data/train.jsonl", content: new Blob([trainV2]) }],
});
await assert.rejects(
  hub.uploadFiles({
    ...common,
    commitTitle: "Publish on a stale parent",
    parentCommit: first.commit.oid,
    files: [{ path: "data/train.jsonl", content: new Blob([train]) }],
  }),
  status(412),
);

// 5. Every file at the tag is what was sent; main has the second version.
const at = (revision, file) => hub.downloadFile({ ...common, path: file, revision });
assert.deepEqual(await bytesOf(await at("v1", "data/train.jsonl")), train);
assert.deepEqual(await bytesOf(await at("v1", "model.bin")), weights);
assert.deepEqual(await bytesOf(await at("v1", "data/shard-00000-of-00001.parquet")), shard);
assert.deepEqual(await bytesOf(await at("main", "data/train.jsonl")), trainV2);
assert.equal(await at("v1", "data/missing.jsonl"), null, "a missing file is null (EntryNotFound)");
await assert.rejects(at("v404", "data/train.jsonl"), status(404));

// 6. The tree at the tag, followed through its pages.
const listed = {};
for await (const entry of hub.listFiles({ ...common, revision: "v1", recursive: true })) listed[entry.path] = entry;
assert.deepEqual(Object.keys(listed).sort(), [
  ".gitattributes",
  "data",
  "data/shard-00000-of-00001.parquet",
  "data/train.jsonl",
  "model.bin",
]);
assert.equal(listed["data"].type, "directory");
assert.equal(listed["data/train.jsonl"].size, train.length);
assert.equal(listed["data/train.jsonl"].lfs, undefined);
assert.equal(listed["model.bin"].size, weights.length);
assert.deepEqual(listed["model.bin"].lfs.oid, sha256(weights));
assert.equal(listed["data/shard-00000-of-00001.parquet"].lfs.oid, sha256(shard));
assert.equal(listed["data/shard-00000-of-00001.parquet"].lfs.size, shard.length);

// 7. Repository information, as the client reads it.
const info = await hub.datasetInfo({ name, accessToken, hubUrl: endpoint });
assert.equal(info.name, name);
assert.equal(info.private, true);
assert.ok(!Number.isNaN(info.updatedAt.getTime()));

console.log(
  "PROOF " +
    JSON.stringify({
      first: first.commit.oid,
      second: second.commit.oid,
      sha256: { weights: sha256(weights), shard: sha256(shard), train: sha256(train), trainV2: sha256(trainV2) },
      sizes: { weights: weights.length, shard: shard.length, train: train.length },
    }),
);
