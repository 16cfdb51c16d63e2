#include "workers/retrain.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include "hub/local_repository.h"
#include "support/dataset_repository.h"
#include "support/error_of.h"
#include "support/interfering_repository.h"
#include "support/temp_dir.h"
#include "support/yaml_read_back.h"
#include "util/error.h"
#include "workers/model_repository.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

constexpr const char* kLabels = R"({"Infrastructure": 0, "Education": 1, "Security": 2})";

SearchSpace QuickSearch() {
  return {.word_ngrams = {1, 2},
          .learning_rates = {0.5},
          .epochs = {5},
          .dimension = 16,
          .buckets = 10000,
          .threads = 1,
          .seed = 3,
          .first_round_rows = 4000,
          .screening_validation_rows = 5000};
}

class RetrainTest : public ::testing::Test {
 protected:
  fs::path dataset_dir() const { return hub_.path() / "department"; }
  fs::path label_models() const { return models_.path() / "department"; }

  // Publishes a version as orchestrator prepare does; returns the commit its tag is on. The same
  // `seed` gives the same train split, and so the same model.
  std::string Publish(const std::string& version, bool shuffle_labels = false, uint32_t seed = 1) {
    return testing::PublishVersion(dataset_dir(), version,
                                   {.labels_json = kLabels,
                                    .train = testing::DepartmentSplitJsonl(240, seed, shuffle_labels),
                                    .validation = testing::DepartmentSplitJsonl(30, 2, shuffle_labels),
                                    .test = testing::DepartmentSplitJsonl(60, 3, false)});
  }

  RetrainRequest Request(double threshold = 0.001) const {
    return {.label = "department",
            .dataset_dir = dataset_dir(),
            .models_dir = models_.path(),
            .version = std::nullopt,
            .decision_threshold = threshold,
            .search = QuickSearch(),
            .progress = {}};
  }

  // main's decisions.jsonl, as the directory shows main's files.
  std::vector<nlohmann::json> Decisions() const {
    std::vector<nlohmann::json> lines;
    std::istringstream text(ReadFile((label_models() / "decisions.jsonl").string()));
    for (std::string line; std::getline(text, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }

  LocalRepository& Models() {
    if (!repository_) repository_.emplace(label_models());
    return *repository_;
  }
  std::string Head(const std::string& revision) { return Models().HeadOf(revision).value_or("(none)"); }
  std::string At(const std::string& revision, const std::string& path) {
    return Models().ReadFile(revision, path, 1 << 26).value_or("(missing)");
  }
  // main's model.json, parsed.
  ModelCard Deployed() { return ParseModelCard(At("main", "model.json"), "main's model.json"); }
  std::set<std::string> Paths(const std::string& revision) {
    std::set<std::string> paths;
    for (const RepositoryFile& file : Models().ListFiles(revision)) paths.insert(file.path);
    return paths;
  }
  std::string Oid(const std::string& revision, const std::string& path) {
    for (const RepositoryFile& file : Models().ListFiles(revision))
      if (file.path == path) return file.oid;
    return "(missing)";
  }
  // The stored file `path` of main's head, writable, to damage it as a disk or a hand would.
  fs::path MainFile(const std::string& path) {
    const fs::path stored = Models().StoredFile(Head("main"), path);
    fs::permissions(stored, fs::perms::owner_write, fs::perm_options::add);
    return stored;
  }

  TempDir hub_{"orch-retrain-hub"};
  TempDir models_{"orch-retrain-models"};
  std::optional<LocalRepository> repository_;
};

const std::set<std::string> kMainFiles = {"README.md", "decisions.jsonl", "model.bin", "model.json"};
const std::set<std::string> kCandidateFiles = {"README.md", "model.bin", "model.json"};

TEST_F(RetrainTest, TheFirstModelIsDeployedOnMainAndKeptAsATaggedCandidate) {
  const std::string dataset_commit = Publish("v20261126_101502");
  std::vector<std::string> progress;
  RetrainRequest request = Request();
  request.progress = [&progress](std::string_view message) { progress.emplace_back(message); };
  const RetrainOutcome outcome = Retrain(request);

  EXPECT_TRUE(outcome.decision.accepted());
  EXPECT_TRUE(outcome.trained);
  EXPECT_EQ(outcome.decision.reason, "no model is deployed yet");
  EXPECT_GE(outcome.decision.new_scores->macro_f1, 0.9);
  EXPECT_EQ(outcome.repository, label_models().string());

  // The candidate: its own commit on `candidates`, tagged with the dataset version.
  EXPECT_EQ(Head("v20261126_101502"), outcome.candidate_commit);
  EXPECT_EQ(Head("candidates"), outcome.candidate_commit);
  EXPECT_EQ(Paths("v20261126_101502"), kCandidateFiles);
  // main: the same model, its card and the decision, in one commit.
  EXPECT_EQ(Head("main"), outcome.main_commit);
  EXPECT_EQ(Paths("main"), kMainFiles);
  EXPECT_EQ(Oid("main", "model.bin"), Oid("v20261126_101502", "model.bin"));
  EXPECT_EQ(At("main", "model.json"), At("v20261126_101502", "model.json"));
  EXPECT_TRUE(fs::is_regular_file(label_models() / "model.bin")) << "main's files are plain files in the directory";

  const ModelCard card = Deployed();
  EXPECT_EQ(card.dataset_version, "v20261126_101502");
  EXPECT_EQ(card.dataset_repository, dataset_dir().string());
  EXPECT_EQ(card.dataset_commit, dataset_commit);
  EXPECT_EQ(card.train_rows, 240);
  EXPECT_EQ(card.label_map.at(1), "Education");
  EXPECT_DOUBLE_EQ(card.metrics.macro_f1, outcome.decision.new_scores->macro_f1);
  EXPECT_EQ(card.search_trainings, 2);

  const std::vector<nlohmann::json> decisions = Decisions();
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0], ModelDecisionJson(outcome.decision));
  EXPECT_EQ(decisions[0]["candidate"], outcome.candidate_commit);
  EXPECT_TRUE(decisions[0]["deployed"].is_null());
  EXPECT_FALSE(progress.empty());
}

// README.md's front matter is what the Hub reads: parsed back as the Hub's tools parse it, its
// model-index holds exactly the scores the decision was made on.
TEST_F(RetrainTest, TheCardCarriesTheModelIndexOfTheTestScores) {
  const std::string dataset_commit = Publish("v1");
  const RetrainOutcome outcome = Retrain(Request());
  for (const std::string revision : {"main", "v1"}) {
    SCOPED_TRACE(revision);
    const std::string readme = At(revision, "README.md");
    const nlohmann::json yaml = testing::ReadYaml(readme, /*front_matter=*/true);
    ASSERT_TRUE(yaml.is_object()) << readme;
    EXPECT_EQ(yaml["library_name"], "fasttext");
    EXPECT_EQ(yaml["pipeline_tag"], "text-classification");
    EXPECT_EQ(yaml["datasets"], nlohmann::json::array({dataset_dir().string()}));
    EXPECT_EQ(yaml["id2label"], nlohmann::json({{"0", "Infrastructure"}, {"1", "Education"}, {"2", "Security"}}));
    EXPECT_EQ(yaml["metrics"], nlohmann::json::array({"f1", "accuracy"}));
    ASSERT_EQ(yaml["model-index"].size(), 1u);
    EXPECT_EQ(yaml["model-index"][0]["name"], "department");
    const nlohmann::json& result = yaml["model-index"][0]["results"][0];
    EXPECT_EQ(result["task"], nlohmann::json({{"type", "text-classification"}, {"name", "Text Classification"}}));
    EXPECT_EQ(result["dataset"], nlohmann::json({{"type", dataset_dir().string()},
                                                 {"name", "department v1"},
                                                 {"config", "default"},
                                                 {"split", "test"},
                                                 {"revision", dataset_commit}}));
    ASSERT_EQ(result["metrics"].size(), 2u);
    EXPECT_EQ(result["metrics"][0]["type"], "f1");
    EXPECT_EQ(result["metrics"][0]["name"], "Test macro-F1");
    EXPECT_EQ(result["metrics"][0]["args"], nlohmann::json({{"average", "macro"}}));
    EXPECT_DOUBLE_EQ(result["metrics"][0]["value"].get<double>(), outcome.decision.new_scores->macro_f1);
    EXPECT_EQ(result["metrics"][1]["type"], "accuracy");
    EXPECT_DOUBLE_EQ(result["metrics"][1]["value"].get<double>(), outcome.decision.new_scores->accuracy);
  }
  EXPECT_NE(At("main", "README.md").find("| accepted | `v1` |"), std::string::npos) << At("main", "README.md");
}

TEST_F(RetrainTest, AWorseModelIsRejectedButKeptAsACandidate) {
  Publish("v1");
  const RetrainOutcome good = Retrain(Request());
  ASSERT_TRUE(good.decision.accepted());
  const std::string deployed_model = Oid("main", "model.bin");
  Publish("v2", /*shuffle_labels=*/true);
  const RetrainOutcome worse = Retrain(Request());

  EXPECT_FALSE(worse.decision.accepted());
  EXPECT_EQ(worse.decision.dataset_version, "v2");
  EXPECT_EQ(worse.decision.deployed_version, good.decision.model_version);
  EXPECT_EQ(worse.decision.deployed_dataset_version, "v1");
  ASSERT_TRUE(worse.decision.deployed_scores.has_value());
  // The deployed model is scored on the new version's test split: as good as before.
  EXPECT_GE(worse.decision.deployed_scores->macro_f1, 0.9);
  EXPECT_LT(worse.decision.new_scores->macro_f1, 0.7);
  EXPECT_NE(worse.decision.reason.find("is not more than the threshold"), std::string::npos) << worse.decision.reason;

  // main keeps its model; the decision is a commit of its own, the candidate is tagged.
  EXPECT_EQ(Oid("main", "model.bin"), deployed_model);
  EXPECT_EQ(Deployed().dataset_version, "v1");
  EXPECT_EQ(Head("main"), worse.main_commit);
  EXPECT_NE(worse.main_commit, good.main_commit);
  EXPECT_EQ(Head("v2"), worse.candidate_commit);
  EXPECT_EQ(Head("candidates"), worse.candidate_commit);
  EXPECT_EQ(Head("v1"), good.candidate_commit) << "every candidate stays tagged";
  EXPECT_NE(Oid("v2", "model.bin"), deployed_model);
  EXPECT_EQ(ParseModelCard(At("v2", "model.json"), "v2").dataset_version, "v2");

  const std::vector<nlohmann::json> decisions = Decisions();
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[1]["decision"], "rejected");
  EXPECT_EQ(decisions[1]["deployed_version"], good.decision.model_version);
  EXPECT_EQ(decisions[1]["candidate"], worse.candidate_commit);
  const std::string readme = At("main", "README.md");
  EXPECT_NE(readme.find("| rejected | `v2` |"), std::string::npos) << readme;
  EXPECT_LT(readme.find("| rejected | `v2` |"), readme.find("| accepted | `v1` |")) << "newest first";
  EXPECT_NE(readme.find("train rows of the dataset version `v1`"), std::string::npos) << "the card is v1's still";
}

// A version is read at its tag: data committed to main since (a publication that never reached its
// metadata) is not what it trains on.
TEST_F(RetrainTest, TheVersionIsReadAtItsTagWhateverMainHoldsNow) {
  const std::string v1 = Publish("v1");
  LocalRepository repository(dataset_dir());
  CommitRequest newer;
  newer.summary = "data of a publication that stopped before its metadata";
  newer.parent_commit = v1;
  newer.additions = {FileAddition::FromBytes("data/train.jsonl", testing::DepartmentSplitJsonl(90, 4, false))};
  repository.Commit(newer);
  const RetrainOutcome outcome = Retrain(Request());
  EXPECT_EQ(outcome.decision.dataset_version, "v1");
  EXPECT_EQ(outcome.card.train_rows, 240);
  RetrainRequest chosen = Request();
  chosen.version = "v1";
  EXPECT_TRUE(Retrain(chosen).earlier_decision) << "v1 was trained, whichever way it was named";
}

TEST_F(RetrainTest, ABetterModelReplacesTheDeployedOne) {
  Publish("v1", /*shuffle_labels=*/true);
  const RetrainOutcome poor = Retrain(Request());
  ASSERT_TRUE(poor.decision.accepted());  // nothing was deployed
  Publish("v2");
  const RetrainOutcome better = Retrain(Request());

  EXPECT_TRUE(better.decision.accepted());
  EXPECT_EQ(better.decision.deployed_version, poor.decision.model_version);
  EXPECT_GT(better.decision.new_scores->macro_f1, better.decision.deployed_scores->macro_f1 + 0.2);
  EXPECT_NE(better.decision.reason.find("is more than the threshold"), std::string::npos) << better.decision.reason;
  EXPECT_EQ(Deployed().dataset_version, "v2");
  EXPECT_EQ(Oid("main", "model.bin"), Oid("v2", "model.bin"));
  EXPECT_EQ(Head("v1"), poor.candidate_commit) << "the model it replaced stays a candidate";
  EXPECT_EQ(Decisions().size(), 2u);
}

TEST_F(RetrainTest, AVersionIsNeverTrainedTwice) {
  Publish("v1");
  const RetrainOutcome first = Retrain(Request());
  ASSERT_TRUE(first.decision.accepted());
  std::vector<std::string> progress;
  RetrainRequest repeat = Request();
  repeat.progress = [&progress](std::string_view message) { progress.emplace_back(message); };
  const RetrainOutcome again = Retrain(repeat);
  ASSERT_TRUE(again.earlier_decision);
  EXPECT_EQ(nlohmann::json::parse(*again.earlier_decision), Decisions()[0]);
  EXPECT_EQ(std::count_if(progress.begin(), progress.end(),
                          [](const std::string& line) { return line.starts_with("search round"); }),
            0)
      << "nothing trained";
  EXPECT_EQ(Decisions().size(), 1u) << "nothing decided";
  EXPECT_EQ(Head("main"), first.main_commit);
  EXPECT_EQ(Head("candidates"), first.candidate_commit);
}

// A main that moves between reading it and committing the decision (another writer's decision) is
// read again and the decision made on what it holds now; one that moves twice stops the run, the
// candidate stays tagged, and the next run decides it without training.
TEST_F(RetrainTest, AMainThatMovesIsReadAgainAndAnUndecidedCandidateIsDecidedWithoutTraining) {
  Publish("v1");
  ASSERT_TRUE(Retrain(Request()).decision.accepted());
  const TextDataset v2 = [&] {
    Publish("v2");
    return ReadTextDataset(dataset_dir(), "department");
  }();
  int interfered = 0;
  const auto another_commit = [&] {
    CommitRequest other;
    other.summary = "another writer's commit " + std::to_string(++interfered);
    other.additions = {FileAddition::FromBytes("NOTES.md", "note " + std::to_string(interfered) + "\n")};
    Models().Commit(other);
  };

  testing::InterferingRepository twice(Models());
  twice.InterfereWithCommits("main", 2, another_commit);
  ModelRepository stuck(twice, "department");
  const std::string moved = testing::WorkerErrorOf([&] { RetrainInto(stuck, v2, dataset_dir().string(), Request()); });
  EXPECT_NE(moved.find("moved twice"), std::string::npos) << moved;
  EXPECT_NE(moved.find("run retrain again, and it decides without training"), std::string::npos) << moved;
  EXPECT_EQ(twice.commits_to("main"), 2);
  EXPECT_EQ(Decisions().size(), 1u) << "nothing decided";
  const std::string candidate = Head("v2");
  ASSERT_NE(candidate, "(none)") << "the candidate is tagged";

  std::vector<std::string> progress;
  RetrainRequest request = Request();
  request.progress = [&progress](std::string_view message) { progress.emplace_back(message); };
  testing::InterferingRepository once(Models());
  once.InterfereWithCommits("main", 1, another_commit);
  ModelRepository moving(once, "department");
  const RetrainOutcome decided = RetrainInto(moving, v2, dataset_dir().string(), request);
  EXPECT_FALSE(decided.trained);
  EXPECT_EQ(decided.candidate_commit, candidate);
  EXPECT_EQ(once.commits_to("main"), 2) << "tried again once";
  EXPECT_EQ(once.commits_to("candidates"), 0) << "not published again";
  EXPECT_EQ(std::count_if(progress.begin(), progress.end(),
                          [](const std::string& line) { return line.starts_with("search round"); }),
            0);
  EXPECT_EQ(std::count_if(progress.begin(), progress.end(),
                          [](const std::string& line) {
                            return line.find("not decided: deciding it now, without training") != std::string::npos;
                          }),
            1);
  EXPECT_EQ(Head("main"), decided.main_commit);
  EXPECT_EQ(At("main", "NOTES.md"), "note 3\n") << "built on the commit that landed meanwhile";
  const std::vector<nlohmann::json> decisions = Decisions();
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[1]["dataset_version"], "v2");
  EXPECT_EQ(decisions[1]["candidate"], candidate);
  EXPECT_TRUE(Retrain(Request()).earlier_decision) << "and now it is decided";
}

TEST_F(RetrainTest, TheThresholdIsAGainToBeat) {
  Publish("v1");
  ASSERT_TRUE(Retrain(Request()).decision.accepted());
  // The same data and seed give the same model: a gain of 0, which no threshold >= 0 lets through.
  Publish("v2");
  const RetrainOutcome same = Retrain(Request(0.0));
  EXPECT_FALSE(same.decision.accepted());
  EXPECT_DOUBLE_EQ(same.decision.new_scores->macro_f1, same.decision.deployed_scores->macro_f1);
  EXPECT_EQ(same.decision.decision_threshold, 0.0);

  ClassificationScores deployed{.macro_f1 = 0.8, .accuracy = 0.8};
  EXPECT_TRUE(ShouldDeploy({.macro_f1 = 0.1, .accuracy = 0.1}, std::nullopt, 0.001));
  EXPECT_TRUE(ShouldDeploy({.macro_f1 = 0.8015, .accuracy = 0}, deployed, 0.001));
  EXPECT_FALSE(ShouldDeploy({.macro_f1 = 0.8005, .accuracy = 1}, deployed, 0.001));
  EXPECT_FALSE(ShouldDeploy({.macro_f1 = 0.7, .accuracy = 1}, deployed, 0.001));
}

TEST_F(RetrainTest, AMalformedDatasetChangesNothing) {
  Publish("v1");
  Retrain(Request());
  const std::string main = Head("main");
  const std::string train = testing::DepartmentSplitJsonl(240, 1, false);
  testing::PublishVersion(dataset_dir(), "v2",
                          {.labels_json = kLabels,
                           .train = train.substr(0, train.size() - 9),  // cut short
                           .validation = testing::DepartmentSplitJsonl(30, 2, false),
                           .test = testing::DepartmentSplitJsonl(60, 3, false),
                           .metadata_json = R"({"version_tag": "v2"})"});

  const std::string error = testing::WorkerErrorOf([&] { Retrain(Request()); });
  EXPECT_NE(error.find("train.jsonl line 240"), std::string::npos) << error;
  EXPECT_EQ(Head("main"), main);
  EXPECT_EQ(Head("v2"), "(none)");
}

TEST_F(RetrainTest, ADatasetOfOneClassIsRefused) {
  std::string rows = R"({"grievance": "road", "label": 0})"
                     "\n";
  testing::PublishVersion(dataset_dir(), "v1",
                          {.labels_json = kLabels, .train = rows + rows + rows, .validation = rows, .test = rows});
  const std::string error = testing::WorkerErrorOf([&] { Retrain(Request()); });
  EXPECT_NE(error.find(dataset_dir().string() + "@v1/data/train.jsonl holds only the class \"Infrastructure\""),
            std::string::npos)
      << error;
  EXPECT_FALSE(fs::exists(label_models()));  // a run that fails on its data leaves no trace
}

// Ways the deployed model's files can be damaged, each with what the decision's reason must say.
struct Damage {
  std::string name;
  std::string file;  // model.bin or model.json
  std::function<void(const fs::path& stored)> apply;
  std::string problem;  // after the file's name
};

std::vector<Damage> Damages() {
  return {
      {"truncated", "model.bin",
       [](const fs::path& file) {
         std::string bytes = ReadFile(file.string());
         WriteFile(file.string(), bytes.substr(0, bytes.size() / 2));
       },
       "model.bin is truncated: its "},
      {"a flipped byte in the dictionary's size", "model.bin",
       [](const fs::path& file) {
         std::string bytes = ReadFile(file.string());
         bytes[65] = static_cast<char>(bytes[65] ^ 0x40);  // the dictionary's entry count, second byte
         WriteFile(file.string(), bytes);
       },
       "model.bin is damaged: its dictionary says it holds "},
      {"a flipped byte in the dimension", "model.bin",
       [](const fs::path& file) {
         std::string bytes = ReadFile(file.string());
         bytes[11] = static_cast<char>(bytes[11] ^ 0x80);
         WriteFile(file.string(), bytes);
       },
       "model.bin is damaged: its dimension is -"},
      {"a model.json that does not parse", "model.json",
       [](const fs::path& file) { WriteFile(file.string(), "{\n  \"label_map\": {\"a\": 0,\n}"); },
       "model.json is not valid JSON (line 3, column 1: "},
      {"a removed model.json", "model.json", [](const fs::path& file) { fs::remove(file); },
       "model.json is missing (commit "},
  };
}

TEST_F(RetrainTest, ADamagedDeployedModelIsReportedAndReplaced) {
  Publish("v0");
  std::string deployed = Retrain(Request()).decision.model_version;
  int version = 0;
  for (const Damage& damage : Damages()) {
    SCOPED_TRACE(damage.name);
    damage.apply(MainFile(damage.file));
    // Data of its own: a model byte for byte the same as the damaged one would share its damaged file.
    ++version;
    Publish("v" + std::to_string(version), false, 10 + version);
    std::vector<std::string> progress;
    RetrainRequest request = Request();
    request.progress = [&progress](std::string_view message) { progress.emplace_back(message); };
    const RetrainOutcome outcome = Retrain(request);

    const bool card_readable = damage.file == "model.bin";
    const std::string name = card_readable ? deployed : "at main's commit ";
    const std::string reason_start = "the deployed model " + name;
    EXPECT_EQ(outcome.decision.reason.substr(0, reason_start.size()), reason_start) << outcome.decision.reason;
    EXPECT_NE(outcome.decision.reason.find(" is damaged or unreadable, so only the new model was scored ("),
              std::string::npos)
        << outcome.decision.reason;
    EXPECT_NE(outcome.decision.reason.find(label_models().string() + "/" + damage.problem), std::string::npos)
        << outcome.decision.reason;
    EXPECT_TRUE(outcome.decision.accepted());
    EXPECT_FALSE(outcome.decision.deployed_scores.has_value());
    EXPECT_EQ(outcome.decision.deployed_version,
              card_readable ? std::optional<std::string>(deployed) : std::optional<std::string>());
    EXPECT_EQ(Deployed().dataset_version, "v" + std::to_string(version));
    EXPECT_EQ(std::count_if(progress.begin(), progress.end(),
                            [&](const std::string& line) {
                              return line.starts_with(reason_start) &&
                                     line.find(": only the new model is scored, and replaces it (") !=
                                         std::string::npos &&
                                     line.find(damage.problem) != std::string::npos;
                            }),
              1);

    const nlohmann::json recorded = Decisions().back();
    EXPECT_EQ(recorded["decision"], "accepted");
    EXPECT_TRUE(recorded["deployed"].is_null());
    EXPECT_EQ(recorded["reason"], outcome.decision.reason);
    deployed = outcome.decision.model_version;
  }
  EXPECT_EQ(Decisions().size(), Damages().size() + 1);
  // The model that replaced the last damaged one is scored like any deployed model.
  ++version;
  Publish("v" + std::to_string(version), false, 10 + version);
  const RetrainOutcome next = Retrain(Request());
  ASSERT_TRUE(next.decision.deployed_scores.has_value()) << next.decision.reason;
  EXPECT_GE(next.decision.deployed_scores->macro_f1, 0.9);
}

// A repository that cannot be read (here, a file of main's commit that is a FIFO) is not a damaged
// model: the run stops, naming it, and decides nothing; the candidate stays tagged.
TEST_F(RetrainTest, ARepositoryThatCannotBeReadStopsTheRun) {
  Publish("v1");
  Retrain(Request());
  const std::string main = Head("main");
  const fs::path stored = MainFile("model.bin");
  fs::remove(stored);
  ASSERT_EQ(mkfifo(stored.c_str(), 0600), 0);
  Publish("v2");
  try {
    Retrain(Request());
    FAIL() << "a FIFO was read as a model";
  } catch (const RepositoryError& error) {
    EXPECT_NE(std::string(error.what()).find(stored.string() + " is a FIFO (named pipe), not a regular file"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(Head("main"), main);
  EXPECT_NE(Head("v2"), "(none)");
}

TEST_F(RetrainTest, ADamagedDecisionLogIsNamedWithItsLineAndNewDecisionsStillLand) {
  Publish("v1");
  Retrain(Request());
  const fs::path log = MainFile("decisions.jsonl");
  WriteFile(log.string(), ReadFile(log.string()) + "{\"dataset_version\": \"v0\", oops}\n");
  const std::string error = testing::WorkerErrorOf([&] { Retrain(Request()); });
  EXPECT_NE(error.find(label_models().string() + "/decisions.jsonl line 2 is not valid JSON (column 27: "),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("the dataset version v1 was trained already"), std::string::npos) << error;
  // A new version does not read the log: its decision is added as a line of its own.
  Publish("v2");
  EXPECT_TRUE(Retrain(Request()).decision.deployed_scores.has_value());
  const std::string text = ReadFile((label_models() / "decisions.jsonl").string());
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
}

TEST_F(RetrainTest, ABadLabelNameIsAConfigError) {
  RetrainRequest request = Request();
  request.label = "Department;";
  EXPECT_THROW(Retrain(request), ConfigError);
}

TEST(SettingsSearch, HalvesTheFieldEachRound) {
  std::vector<SplitRow> train, validation;
  for (int i = 0; i < 270; ++i) train.push_back({i % 2 ? "road pothole" : "school teacher", i % 2});
  for (int i = 0; i < 20; ++i) validation.push_back({i % 2 ? "pothole" : "teacher", i % 2});
  SearchSpace space = {.word_ngrams = {1},
                       .learning_rates = {0.1, 1.0},
                       .epochs = {1, 3},
                       .dimension = 8,
                       .buckets = 1000,
                       .threads = 1,
                       .seed = 1,
                       .first_round_rows = 30,
                       .screening_validation_rows = 5000};
  // 4 settings on 30 rows, the best 2 (a third, rounded up) on 90, the best one on all 270: 7 trainings.
  std::vector<std::string> progress;
  SearchResult result =
      SearchSettings(train, validation, space, [&](std::string_view line) { progress.emplace_back(line); });
  EXPECT_EQ(result.trainings, 7);
  EXPECT_DOUBLE_EQ(result.validation_scores.macro_f1, 1.0);
  ASSERT_EQ(progress.size(), 4u);
  EXPECT_EQ(progress[0], "search round 1: 4 setting(s) on 30 train rows");
  EXPECT_EQ(progress[1], "search round 2: 2 setting(s) on 90 train rows");
  EXPECT_EQ(progress[2].substr(0, 9), "training ");
  EXPECT_EQ(progress[3].substr(0, 5), "chose");

  // When the first round already has every row, it is the only one, and its best model is kept.
  space.first_round_rows = 1000;
  EXPECT_EQ(SearchSettings(train, validation, space).trainings, 4);
}

TEST(SettingsSearch, SettingsThatCannotTrainDropOut) {
  std::vector<SplitRow> train, validation;
  for (int i = 0; i < 60; ++i) train.push_back({i % 2 ? "road pothole" : "school teacher", i % 2});
  validation = train;
  // A learning rate of 1e30 makes fastText's weights overflow: that setting fails, the other wins.
  SearchSpace space = {.word_ngrams = {1},
                       .learning_rates = {1e30, 0.5},
                       .epochs = {2},
                       .dimension = 8,
                       .buckets = 1000,
                       .threads = 2,
                       .seed = 1,
                       .first_round_rows = 1000,
                       .screening_validation_rows = 5000};
  SearchResult result = SearchSettings(train, validation, space);
  EXPECT_EQ(result.trainings, 1);
  EXPECT_DOUBLE_EQ(result.model.settings().learning_rate, 0.5);
  space.learning_rates = {1e30};
  EXPECT_THROW(SearchSettings(train, validation, space), WorkerError);
}

TEST(SettingsSearch, SmallDatasetsGetFewBuckets) {
  std::vector<SplitRow> train, validation;
  for (int i = 0; i < 40; ++i) train.push_back({i % 2 ? "road pothole bridge" : "school teacher", i % 2});
  validation = train;
  SearchSpace space = {.word_ngrams = {2},
                       .learning_rates = {0.5},
                       .epochs = {2},
                       .dimension = 8,
                       .buckets = 200000,
                       .threads = 1,
                       .seed = 1,
                       .first_round_rows = 4000,
                       .screening_validation_rows = 5000};
  EXPECT_EQ(SearchSettings(train, validation, space).model.settings().buckets,
            1024);  // the floor: 2 x 100 words < 1024
}

}  // namespace
}  // namespace orch
