// A label's models, kept in a Hub-style model repository (hub/repository.h): the local directory
// MODELS/<label> (hub/local_repository.h), or a model repository on the Hub the same way, since
// only the Repository interface is used here.
//
//   main                     the deployed model:
//     model.bin              the fastText model
//     model.json             what it is and how it was made (workers/model_card.h)
//     README.md              the model card (workers/model_readme.h): YAML the Hub reads, then the
//                            deployed model and the newest decisions
//     decisions.jsonl        every decision, one line each (workers/decision_log.h)
//   branch candidates        a commit per model trained: its model.bin, model.json and README.md
//   tag <dataset version>    on the commit of the model trained on that dataset version
//
// Every model trained is a candidate: committed onto `candidates` and tagged with its dataset
// version before anything is decided. A tag that exists means that version was trained; it is
// never trained again, and a second tag of one name is refused, so no version is published twice.
// A candidate committed but left untagged (a retrain stopped between the two) is tagged by the next
// retrain of the same dataset commit instead of being trained again.
// Each decision is one commit on main that brings the decision line, the card and, when a model is
// deployed (a retrain that accepts, a rollback), its model.bin and model.json together: a reader of
// main's head always finds a model, its card and the history that put it there. Every commit names
// the parent it expects; one that finds its branch moved is re-read and tried once more by the
// caller (the decision may depend on what main holds).
//
// The first commit makes main (the card of a repository without a model) and `candidates` starts
// from it. Files read from the repository are not trusted (workers/model_card.h, FastTextClassifier).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hub/repository.h"
#include "util/error.h"
#include "workers/fasttext_classifier.h"
#include "workers/model_card.h"

namespace orch {

inline constexpr const char* kModelPath = "model.bin";
inline constexpr const char* kModelJsonPath = "model.json";
inline constexpr const char* kModelCardPath = "README.md";
inline constexpr const char* kDecisionsPath = "decisions.jsonl";
inline constexpr const char* kMainBranch = "main";
inline constexpr const char* kCandidatesBranch = "candidates";

// main as read at one commit.
struct MainSnapshot {
  std::optional<std::string> commit;  // nothing: the repository has no commit yet
  bool has_model = false;             // it holds model.bin or model.json
  std::string decisions;              // decisions.jsonl ("" when it has none)
};

// A candidate of that dataset version is published already: the version was trained.
class CandidateExistsError : public WorkerError {
 public:
  using WorkerError::WorkerError;
};

class ModelRepository {
 public:
  ModelRepository(Repository& repository, std::string label);

  Repository& repository() { return repository_; }
  const std::string& label() const { return label_; }
  std::string Name() const { return repository_.Name(); }

  // How messages name the file `path` of `revision`: <repository>/<path> for main (a local
  // repository's directory holds main's files), <repository>@<revision>/<path> otherwise.
  std::string Where(const std::string& revision, const std::string& path) const;

  // main's head and what it holds. Throws RepositoryError (RepositoryNotFoundError when there is no
  // repository) when it cannot be read.
  MainSnapshot ReadMain();

  // The commit of the candidate trained on `dataset_version` (its tag), if any.
  std::optional<std::string> CandidateCommit(const std::string& dataset_version);

  // model.json of `commit`, which `revision` names in messages. Throws WorkerError when it is
  // missing or damaged, RepositoryError when it cannot be read.
  ModelCard ReadCard(const std::string& commit, const std::string& revision);
  // model.bin of `commit`, loaded; throws as ReadCard.
  FastTextClassifier LoadModel(const std::string& commit, const std::string& revision);
  // model.bin of `commit` copied to `target`; throws WorkerError when it is missing.
  void DownloadModel(const std::string& commit, const std::string& revision, const std::filesystem::path& target);

  // Commits the candidate `model_file` (which must not change afterwards), its card and README.md
  // onto `candidates` (made on main's first commit, which is made when there is none) and tags it
  // `card.dataset_version`; returns its commit. Throws CandidateExistsError when that tag exists
  // (nothing is tagged; the commit stays on `candidates`, untagged), StaleParentError when
  // `candidates` moved twice while it tried.
  std::string PublishCandidate(const std::filesystem::path& model_file, const ModelCard& card);
  // The head of `candidates` when it is a model trained on `dataset_version` at `dataset_commit`,
  // for a caller that found no candidate tagged with that version (CandidateCommit): one a retrain
  // committed and stopped before tagging, to be tagged rather than trained again. Nothing otherwise,
  // a head whose model.json is damaged included.
  std::optional<std::string> UntaggedCandidate(const std::string& dataset_version, const std::string& dataset_commit);
  // Tags the candidate `commit` with `tag`. Throws CandidateExistsError when that tag exists.
  void TagCandidate(const std::string& commit, const std::string& tag);

  // Commits onto main, expecting `parent`; returns the new commit. Throws StaleParentError when
  // main has moved on (nothing was committed).
  std::string CommitToMain(const std::optional<std::string>& parent, const std::string& summary,
                           const std::string& description, std::vector<FileAddition> additions);

 private:
  std::string CreateCandidatesBranch();

  Repository& repository_;
  std::string label_;
};

}  // namespace orch
