// The model card's YAML is read back by PyYAML after the front matter is cut out as huggingface_hub
// cuts it: the keys and the model-index shape are the Hub's model card spec's.
#include "hub/model_card_metadata.h"

#include <gtest/gtest.h>

#include "support/yaml_read_back.h"

namespace orch {
namespace {

ModelCardMetadata Card() {
  ModelCardMetadata card;
  card.library_name = "fasttext";
  card.pipeline_tag = "text-classification";
  card.tags = {"fasttext", "text-classification"};
  card.datasets = {"owner/department"};
  card.id2label = {{0, "Infrastructure, Utilities & Natural Resources"}, {2, "सुरक्षा: प्रहरी"}};
  card.model_name = "department";
  card.evaluation = ModelEvaluation{
      .task_type = "text-classification",
      .task_name = "Text Classification",
      .dataset_type = "owner/department",
      .dataset_name = "department v20261126_101502",
      .dataset_config = "default",
      .dataset_split = "test",
      .dataset_revision = "0123456789abcdef0123456789abcdef01234567",
      .metrics = {{.type = "f1", .value = 0.83761234567891, .name = "Test macro-F1", .args = {{"average", "macro"}}},
                  {.type = "accuracy", .value = 1, .name = "Test accuracy", .args = {}}}};
  return card;
}

TEST(ModelCardMetadata, ReadsBackAsTheHubsModelIndex) {
  const std::string front_matter = ModelCardFrontMatter(Card());
  ASSERT_TRUE(front_matter.starts_with("---\n")) << front_matter;
  ASSERT_TRUE(front_matter.ends_with("\n---\n")) << front_matter;
  const nlohmann::json read = testing::ReadYaml(front_matter + "\n# department\n", /*front_matter=*/true);
  EXPECT_EQ(read["library_name"], "fasttext");
  EXPECT_EQ(read["pipeline_tag"], "text-classification");
  EXPECT_EQ(read["tags"], nlohmann::json::array({"fasttext", "text-classification"}));
  EXPECT_EQ(read["datasets"], nlohmann::json::array({"owner/department"}));
  EXPECT_EQ(read["metrics"], nlohmann::json::array({"f1", "accuracy"}));
  EXPECT_EQ(read["id2label"],
            nlohmann::json({{"0", "Infrastructure, Utilities & Natural Resources"}, {"2", "सुरक्षा: प्रहरी"}}));
  EXPECT_EQ(read["model-index"], nlohmann::json::parse(R"([{"name": "department", "results": [{
              "task": {"type": "text-classification", "name": "Text Classification"},
              "dataset": {"type": "owner/department", "name": "department v20261126_101502", "config": "default",
                          "split": "test", "revision": "0123456789abcdef0123456789abcdef01234567"},
              "metrics": [{"type": "f1", "value": 0.83761234567891, "name": "Test macro-F1",
                           "args": {"average": "macro"}},
                          {"type": "accuracy", "value": 1.0, "name": "Test accuracy"}]}]}])"));
  // The value is the number itself, not rounded on the way.
  EXPECT_DOUBLE_EQ(read["model-index"][0]["results"][0]["metrics"][0]["value"].get<double>(), 0.83761234567891);
}

TEST(ModelCardMetadata, WithoutAnEvaluationThereIsNoModelIndex) {
  ModelCardMetadata card = Card();
  card.evaluation.reset();
  card.id2label.clear();
  card.datasets.clear();
  const nlohmann::json read = testing::ReadYaml(ModelCardFrontMatter(card), true);
  EXPECT_EQ(read, nlohmann::json({{"library_name", "fasttext"},
                                  {"pipeline_tag", "text-classification"},
                                  {"tags", {"fasttext", "text-classification"}}}));
}

}  // namespace
}  // namespace orch
