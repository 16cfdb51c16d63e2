// Benchmark: `orchestrator retrain` on 100,000 training rows, against the fastText command line.
//
// Generates a grievance-like labelled dataset (four departments, English and Nepali texts whose
// vocabularies overlap, filler words, shouting, punctuation, numbers and some wrong labels), lays it
// out as the prepare worker publishes it (the repository HUB/<label>, tagged), then times the whole retrain
// process (median of --runs runs, each scoring the deployed model too; a first untimed run deploys it)
// and compares its test macro-F1 with what the `fasttext` tool gives on the same split with
// `fasttext supervised -epoch 25 -lr 0.5 -wordNgrams 2 -thread 2` and `fasttext predict`. A dataset
// version is trained once, so each timed run trains the same data published again as a version of
// its own (a metadata commit and a tag). Prints Markdown for docs/benchmarks.md. Exits 1 when the
// retrain's macro-F1 is more than 0.01 below the tool's or the median retrain takes 30 s or more.
//
//   bench_retrain [--rows N] [--runs N] [--seed N] [--dataset HUB/<label>] [--write-dataset HUB]
//                 [--orchestrator PATH]
//
// With --dataset it runs on a copy of an existing dataset repository (its latest version) instead;
// with --write-dataset it only writes the synthetic dataset to HUB/department, to try retrain on by
// hand. --orchestrator times another build of the program (an earlier one, to compare).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "hub/local_repository.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "workers/classification_metrics.h"
#include "workers/jsonl_dataset.h"

namespace orch::bench {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ProcessResult;
using testing::Subprocess;
using testing::TempDir;
using Seconds = std::chrono::duration<double>;

constexpr const char* kFastTextTool = "/usr/bin/fasttext";
constexpr double kBudgetSeconds = 30;
constexpr double kAllowedF1Gap = 0.01;

// ---- The synthetic dataset ----

struct Department {
  const char* name;
  double share;
  std::vector<std::string> english, nepali;
};

const std::vector<Department>& Departments() {
  static const std::vector<Department> departments = {
      {"Infrastructure, Utilities & Natural Resources",
       0.35,
       {"road",        "pothole", "bridge",       "water",       "supply",      "pipe", "drain",     "sewage",
        "electricity", "power",   "outage",       "streetlight", "transformer", "pole", "landslide", "irrigation",
        "canal",       "river",   "construction", "gravel",      "culvert",     "tap",  "flood",     "wire"},
       {"सडक", "पुल", "पानी", "बिजुली", "धारा", "ढल", "खानेपानी", "बत्ती", "पहिरो", "सिँचाइ", "नहर", "खोला", "निर्माण",
        "कालोपत्रे", "ट्रान्सफर्मर", "पोल", "बाढी", "तार", "खाल्डो"}},
      {"Education, Health & Social Welfare",
       0.30,
       {"school",    "teacher", "student",    "hospital",    "doctor",    "nurse",     "medicine",
        "clinic",    "health",  "vaccine",    "scholarship", "exam",      "classroom", "textbook",
        "allowance", "elderly", "disability", "pregnant",    "ambulance", "fever",     "patient"},
       {"विद्यालय",  "शिक्षक",  "विद्यार्थी", "अस्पताल",   "डाक्टर", "नर्स", "औषधि",    "स्वास्थ्य", "चौकी",   "खोप",
        "छात्रवृत्ति", "परीक्षा", "कक्षा",     "पाठ्यपुस्तक", "भत्ता",  "वृद्ध", "अपाङ्गता", "गर्भवती", "बिरामी", "ज्वरो"}},
      {"Security & Law Enforcement",
       0.20,
       {"police", "theft", "robbery", "fight", "violence", "harassment", "drunk", "gambling", "drugs", "threat",
        "assault", "stolen", "missing", "traffic", "accident", "night", "gang", "knife", "arrest"},
       {"प्रहरी", "चोरी", "डकैती", "झगडा", "हिंसा", "दुर्व्यवहार", "रक्सी", "जुवा", "लागूऔषध", "धम्की", "कुटपिट", "हराएको",
        "ट्राफिक", "दुर्घटना", "रात", "गिरोह", "चक्कु", "पक्राउ", "सुरक्षा"}},
      {"Municipal Governance & Community Services",
       0.15,
       {"tax",         "certificate",    "registration", "office",   "staff",  "bribe",    "delay",
        "citizenship", "recommendation", "birth",        "marriage", "death",  "document", "chairperson",
        "meeting",     "budget",         "garbage",      "waste",    "market", "permit",   "license"},
       {"कर", "प्रमाणपत्र", "दर्ता", "कार्यालय", "कर्मचारी", "घुस", "ढिलाइ", "नागरिकता", "सिफारिस", "जन्म", "विवाह", "मृत्यु",
        "कागजात", "अध्यक्ष", "बैठक", "बजेट", "फोहोर", "बजार", "अनुमति"}},
  };
  return departments;
}

const std::vector<std::string> kEnglishFiller = {
    "the",     "a",       "is",          "in",           "of",        "not",      "please", "our",   "my",     "there",
    "since",   "for",     "and",         "to",           "has",       "been",     "very",   "no",    "any",    "help",
    "problem", "sir",     "madam",       "request",      "kindly",    "urgent",   "days",   "weeks", "months", "near",
    "area",    "village", "ward",        "municipality", "local",     "people",   "we",     "they",  "still",  "again",
    "nobody",  "action",  "immediately", "issue",        "complaint", "regarding"};
const std::vector<std::string> kNepaliFiller = {
    "हाम्रो", "मेरो",  "यो",   "त्यो",   "छ",      "छैन",        "भयो",    "गर्नुहोस्", "कृपया", "समस्या", "धेरै", "दिन", "हप्ता",
    "महिना", "नजिक", "क्षेत्र", "गाउँ",   "वडा",    "नगरपालिका", "स्थानीय", "मानिस",  "हामी", "उनीहरू", "अझै", "फेरि", "कोही",
    "तुरुन्त",  "बारे",  "उजुरी", "सहयोग", "समाधान", "लागि",      "र",      "मा",     "को",   "ले",     "पनि"};

struct Row {
  std::string text;
  int label;
};

template <typename T>
const T& Pick(const std::vector<T>& items, std::mt19937_64& random) {
  return items[std::uniform_int_distribution<size_t>(0, items.size() - 1)(random)];
}

std::string Upper(std::string text) {
  for (char& c : text)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return text;
}

// One grievance: words of its department, of a neighbouring one (the vocabularies overlap), of any
// department now and then, and filler, in English, Nepali or both; some are vague, some shout, and
// some carry a wrong label, as reviewed data does.
Row MakeRow(std::mt19937_64& random) {
  const std::vector<Department>& departments = Departments();
  std::vector<double> shares;
  for (const Department& department : departments) shares.push_back(department.share);
  std::discrete_distribution<int> department(shares.begin(), shares.end());
  std::uniform_real_distribution<double> chance(0, 1);
  int label = department(random);
  double language = chance(random);  // < 0.5 English, < 0.85 Nepali, else mixed
  bool vague = chance(random) < 0.15;
  int words = std::uniform_int_distribution<int>(6, 28)(random);
  std::string text;
  for (int i = 0; i < words; ++i) {
    bool nepali = language < 0.5 ? false : language < 0.85 ? true : chance(random) < 0.5;
    double draw = chance(random);
    double own = vague ? 0.08 : 0.25;
    const Department* source = nullptr;
    if (draw < own)
      source = &departments[label];
    else if (draw < own + 0.08)
      source = &departments[(label + 1) % departments.size()];
    else if (draw < own + 0.12)
      source = &Pick(departments, random);
    std::string word = source ? Pick(nepali ? source->nepali : source->english, random)
                              : Pick(nepali ? kNepaliFiller : kEnglishFiller, random);
    if (chance(random) < 0.03) word += std::to_string(std::uniform_int_distribution<int>(1, 30)(random));
    if (chance(random) < 0.06) word += Pick(std::vector<std::string>{",", ".", "!", "!!", "?", "।"}, random);
    if (i == 0 && !nepali && chance(random) < 0.7) word[0] = static_cast<char>(std::toupper(word[0]));
    text += (text.empty() ? "" : " ") + word;
  }
  if (chance(random) < 0.07) text = Upper(text);
  if (chance(random) < 0.06) label = (label + std::uniform_int_distribution<int>(1, 3)(random)) % 4;
  return {text, label};
}

void WriteSplit(const fs::path& file, size_t rows, std::mt19937_64& random) {
  std::ofstream out(file, std::ios::binary);
  for (size_t i = 0; i < rows; ++i) {
    Row row = MakeRow(random);
    out << nlohmann::json({{"grievance", row.text}, {"label", row.label}}).dump() << '\n';
  }
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

// The repository HUB/department with the version v20261126_101502, train:validation:test = 80:10:10,
// published as the prepare worker publishes: the data, then the metadata, then the tag.
fs::path GenerateDataset(const fs::path& hub, size_t train_rows, uint64_t seed) {
  fs::path dataset = hub / "department";
  std::string version = "v20261126_101502";
  LocalRepository repository(dataset);
  repository.CreateIfMissing();
  nlohmann::ordered_json labels = nlohmann::ordered_json::object();
  for (size_t id = 0; id < Departments().size(); ++id) labels[Departments()[id].name] = id;
  size_t side_rows = train_rows / 8;
  std::mt19937_64 random(seed);
  const fs::path scratch = hub / ".bench-staging";
  fs::create_directories(scratch);
  WriteSplit(scratch / "train.jsonl", train_rows, random);
  WriteSplit(scratch / "validation.jsonl", side_rows, random);
  WriteSplit(scratch / "test.jsonl", side_rows, random);
  CommitRequest data;
  data.summary = "Add the synthetic benchmark data";
  data.additions = {FileAddition::FromBytes("README.md", "# department (synthetic benchmark data)\n"),
                    FileAddition::FromBytes("labels.json", labels.dump(2) + "\n"),
                    FileAddition::FromFile("data/train.jsonl", scratch / "train.jsonl"),
                    FileAddition::FromFile("data/validation.jsonl", scratch / "validation.jsonl"),
                    FileAddition::FromFile("data/test.jsonl", scratch / "test.jsonl")};
  repository.Commit(data);
  fs::remove_all(scratch);
  nlohmann::ordered_json metadata = {
      {"dataset_name", "department"},
      {"version_tag", version},
      {"label_column", "label"},
      {"num_samples", train_rows + 2 * side_rows},
      {"splits", {{"train", train_rows}, {"validation", side_rows}, {"test", side_rows}}},
      {"created_at", "2026-11-26T10:15:02.110260+00:00"}};
  CommitRequest publish;
  publish.summary = "Publish " + version;
  publish.additions = {FileAddition::FromBytes("dataset_metadata.json", metadata.dump(2) + "\n")};
  repository.CreateTag(version, repository.Commit(publish));
  return dataset;
}

// Publishes the latest version of `dataset` again as `tag`: main's dataset_metadata.json naming it,
// committed, then tagged, as the prepare worker publishes a version. The data stays as it is.
void PublishAgain(const fs::path& dataset, const std::string& tag) {
  LocalRepository repository(dataset);
  const std::optional<std::string> head = repository.HeadOf("main");
  nlohmann::ordered_json metadata =
      nlohmann::ordered_json::parse(repository.ReadFile(*head, "dataset_metadata.json", 1 << 20).value());
  metadata["version_tag"] = tag;
  CommitRequest publish;
  publish.summary = "Publish " + tag;
  publish.parent_commit = head;
  publish.additions = {FileAddition::FromBytes("dataset_metadata.json", metadata.dump(2) + "\n")};
  repository.CreateTag(tag, repository.Commit(publish));
}

// ---- Measuring ----

double ChildCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  auto seconds = [](const timeval& time) { return static_cast<double>(time.tv_sec) + time.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Timed {
  ProcessResult result;
  double seconds = 0;
  double cpu_seconds = 0;
};

Timed Run(const std::vector<std::string>& argv, const std::string& cwd) {
  double cpu_before = ChildCpuSeconds();
  auto start = std::chrono::steady_clock::now();
  Timed timed{Subprocess::Run(argv, {{"PATH", "/usr/bin:/bin"}}, cwd, 600s), 0, 0};
  timed.seconds = Seconds(std::chrono::steady_clock::now() - start).count();
  timed.cpu_seconds = ChildCpuSeconds() - cpu_before;
  if (timed.result.exit_code != 0) {
    std::cerr << "failed (" << timed.result.exit_code << "): " << argv[0] << " " << (argv.size() > 1 ? argv[1] : "")
              << "\n"
              << timed.result.err.substr(0, 4000) << "\n";
    std::exit(1);
  }
  return timed;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// The fastText tool on the same split: its own input format, raw texts.
struct ToolResult {
  ClassificationScores scores;
  double seconds = 0;
  double cpu_seconds = 0;
};

ToolResult RunFastTextTool(const TextDataset& dataset, const fs::path& work) {
  auto write = [](const fs::path& file, const std::vector<SplitRow>& rows) {
    std::ofstream out(file, std::ios::binary);
    for (const SplitRow& row : rows) out << "__label__" << row.label << ' ' << row.text << '\n';
  };
  write(work / "train.txt", dataset.train);
  write(work / "test.txt", dataset.test);
  Timed train = Run({kFastTextTool, "supervised", "-input", "train.txt", "-output", "tool_model", "-epoch", "25", "-lr",
                     "0.5", "-wordNgrams", "2", "-thread", "2", "-verbose", "0"},
                    work.string());
  Timed predict = Run({kFastTextTool, "predict", "tool_model.bin", "test.txt"}, work.string());
  std::vector<int> truth, predicted;
  std::istringstream lines(predict.result.out);
  for (const SplitRow& row : dataset.test) {
    std::string line;
    std::getline(lines, line);
    truth.push_back(row.label);
    predicted.push_back(line.rfind("__label__", 0) == 0 ? std::stoi(line.substr(9)) : -1);
  }
  return {ScoreClassification(truth, predicted), train.seconds + predict.seconds,
          train.cpu_seconds + predict.cpu_seconds};
}

struct RetrainRun {
  double seconds, cpu_seconds, macro_f1, accuracy;
  long max_rss_kb;
  std::string decision, chosen;
};

RetrainRun RunRetrain(const std::string& binary, const std::string& label, const fs::path& dataset,
                      const fs::path& models, const fs::path& work) {
  Timed timed =
      Run({binary, "retrain", "--label", label, "--dataset", dataset.string(), "--models", models.string(), "--json"},
          work.string());
  nlohmann::json decision = nlohmann::json::parse(timed.result.out);
  std::string chosen;
  size_t at = timed.result.err.find(": chose ");
  if (at != std::string::npos) chosen = timed.result.err.substr(at + 8, timed.result.err.find(':', at + 8) - at - 8);
  return {timed.seconds,
          timed.cpu_seconds,
          decision["new"]["macro_f1"].get<double>(),
          decision["new"]["accuracy"].get<double>(),
          timed.result.max_rss_kb,
          decision["decision"].get<std::string>(),
          chosen};
}

}  // namespace

int Main(int argc, char** argv) {
  size_t rows = 100'000;
  int runs = 3;
  uint64_t seed = 20261126;
  std::optional<fs::path> given_dataset, write_to;
  std::string binary = ORCH_BINARY;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--rows") rows = std::stoul(argv[i + 1]);
    if (flag == "--runs") runs = std::max(1, std::stoi(argv[i + 1]));
    if (flag == "--seed") seed = std::stoull(argv[i + 1]);
    if (flag == "--dataset") given_dataset = (fs::absolute(argv[i + 1]) / "").parent_path();  // no trailing '/'
    if (flag == "--write-dataset") write_to = argv[i + 1];
    if (flag == "--orchestrator") binary = fs::absolute(argv[i + 1]).string();
  }
  if (write_to) {
    std::cout << "wrote " << GenerateDataset(*write_to, rows, seed).string() << "\n";
    return 0;
  }
  TempDir work("orch-bench-retrain");
  fs::path dataset_dir;
  if (given_dataset) {
    // A copy: the timed runs publish versions of their own into it.
    dataset_dir = work.path() / "hub" / given_dataset->filename();
    fs::create_directories(dataset_dir.parent_path());
    fs::copy(*given_dataset, dataset_dir, fs::copy_options::recursive);
  } else {
    std::cerr << "generating " << rows << " train rows...\n";
    dataset_dir = GenerateDataset(work.path() / "hub", rows, seed);
  }
  std::string label = dataset_dir.filename().string();
  TextDataset dataset = ReadTextDataset(dataset_dir, label);

  bool have_tool = access(kFastTextTool, X_OK) == 0;
  ToolResult tool;
  if (have_tool) {
    std::cerr << "fasttext tool...\n";
    tool = RunFastTextTool(dataset, work.path());
  }
  std::cerr << "retrain: a first run to deploy, then " << runs << " timed run(s)...\n";
  fs::path models = work.path() / "models";
  RetrainRun first = RunRetrain(binary, label, dataset_dir, models, work.path());
  std::vector<RetrainRun> timed;
  for (int run = 0; run < runs; ++run) {
    PublishAgain(dataset_dir, dataset.version_tag + "_r" + std::to_string(run + 1));
    timed.push_back(RunRetrain(binary, label, dataset_dir, models, work.path()));
  }

  std::vector<double> seconds, cpu, f1;
  long peak_kb = first.max_rss_kb;
  for (const RetrainRun& run : timed) {
    seconds.push_back(run.seconds);
    cpu.push_back(run.cpu_seconds);
    f1.push_back(run.macro_f1);
    peak_kb = std::max(peak_kb, run.max_rss_kb);
  }
  double worst_f1 = std::min(first.macro_f1, *std::min_element(f1.begin(), f1.end()));

  std::printf("Dataset: %s, version %s: %zu train, %zu validation, %zu test rows, %zu classes.\n\n",
              given_dataset ? given_dataset->c_str() : "synthetic (bench_retrain's generator)",
              dataset.version_tag.c_str(), dataset.train.size(), dataset.validation.size(), dataset.test.size(),
              dataset.classes.size());
  std::printf(
      "| | wall time (median) | CPU time (median) | peak RSS | test macro-F1 | test accuracy | settings |\n"
      "|---|---:|---:|---:|---:|---:|---|\n");
  std::printf(
      "| `orchestrator retrain` (search, training, both scorings, deploy decision) | %.1f s | %.1f s | %.0f MiB |"
      " %.4f (lowest of %zu: %.4f) | %.4f | %s |\n",
      Median(seconds), Median(cpu), peak_kb / 1024.0, Median(f1), timed.size() + 1, worst_f1, first.accuracy,
      first.chosen.c_str());
  if (have_tool)
    std::printf(
        "| `fasttext supervised` + `fasttext predict` | %.1f s | %.1f s | | %.4f | %.4f |"
        " epoch 25, lr 0.5, word n-grams 2, dim 100, 2M buckets |\n",
        tool.seconds, tool.cpu_seconds, tool.scores.macro_f1, tool.scores.accuracy);
  std::printf(
      "\nRetrain runs: the first deployed (%s), the next %d each trained the same data published again as a new "
      "version and scored the deployed model as well (%s).\n",
      first.decision.c_str(), runs,
      [&] {
        std::string decisions;
        for (const RetrainRun& run : timed) decisions += (decisions.empty() ? "" : ", ") + run.decision;
        return decisions;
      }()
          .c_str());

  bool fast_enough = Median(seconds) < kBudgetSeconds;
  bool good_enough = !have_tool || worst_f1 >= tool.scores.macro_f1 - kAllowedF1Gap;
  std::printf("Budget %.0f s: %s. Macro-F1 at least the tool's minus %.2f: %s.\n", kBudgetSeconds,
              fast_enough ? "met" : "MISSED", kAllowedF1Gap,
              !have_tool    ? "not compared (no /usr/bin/fasttext)"
              : good_enough ? "met"
                            : "MISSED");
  return fast_enough && good_enough ? 0 : 1;
}

}  // namespace orch::bench

int main(int argc, char** argv) { return orch::bench::Main(argc, argv); }
