#include "workers/model_repository.h"

#include <set>
#include <utility>

#include "util/error.h"
#include "workers/decision_log.h"
#include "workers/json_text.h"
#include "workers/model_readme.h"

namespace orch {
namespace {

std::string Short(const std::string& commit) { return commit.substr(0, 12); }

}  // namespace

ModelRepository::ModelRepository(Repository& repository, std::string label)
    : repository_(repository), label_(std::move(label)) {}

std::string ModelRepository::Where(const std::string& revision, const std::string& path) const {
  return revision == kMainBranch ? Name() + "/" + path : Name() + "@" + revision + "/" + path;
}

MainSnapshot ModelRepository::ReadMain() {
  MainSnapshot main;
  main.commit = repository_.HeadOf(kMainBranch);
  if (!main.commit) return main;
  for (const RepositoryFile& file : repository_.ListFiles(*main.commit))
    if (file.path == kModelPath || file.path == kModelJsonPath) main.has_model = true;
  main.decisions = repository_.ReadFile(*main.commit, kDecisionsPath, kMaxDecisionsBytes).value_or("");
  return main;
}

std::optional<std::string> ModelRepository::CandidateCommit(const std::string& dataset_version) {
  if (dataset_version == kMainBranch || dataset_version == kCandidatesBranch) return std::nullopt;
  return repository_.HeadOf(dataset_version);
}

ModelCard ModelRepository::ReadCard(const std::string& commit, const std::string& revision) {
  const std::string where = Where(revision, kModelJsonPath);
  const std::optional<std::string> text = repository_.ReadFile(commit, kModelJsonPath, kMaxJsonDocumentBytes);
  if (!text)
    throw WorkerError(where + " is missing (commit " + Short(commit) + " has no " + kModelJsonPath +
                      "): the model is incomplete");
  return ParseModelCard(*text, where);
}

FastTextClassifier ModelRepository::LoadModel(const std::string& commit, const std::string& revision) {
  const std::string where = Where(revision, kModelPath);
  std::optional<std::string> bytes = repository_.ReadFile(commit, kModelPath, kMaxModelFileBytes);
  if (!bytes)
    throw WorkerError(where + " is missing (commit " + Short(commit) + " has no " + kModelPath +
                      "): the model is incomplete");
  return FastTextClassifier::FromBytes(std::move(*bytes), where);
}

void ModelRepository::DownloadModel(const std::string& commit, const std::string& revision,
                                    const std::filesystem::path& target) {
  if (!repository_.DownloadFile(commit, kModelPath, target))
    throw WorkerError(Where(revision, kModelPath) + " is missing (commit " + Short(commit) + " has no " + kModelPath +
                      "): the model is incomplete");
}

std::string ModelRepository::CreateCandidatesBranch() {
  std::optional<std::string> main = repository_.HeadOf(kMainBranch);
  if (!main) {
    CommitRequest first;
    first.summary = "Create the model repository of " + label_;
    first.description = "main will hold the deployed model, the branch candidates every model trained.";
    first.additions.push_back(FileAddition::FromBytes(kModelCardPath, DeployedModelReadme(label_, std::nullopt, "")));
    main = repository_.Commit(first);
  }
  try {
    repository_.CreateBranch(kCandidatesBranch, *main);
  } catch (const BranchExistsError&) {
    // made meanwhile by another writer: it is the branch wanted
  }
  std::optional<std::string> head = repository_.HeadOf(kCandidatesBranch);
  if (!head) throw RepositoryError(Name(), "create the branch candidates", "the branch is missing right after");
  return *head;
}

std::string ModelRepository::PublishCandidate(const std::filesystem::path& model_file, const ModelCard& card) {
  const std::string& tag = card.dataset_version;
  if (!IsValidRefName(tag) || tag == kMainBranch || tag == kCandidatesBranch)
    throw WorkerError("the dataset version \"" + tag + "\" cannot tag a candidate in " + Name());
  const std::set<std::string> kept = {kModelPath, kModelJsonPath, kModelCardPath, ".gitattributes"};
  std::string commit;
  for (int attempt = 1;; ++attempt) {
    std::optional<std::string> head = repository_.HeadOf(kCandidatesBranch);
    if (!head) head = CreateCandidatesBranch();
    CommitRequest request;
    request.branch = kCandidatesBranch;
    request.summary = "Add the model trained on " + tag;
    request.description = "Test macro-F1 " + std::to_string(card.metrics.macro_f1) + ", accuracy " +
                          std::to_string(card.metrics.accuracy) + ", on " + std::to_string(card.train_rows) +
                          " train rows. Tagged " + tag + "; whether it is deployed is decided on main.";
    request.parent_commit = head;
    request.additions = {FileAddition::FromFile(kModelPath, model_file),
                         FileAddition::FromBytes(kModelJsonPath, ModelCardJson(card).dump(2) + "\n"),
                         FileAddition::FromBytes(kModelCardPath, CandidateReadme(card))};
    // A candidate's commit holds the candidate alone, whatever the commit it follows held.
    for (const RepositoryFile& file : repository_.ListFiles(*head))
      if (!kept.contains(file.path)) request.deletions.push_back(file.path);
    try {
      commit = repository_.Commit(request);
      break;
    } catch (const StaleParentError&) {
      if (attempt == 2) throw;
    }
  }
  TagCandidate(commit, tag);
  return commit;
}

std::optional<std::string> ModelRepository::UntaggedCandidate(const std::string& dataset_version,
                                                              const std::string& dataset_commit) {
  const std::optional<std::string> head = repository_.HeadOf(kCandidatesBranch);
  if (!head || dataset_commit.empty()) return std::nullopt;
  try {
    const ModelCard card = ReadCard(*head, kCandidatesBranch);
    if (card.dataset_version != dataset_version || card.dataset_commit != dataset_commit) return std::nullopt;
  } catch (const WorkerError&) {
    return std::nullopt;  // not a candidate to finish: the version is trained anew
  }
  return head;
}

void ModelRepository::TagCandidate(const std::string& commit, const std::string& tag) {
  try {
    repository_.CreateTag(tag, commit);
  } catch (const TagExistsError&) {
    throw CandidateExistsError("a model trained on " + tag + " was published in " + Name() + " meanwhile (the tag " +
                               tag +
                               " exists): the version was trained by another retrain, "
                               "and this run's model (commit " +
                               Short(commit) + " on candidates) is not tagged");
  }
}

std::string ModelRepository::CommitToMain(const std::optional<std::string>& parent, const std::string& summary,
                                          const std::string& description, std::vector<FileAddition> additions) {
  CommitRequest request;
  request.branch = kMainBranch;
  request.summary = summary;
  request.description = description;
  request.parent_commit = parent;
  request.additions = std::move(additions);
  return repository_.Commit(request);
}

}  // namespace orch
