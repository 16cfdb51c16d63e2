// The official Hugging Face JavaScript client (@huggingface/hub) as the proof scripts load it: from
// the npm prefix ORCH_NODE_PREFIX that scripts/install-deps.sh fills, never from a global install.
// Exits with status 2, saying what to run, when it is not there.
import { createRequire } from "node:module";
import path from "node:path";

export function loadOfficialClient(prefix = process.env.ORCH_NODE_PREFIX) {
  try {
    return createRequire(path.join(prefix, "package.json"))("@huggingface/hub");
  } catch (error) {
    console.error(`@huggingface/hub cannot be loaded from ${prefix}: run scripts/install-deps.sh ${prefix} (${error.message})`);
    process.exit(2);
  }
}
