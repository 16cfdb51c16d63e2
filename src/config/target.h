// What a trigger target names: a Hugging Face Space, a Hugging Face Job, a local command, or a webhook.
//
//   owner/name, hf-space:owner/name   a Space, restarted through the Hub's API
//   hf-job:IMAGE COMMAND [ARGS…]      a Job run on the Hub per start, as `hf jobs run` writes it: IMAGE
//                                     a Docker image, or hf.co/spaces/OWNER/NAME for a Space's image
//   command:<argv>                    a local process, started and watched by the pass
//   webhook:https://…                 an HTTP endpoint that receives a JSON POST
//
// Parsing is shared by the configuration (which refuses a bad target at load time) and by the
// triggers (which dispatch on the kind).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace orch {

struct Target {
  enum class Kind { kHfSpace, kCommand, kWebhook, kHfJob };
  Kind kind = Kind::kHfSpace;
  std::string space_id;           // kHfSpace: owner/name; kHfJob: the Space whose image the job runs, or ""
  std::vector<std::string> argv;  // kCommand: the program and its arguments; kHfJob: the job's command
  std::string url;                // kWebhook
  std::string image;              // kHfJob: the Docker image, or "" when the job runs a Space's image
};

// Parses a target. Throws ConfigError naming what is wrong (without the setting's name: the
// caller adds it).
Target ParseTarget(std::string_view text);

// Splits a command line as a POSIX shell would split words, without expanding anything:
// blanks separate words, '…' quotes literally, "…" quotes with \" \\ \$ \` escapes, and \x
// outside quotes is x. Throws ConfigError for an unterminated quote or an empty command.
std::vector<std::string> SplitCommandLine(std::string_view line);

// The kind's prefix, for messages: "hf-space", "command", "webhook", "hf-job".
const char* TargetKindName(Target::Kind kind);

}  // namespace orch
