// README.md of a label's model repository (workers/model_repository.h): the model card the Hub
// shows, YAML front matter (hub/model_card_metadata.h) then Markdown.
//
// On main it describes the deployed model and the decision history: library_name fasttext,
// pipeline_tag text-classification, the labels (id2label), the dataset it was trained on
// (`datasets`) and a model-index result with its macro-F1 and accuracy on that dataset version's
// test split, the dataset's revision being the commit the version was read at (or its tag when the
// commit is not known); then the model, its classes, how to use it, and the newest decisions. On
// the candidates branch it describes the candidate alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "hub/model_card_metadata.h"
#include "workers/model_card.h"

namespace orch {

// How many decisions README.md lists (decisions.jsonl has them all).
inline constexpr size_t kReadmeDecisions = 50;

// The dataset id a card names for a dataset repository: OWNER/NAME for hf://datasets/OWNER/NAME,
// the name itself otherwise (a local repository's directory).
std::string DatasetIdOf(const std::string& repository_name);

// The front matter of the card of `model`.
ModelCardMetadata ModelCardMetadataOf(const ModelCard& model);

// README.md of main: `deployed` (nothing: no model is deployed yet) and the decisions of
// `decisions_log` (decisions.jsonl's text; lines that are not decisions are left out).
std::string DeployedModelReadme(const std::string& label, const std::optional<ModelCard>& deployed,
                                std::string_view decisions_log);

// README.md of a candidate's commit.
std::string CandidateReadme(const ModelCard& candidate);

}  // namespace orch
