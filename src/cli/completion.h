// Shell completion scripts, made from the command line's own definition, so they offer exactly the
// subcommands and options that --help lists.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace orch {

// The completion script for `shell` ("bash" or "zsh") of the program `app` describes: each
// subcommand with its summary, each option with its help, files after options that take a path,
// and the choices of options that take one of a few words (--log-format text|json).
std::string CompletionScript(const CLI::App& app, const std::string& shell);

}  // namespace orch
