// Fuzz target for a label's labels.json (LabelMap::Parse), which comes from the dataset repository
// a worker reads: any text must give a map of distinct ids within [0, 2^31 - 1] that ToJson writes
// and Parse reads back unchanged, or a WorkerError naming the file, on one line. Any other
// exception is a finding. AddAll on the map read keeps the ids given and gives new names the next
// free ones.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "util/error.h"
#include "workers/label_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using orch::fuzz::Check;
  const std::string where = "/hub/department/v3/labels.json";
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  orch::LabelMap map;
  try {
    map = orch::LabelMap::Parse(text, where);
  } catch (const orch::WorkerError& error) {
    const std::string_view message = error.what();
    Check(message.starts_with("label map " + where + " "), "a refused map is named by its file");
    Check(!orch::fuzz::HasControlByte(message), "a refused map is explained on one line");
    Check(message.size() <= 2000, "a refused map is explained in a bounded message");
    return 0;
  }
  std::set<int64_t> ids;
  int64_t largest = -1;
  for (const auto& [name, id] : map.ids()) {
    Check(!name.empty(), "class names are not empty");
    Check(id >= 0 && id <= std::numeric_limits<int32_t>::max(), "ids are within [0, 2^31 - 1]");
    Check(ids.insert(id).second, "ids are distinct");
    largest = std::max(largest, id);
  }
  const orch::LabelMap again = orch::LabelMap::Parse(map.ToJson(), where);
  Check(again.ids() == map.ids(), "ToJson is read back unchanged");

  const std::vector<std::string> names = {"NEW CLASS", map.ids().empty() ? "x" : map.ids().begin()->first};
  orch::LabelMap grown = map;
  const size_t added = grown.AddAll(names);
  for (const auto& [name, id] : map.ids()) Check(grown.Find(name) == id, "AddAll keeps the ids given");
  if (!map.Find("NEW CLASS")) Check(grown.Find("NEW CLASS") == largest + 1, "a new name gets the next free id");
  Check(grown.size() == map.size() + added, "AddAll counts what it added");
  return 0;
}
