#include "cli/completion.h"

#include <CLI/CLI.hpp>
#include <string_view>
#include <vector>

namespace orch {
namespace {

struct OptionSpec {
  std::string name;  // "--env-file"
  std::string help;
  bool takes_value = false;
  std::vector<std::string> choices;  // empty: any value (completed as a file name)
};

struct CommandSpec {
  std::string name;  // "" for the program itself
  std::string summary;
  std::vector<OptionSpec> options;
  std::vector<std::string> positional_choices;  // the words a positional argument takes, if listed
};

// "TEXT:{text,json}" → {"text", "json"}: the words an IsMember check allows.
std::vector<std::string> Choices(const std::string& type_name) {
  const size_t open = type_name.find('{');
  const size_t close = type_name.find('}', open);
  std::vector<std::string> words;
  if (open == std::string::npos || close == std::string::npos) return words;
  std::string_view list(type_name.data() + open + 1, close - open - 1);
  while (!list.empty()) {
    const size_t comma = list.find(',');
    words.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return words;
}

CommandSpec Describe(const CLI::App& command, std::string name) {
  CommandSpec spec{std::move(name), command.get_description(), {}, {}};
  for (const CLI::Option* option : command.get_options()) {
    if (option->get_positional()) {
      spec.positional_choices = Choices(option->get_type_name());
      continue;
    }
    for (const std::string& long_name : option->get_lnames()) {
      if (long_name == "help") continue;  // every command's --help is added once, by the scripts
      spec.options.push_back({"--" + long_name, option->get_description(), option->get_items_expected_max() > 0,
                              Choices(option->get_type_name())});
    }
  }
  return spec;
}

std::vector<CommandSpec> DescribeAll(const CLI::App& app) {
  std::vector<CommandSpec> commands = {Describe(app, "")};
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    commands.push_back(Describe(*sub, sub->get_name()));
  return commands;
}

std::string Join(const std::vector<std::string>& words) {
  std::string joined;
  for (const std::string& word : words) joined += (joined.empty() ? "" : " ") + word;
  return joined;
}

std::string BashScript(const std::vector<CommandSpec>& commands) {
  std::vector<std::string> names;
  for (size_t i = 1; i < commands.size(); ++i) names.push_back(commands[i].name);
  std::string cases;
  for (const CommandSpec& command : commands) {
    std::vector<std::string> words, valued;
    std::string choices;
    for (const OptionSpec& option : command.options) {
      words.push_back(option.name);
      if (option.takes_value) valued.push_back(option.name);
      if (!option.choices.empty())
        choices += "      " + option.name + ") COMPREPLY=($(compgen -W '" + Join(option.choices) +
                   "' -- \"$cur\")); return ;;\n";
    }
    words.push_back("--help");
    if (command.name.empty()) words.insert(words.begin(), names.begin(), names.end());
    const std::vector<std::string>& positional = command.positional_choices;
    words.insert(words.end(), positional.begin(), positional.end());
    cases += "    " + (command.name.empty() ? std::string("''") : command.name) + ")\n";
    cases += "      words='" + Join(words) + "'\n      valued='" + Join(valued) + "'\n";
    if (!choices.empty()) cases += "      case \"$prev\" in\n" + choices + "      esac\n";
    cases += "      ;;\n";
  }
  return "# bash completion for orchestrator: source it, or install it as\n"
         "# /usr/share/bash-completion/completions/orchestrator. Made by `orchestrator completion bash`.\n"
         "_orchestrator() {\n"
         "  local cur prev sub='' words valued i\n"
         "  cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
         "  prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    case \"${COMP_WORDS[i]}\" in\n"
         "      " +
         [&] {
           std::string alternatives;
           for (const std::string& name : names) alternatives += (alternatives.empty() ? "" : "|") + name;
           return alternatives;
         }() +
         ") sub=\"${COMP_WORDS[i]}\"; break ;;\n"
         "    esac\n"
         "  done\n"
         "  case \"$sub\" in\n" +
         cases +
         "  esac\n"
         "  if [[ \" $valued \" == *\" $prev \"* ]]; then\n"
         "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
         "    return\n"
         "  fi\n"
         "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
         "}\n"
         "complete -o filenames -F _orchestrator orchestrator\n";
}

// Text inside a zsh _arguments spec or _describe item: quotes, brackets and colons escaped.
std::string ZshText(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    if (c == '\n') break;  // the first line is the summary
    if (c == '\'') {
      escaped += "'\\''";
    } else {
      if (c == '[' || c == ']' || c == ':' || c == '\\') escaped += '\\';
      escaped += c;
    }
  }
  return escaped;
}

std::string ZshArguments(const CommandSpec& command) {
  std::string specs = " \\\n        '--help[Show what the command does and its options]'";
  for (const OptionSpec& option : command.options) {
    std::string spec = "'" + option.name + "[" + ZshText(option.help) + "]";
    if (option.takes_value) spec += option.choices.empty() ? ":value:_files" : ":value:(" + Join(option.choices) + ")";
    specs += " \\\n        " + spec + "'";
  }
  if (!command.positional_choices.empty()) specs += " \\\n        '1:shell:(" + Join(command.positional_choices) + ")'";
  return specs;
}

std::string ZshScript(const std::vector<CommandSpec>& commands) {
  std::string described, cases;
  for (size_t i = 1; i < commands.size(); ++i) {
    described += "    '" + commands[i].name + ":" + ZshText(commands[i].summary) + "'\n";
    cases += "    " + commands[i].name + ")\n      _arguments" + ZshArguments(commands[i]) + "\n      ;;\n";
  }
  return "#compdef orchestrator\n"
         "# zsh completion for orchestrator: install it as _orchestrator in a directory of $fpath.\n"
         "# Made by `orchestrator completion zsh`.\n"
         "_orchestrator() {\n"
         "  local -a subcommands\n"
         "  subcommands=(\n" +
         described +
         "  )\n"
         "  if (( CURRENT == 2 )) && [[ $words[CURRENT] != -* ]]; then\n"
         "    _describe 'subcommand' subcommands\n"
         "    return\n"
         "  fi\n"
         "  case $words[2] in\n" +
         cases + "    *)\n      _arguments" + ZshArguments(commands[0]) +
         "\n      ;;\n"
         "  esac\n"
         "}\n"
         "_orchestrator \"$@\"\n";
}

}  // namespace

std::string CompletionScript(const CLI::App& app, const std::string& shell) {
  const std::vector<CommandSpec> commands = DescribeAll(app);
  return shell == "zsh" ? ZshScript(commands) : BashScript(commands);
}

}  // namespace orch
