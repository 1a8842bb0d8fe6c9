// The server's --config=FILE: a file of flag settings, one per line, read before the command
// line so that explicit command-line flags override it (command line > config file > defaults).
//
//   # comment (also ';')
//   listen = 0.0.0.0:50051
//   --floatX=float64          # the leading "--" is optional
//   log_level = debug
#ifndef TENSORD_SERVER_CONFIG_FILE_H_
#define TENSORD_SERVER_CONFIG_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tensord::server {

// Parses config text into "--name=value" arguments, in file order. `source` names the file in
// errors ("FILE:LINE: ..."). Names must be in `known_flags` when that is non-empty; "config"
// itself is refused (no nesting).
absl::StatusOr<std::vector<std::string>> ParseConfigText(
    const std::string& text, const std::string& source,
    const std::vector<std::string>& known_flags = {});

// Reads FILE and parses it as above; a missing or unreadable file is an error.
absl::StatusOr<std::vector<std::string>> ReadConfigFile(
    const std::string& path, const std::vector<std::string>& known_flags = {});

// The value of the last --config=FILE or "--config FILE" in argv ("" when none); "--" ends flags.
std::string FindConfigArg(int argc, char** argv);

// argv[0], then `config_args`, then argv[1..]: absl uses the last occurrence of a flag, so the
// command line wins over the file.
std::vector<std::string> MergeArgs(int argc, char** argv,
                                   const std::vector<std::string>& config_args);

}  // namespace tensord::server

#endif  // TENSORD_SERVER_CONFIG_FILE_H_
