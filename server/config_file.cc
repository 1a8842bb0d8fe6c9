#include "server/config_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tensord::server {

absl::StatusOr<std::vector<std::string>> ParseConfigText(
    const std::string& text, const std::string& source,
    const std::vector<std::string>& known_flags) {
  std::vector<std::string> args;
  std::istringstream in(text);
  std::string raw;
  for (int line_no = 1; std::getline(in, raw); ++line_no) {
    std::string line(absl::StripAsciiWhitespace(raw));
    auto where = [&] { return absl::StrCat(source, ":", line_no, ": "); };
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (absl::StartsWith(line, "--")) line = line.substr(2);
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "expected 'name = value', got '", line, "'"));
    }
    std::string name(absl::StripAsciiWhitespace(line.substr(0, eq)));
    std::string value(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    // A trailing " # comment" is dropped; values never need a " #".
    if (size_t hash = value.find(" #"); hash != std::string::npos) {
      value = std::string(absl::StripAsciiWhitespace(value.substr(0, hash)));
    }
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where(), "missing flag name"));
    }
    if (name == "config") {
      return absl::InvalidArgumentError(absl::StrCat(where(), "a config file cannot set --config"));
    }
    if (!known_flags.empty() &&
        std::find(known_flags.begin(), known_flags.end(), name) == known_flags.end()) {
      return absl::InvalidArgumentError(absl::StrCat(where(), "unknown flag '", name, "'"));
    }
    args.push_back(absl::StrCat("--", name, "=", value));
  }
  return args;
}

absl::StatusOr<std::vector<std::string>> ReadConfigFile(
    const std::string& path, const std::vector<std::string>& known_flags) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::stringstream text;
  text << file.rdbuf();
  return ParseConfigText(text.str(), path, known_flags);
}

std::string FindConfigArg(int argc, char** argv) {
  std::string found;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (absl::StartsWith(arg, "--config=")) {
      found = arg.substr(9);
    } else if (absl::StartsWith(arg, "-config=")) {
      found = arg.substr(8);
    } else if ((arg == "--config" || arg == "-config") && i + 1 < argc) {
      found = argv[++i];
    }
  }
  return found;
}

std::vector<std::string> MergeArgs(int argc, char** argv,
                                   const std::vector<std::string>& config_args) {
  std::vector<std::string> merged;
  if (argc > 0) merged.push_back(argv[0]);
  merged.insert(merged.end(), config_args.begin(), config_args.end());
  for (int i = 1; i < argc; ++i) merged.push_back(argv[i]);
  return merged;
}

}  // namespace tensord::server
