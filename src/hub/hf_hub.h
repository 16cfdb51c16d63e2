// The Hugging Face Hub's HTTP API as the pass uses it: dataset metadata files (resolved at a
// revision), a Space's runtime and restart (/api/spaces/OWNER/NAME/runtime, /restart), and whoami.
//
// Metadata reads are conditional: the ETag of each URL's last answer is sent back as
// If-None-Match, so polling an unchanged file costs a 304 and no body.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hub/http_client.h"
#include "hub/hub.h"

namespace orch {

// What the Hub said about one Space.
struct SpaceAnswer {
  int status = 0;                 // HTTP status; 0 when no answer came
  std::string stage;              // runtime stage when status is 200, e.g. "BUILDING"
  std::string error;              // why it failed, naming the Space (no secret)
  bool may_have_arrived = false;  // see HttpResponse::may_have_arrived
};

class HfHub : public Hub {
 public:
  // `endpoint` is HF_ENDPOINT without a trailing slash.
  HfHub(HttpClient& http, std::string endpoint);

  std::vector<MetadataRead> ReadMetadata(std::span<const std::string> urls, TimeBudget budget) override;

  // POST /api/spaces/{id}/restart for each Space, concurrently.
  std::vector<SpaceAnswer> RestartSpaces(std::span<const std::string> space_ids);
  // GET /api/spaces/{id}/runtime for each Space, concurrently, within `budget`.
  std::vector<SpaceAnswer> SpaceRuntimes(std::span<const std::string> space_ids, TimeBudget budget = std::nullopt);

  struct Identity {
    bool ok = false;
    std::string name;  // the account the token belongs to
    std::string error;
  };
  // GET /api/whoami-v2: is the token accepted? Within `budget` when given.
  Identity WhoAmI(TimeBudget budget = std::nullopt);

 private:
  struct Cached {
    std::string etag;
    DatasetMetadata metadata;
  };
  MetadataRead Interpret(const std::string& url, const HttpResponse& response);
  std::vector<SpaceAnswer> SpaceCalls(const std::string& method, const std::string& action,
                                      std::span<const std::string> space_ids, TimeBudget budget);

  HttpClient& http_;
  std::string endpoint_;
  std::map<std::string, Cached> cache_;  // by URL
};

// Explains an HTTP failure of a call about `what` ("Space owner/name", "metadata URL …"), on one
// line: the status and what it means, with the server's own explanation when its answer has one
// (HubErrorOf), or why no answer came.
std::string DescribeHttpFailure(const HttpResponse& response, const std::string& what);

// What the Hub's answers hold, read from bodies that come from whatever server answered: each
// function takes any bytes and returns a value within its bounds, never throwing.
//
// The runtime stage in a Space's runtime or restart answer ({"stage": "RUNNING", ...}): "" when
// the body has no string "stage", or one that is not a stage name (1 to kMaxStageBytes of A-Z,
// 0-9 and '_').
inline constexpr size_t kMaxStageBytes = 64;
std::string SpaceStageOf(std::string_view body);
// The account a whoami-v2 answer names ({"name": "..."}), as an Excerpt of at most
// kMaxAccountNameBytes; "" when the body has no string "name".
inline constexpr size_t kMaxAccountNameBytes = 100;
std::string AccountNameOf(std::string_view body);
// The explanation in an error answer ({"error": "..."}, as the Hub sends), as an Excerpt of at
// most kMaxServerErrorBytes; "" when the body has no string "error".
inline constexpr size_t kMaxServerErrorBytes = 200;
std::string HubErrorOf(std::string_view body);
// The explanation in a storage origin's error answer, S3's XML
// (<Error><Code>AccessDenied</Code><Message>Access Denied</Message>...</Error>), as "AccessDenied:
// Access Denied", an Excerpt of at most kMaxServerErrorBytes; "" when the body has neither.
std::string StorageErrorOf(std::string_view body);

}  // namespace orch
