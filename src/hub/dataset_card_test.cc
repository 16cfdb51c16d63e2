// The card's YAML is read back by PyYAML, the parser the Hub's own tools (huggingface_hub, datasets)
// read a card with, after the front matter is cut out of README.md as huggingface_hub cuts it.
#include "hub/dataset_card.h"

#include <gtest/gtest.h>

#include <regex>

#include "hub/yaml_writer.h"
#include "support/yaml_read_back.h"
#include "util/error.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

nlohmann::json ReadBack(const std::string& text, bool front_matter = false) {
  return testing::ReadYamlBack(text, front_matter);
}

TEST(YamlWriter, EveryStringReadsBackAsWritten) {
  const std::vector<std::string> tricky = {"plain",
                                           "HIGHLY URGENT",
                                           "Municipal Governance & Community Services",
                                           "key: value",
                                           "ends with a colon:",
                                           "# not a comment",
                                           "a #b",
                                           "- leading dash",
                                           "-",
                                           "--- a document marker",
                                           "---",
                                           "...",
                                           "\"double\" and 'single' quotes",
                                           "'",
                                           "back\\slash",
                                           "सडकमा ठूलो खाल्डो छ, कृपया छिटो मर्मत गर्नुहोस्।",
                                           "ज़िला: काठमाडौं",
                                           "yes",
                                           "No",
                                           "off",
                                           "null",
                                           "~",
                                           "true",
                                           "123",
                                           "0x1F",
                                           "1e3",
                                           ".inf",
                                           "2026-11-26",
                                           "1:20",
                                           "",
                                           " padded ",
                                           "tab\there",
                                           "line\nbreak",
                                           "cr\rlf",
                                           std::string("nul\0byte", 8),
                                           "bell\x07",
                                           "del\x7f",
                                           "\xc2\x85next line",
                                           "line\xe2\x80\xa8separator",
                                           "bom\xef\xbb\xbf",
                                           "@at",
                                           "`backtick",
                                           "!tag",
                                           "&anchor",
                                           "*alias",
                                           "%directive",
                                           "{flow: map}",
                                           "[flow, seq]",
                                           "a, b",
                                           "?",
                                           "| literal",
                                           "> folded",
                                           "😀 emoji"};
  Json document = {{"strings", tricky}, {"keys", Json::object()}};
  for (const std::string& text : tricky) document["keys"][text] = text;
  document["numbers"] = {0, -7, 4000000000, 0.5};
  document["flags"] = {true, false, nullptr};
  document["nested"] = Json::array({Json::array({"a", Json::array({"b"})}), Json::object(), Json::array()});
  const std::string yaml = ToYaml(document);
  EXPECT_EQ(ReadBack(yaml), nlohmann::json(document)) << yaml;
  // One line per scalar: no string spans lines, so no "---" line can end a front matter early.
  for (size_t start = 0; start < yaml.size();) {
    const size_t end = yaml.find('\n', start);
    EXPECT_NE(yaml.substr(start, end - start), "---");
    start = end + 1;
  }
}

TEST(YamlWriter, WritesPlainOnlyWhatCannotBeMistaken) {
  EXPECT_EQ(YamlScalar("text-classification"), "text-classification");
  EXPECT_EQ(YamlScalar("data/train.jsonl"), "data/train.jsonl");
  EXPECT_EQ(YamlScalar("HIGHLY URGENT"), "\"HIGHLY URGENT\"");
  EXPECT_EQ(YamlScalar("0"), "\"0\"");
  EXPECT_EQ(YamlScalar("yes"), "\"yes\"");
  EXPECT_EQ(YamlScalar("a\"b\\c\n"), R"("a\"b\\c\n")");
  EXPECT_EQ(YamlScalar("\xff"), "\"\xef\xbf\xbd\"") << "a byte that is not UTF-8 becomes U+FFFD";
  EXPECT_EQ(ReadBack("k: " + YamlScalar("a\xff"
                                        "b\xe0\x80")),
            nlohmann::json({{"k",
                             "a\xef\xbf\xbd"
                             "b\xef\xbf\xbd\xef\xbf\xbd"}}));
  EXPECT_EQ(ToYaml(Json::object()), "{}\n");
  EXPECT_EQ(ToYaml({{"list", {"a", "b"}}, {"map", {{"k", 1}}}}), "list:\n- a\n- b\nmap:\n  k: 1\n");
}

DatasetCardMetadata UrgencyCard() {
  DatasetCardMetadata card;
  card.splits = {{"train", "data/train.jsonl", 1280},
                 {"validation", "data/validation.jsonl", 160},
                 {"test", "data/test.jsonl", 160}};
  card.text_column = "grievance";
  card.label_column = "label";
  card.class_names = {"NORMAL", "URGENT", "HIGHLY URGENT"};
  card.languages = {"ne", "en"};
  card.task_categories = {"text-classification"};
  return card;
}

TEST(DatasetCard, ReadsBackAsTheDatasetsLibraryNeedsIt) {
  const std::string readme = CardFrontMatter(UrgencyCard()) + "\n# urgency dataset\n\n---\n\nMore text.\n";
  const nlohmann::json card = ReadBack(readme, /*front_matter=*/true);
  ASSERT_TRUE(card.is_object()) << readme;
  EXPECT_EQ(card["configs"], nlohmann::json::parse(R"([{"config_name": "default", "data_files": [
      {"split": "train", "path": "data/train.jsonl"}, {"split": "validation", "path": "data/validation.jsonl"},
      {"split": "test", "path": "data/test.jsonl"}]}])"));
  const nlohmann::json& info = card["dataset_info"];
  EXPECT_EQ(info["config_name"], "default");
  EXPECT_EQ(info["features"], nlohmann::json::parse(R"([{"name": "grievance", "dtype": "string"},
      {"name": "label", "dtype": {"class_label": {"names": {"0": "NORMAL", "1": "URGENT", "2": "HIGHLY URGENT"}}}}])"));
  EXPECT_EQ(info["splits"], nlohmann::json::parse(R"([{"name": "train", "num_examples": 1280},
      {"name": "validation", "num_examples": 160}, {"name": "test", "num_examples": 160}])"));
  EXPECT_EQ(card["language"], nlohmann::json::parse(R"(["ne", "en"])"));
  EXPECT_EQ(card["task_categories"], nlohmann::json::parse(R"(["text-classification"])"));
  EXPECT_EQ(card["size_categories"], nlohmann::json::parse(R"(["1K<n<10K"])"));
  // Split names as the library accepts them, and every split listed in data_files has its size.
  for (const nlohmann::json& split : info["splits"])
    EXPECT_TRUE(std::regex_match(split["name"].get<std::string>(), std::regex(R"(\w+(\.\w+)*)"))) << split;
}

TEST(DatasetCard, ASplitWithoutRowsIsLeftOutEverywhere) {
  DatasetCardMetadata card = UrgencyCard();
  card.splits[1].num_examples = 0;
  card.languages.clear();
  const nlohmann::json read = ReadBack(CardFrontMatter(card), true);
  EXPECT_EQ(read["configs"][0]["data_files"].size(), 2u);
  EXPECT_EQ(read["configs"][0]["data_files"][1]["split"], "test");
  EXPECT_EQ(read["dataset_info"]["splits"].size(), 2u);
  EXPECT_EQ(read["dataset_info"]["splits"][1]["name"], "test");
  EXPECT_FALSE(read.contains("language"));
  EXPECT_EQ(read["size_categories"][0], "1K<n<10K");
}

TEST(DatasetCard, ClassNamesWithColonsQuotesAndDevanagariReadBack) {
  DatasetCardMetadata card = UrgencyCard();
  card.class_names = {"Security: Law & Order", "\"quoted\"", "- dash", "शिक्षा", "yes", "0", "unused_id_7"};
  const nlohmann::json read = ReadBack(CardFrontMatter(card), true);
  const nlohmann::json& names = read["dataset_info"]["features"][1]["dtype"]["class_label"]["names"];
  ASSERT_EQ(names.size(), card.class_names.size());
  for (size_t id = 0; id < card.class_names.size(); ++id) EXPECT_EQ(names[std::to_string(id)], card.class_names[id]);
}

TEST(DatasetCard, IdsWithoutAClassGetNamesOfTheirOwn) {
  EXPECT_EQ(ClassLabelNames({{0, "NORMAL"}, {1, "URGENT"}}), (std::vector<std::string>{"NORMAL", "URGENT"}));
  EXPECT_EQ(ClassLabelNames({{1, "a"}, {3, "unused_id_2"}}),
            (std::vector<std::string>{"unused_id_0", "a", "_unused_id_2", "unused_id_2"}));
  EXPECT_TRUE(ClassLabelNames({}).empty());
  EXPECT_THROW(ClassLabelNames({{0, "a"}, {kMaxClassLabelIds, "b"}}), WorkerError);
  EXPECT_EQ(ClassLabelNames({{kMaxClassLabelIds - 1, "b"}}).size(), static_cast<size_t>(kMaxClassLabelIds));
}

TEST(DatasetCard, SizeCategoriesAreTheHubsBuckets) {
  EXPECT_EQ(SizeCategory(0), "n<1K");
  EXPECT_EQ(SizeCategory(999), "n<1K");
  EXPECT_EQ(SizeCategory(1000), "1K<n<10K");
  EXPECT_EQ(SizeCategory(9999), "1K<n<10K");
  EXPECT_EQ(SizeCategory(10000), "10K<n<100K");
  EXPECT_EQ(SizeCategory(150000), "100K<n<1M");
  EXPECT_EQ(SizeCategory(1000000), "1M<n<10M");
  EXPECT_EQ(SizeCategory(999999999999), "100B<n<1T");
  EXPECT_EQ(SizeCategory(1000000000000), "n>1T");
}

TEST(DatasetCard, LanguageCodesAreChecked) {
  for (const char* code : {"ne", "en", "nep", "zh-Hans", "en-US"}) EXPECT_TRUE(IsLanguageCode(code)) << code;
  for (const char* code : {"", "n", "nepa", "EN", "en_US", "en-", "en-x", "ne en", "नेपाली"})
    EXPECT_FALSE(IsLanguageCode(code)) << code;
}

}  // namespace
}  // namespace orch
