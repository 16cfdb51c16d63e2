#include "workers/earlier_models.h"

#include <system_error>

#include "util/durable_file.h"
#include "util/error.h"
#include "util/time.h"
#include "workers/decision_log.h"
#include "workers/json_text.h"
#include "workers/model_readme.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCurrentLink = "current";

std::string ImportAdvice(const fs::path& label_dir) {
  return "MODELS/<label> of an earlier release is imported into a model repository by the label's next retrain or "
         "rollback; to start afresh instead, move " +
         label_dir.string() + " aside and retrain";
}

}  // namespace

bool HasEarlierLayout(const fs::path& label_dir) {
  std::error_code error;
  return fs::is_symlink(fs::symlink_status(label_dir / kCurrentLink, error));
}

EarlierDeployment ReadEarlierDeployment(const fs::path& label_dir, const std::string& label) {
  const fs::path link = label_dir / kCurrentLink;
  std::error_code error;
  const std::string target = fs::read_symlink(link, error).string();
  if (error || !IsSafeVersionTag(target))
    throw WorkerError(link.string() + " does not point to a model version in " + label_dir.string() +
                      ": point it at the one deployed (ln -sfn <model_version> " + link.string() + "); " +
                      ImportAdvice(label_dir));
  EarlierDeployment deployment{target, label_dir / target / kModelPath, {}};
  const fs::path card = label_dir / target / kModelJsonPath;
  const std::optional<std::string> text = ReadRegularFile(card, kMaxJsonDocumentBytes, "the model description",
                                                          "the deployed model of " + label + " cannot be imported");
  if (!text)
    throw WorkerError(card.string() + " is missing: the deployed model " + target + " of " + label +
                      " is incomplete or was removed; " + ImportAdvice(label_dir));
  deployment.card = ParseModelCard(*text, card.string());
  if (deployment.card.model_version.empty()) deployment.card.model_version = target;
  return deployment;
}

std::optional<std::string> ImportEarlierLayout(ModelRepository& models, const fs::path& label_dir,
                                               std::chrono::system_clock::time_point now) {
  if (!HasEarlierLayout(label_dir)) return std::nullopt;
  const EarlierDeployment deployed = ReadEarlierDeployment(label_dir, models.label());
  const fs::path link = label_dir / kCurrentLink;
  std::error_code error;
  if (!fs::is_regular_file(deployed.model_file, error))
    throw WorkerError(deployed.model_file.string() + " is missing or not a regular file: the deployed model " +
                      deployed.model_version + " of " + models.label() + " is incomplete; " + ImportAdvice(label_dir));
  models.repository().CreateIfMissing();
  MainSnapshot main = models.ReadMain();
  std::string said;
  if (!main.commit) {
    const fs::path log = label_dir / kDecisionsPath;
    const std::string earlier =
        ReadRegularFile(log, kMaxDecisionsBytes, "the decision log", "move it aside to import without it").value_or("");
    ModelDecision imported;
    imported.time = FormatTimestamp(now);
    imported.label = models.label();
    imported.kind = DecisionKind::kImported;
    imported.dataset_version = deployed.card.dataset_version;
    imported.model_version = deployed.model_version;
    imported.new_scores = deployed.card.metrics;
    imported.reason = "deployed by an earlier release as " + (label_dir / deployed.model_version).string() +
                      " (current); imported into the model repository";
    const std::string decisions = AppendDecisionLine(earlier, DecisionLine(imported));
    std::vector<FileAddition> files = {
        FileAddition::FromFile(kModelPath, deployed.model_file),
        FileAddition::FromBytes(kModelJsonPath, ModelCardJson(deployed.card).dump(2) + "\n"),
        FileAddition::FromBytes(kModelCardPath, DeployedModelReadme(models.label(), deployed.card, decisions)),
        FileAddition::FromBytes(kDecisionsPath, decisions)};
    main.commit = models.CommitToMain(std::nullopt,
                                      "Import the model " + deployed.model_version + " deployed by an earlier release",
                                      "MODELS/" + models.label() + "/current pointed to it.", std::move(files));
    said = "imported the deployed model " + deployed.model_version + " of an earlier release";
  }
  // Tagged with its dataset version, so a rollback can come back to it.
  const std::string& tag = deployed.card.dataset_version;
  const bool taggable = IsValidRefName(tag) && tag != kMainBranch && tag != kCandidatesBranch;
  if (taggable && !models.repository().HeadOf(tag)) {
    try {
      models.repository().CreateTag(tag, *main.commit);
    } catch (const TagExistsError&) {
      // tagged meanwhile: the tag is there, which is all that is wanted
    }
  }
  // `current` goes once main holds the model it names, and not before.
  ModelCard on_main;
  try {
    on_main = models.ReadCard(*main.commit, kMainBranch);
  } catch (const WorkerError&) {
    return said.empty() ? std::nullopt : std::optional<std::string>(said);
  }
  if (on_main.model_version == deployed.model_version) {
    fs::remove(link, error);
    if (error) throw WorkerError("cannot remove " + link.string() + " after importing it: " + error.message());
    if (said.empty())
      said = "finished importing the deployed model " + deployed.model_version + " of an earlier release";
  }
  return said.empty() ? std::nullopt
                      : std::optional<std::string>(said + " into " + models.Name() + " (main" +
                                                   (taggable ? ", tagged " + tag : std::string()) +
                                                   "); its version directories are read no more and may be deleted");
}

}  // namespace orch
