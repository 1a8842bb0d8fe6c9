// The driver of a fuzz target built without libFuzzer (gcc, the default and asan presets): runs
// every file of the corpus directories given, then --mutations=N random mutations of them
// (byte flips, boundary values, insertions, deletions, splices; seeded, so a failure repeats).
// CI runs it under ASan + UBSan; a real fuzzing campaign builds the target with clang and
// -DTENSORD_LIBFUZZER=ON instead.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void RunOne(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string Mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937& rng) {
  // Mostly one edit: protobuf framing survives few changes, and a framed input goes deeper.
  const int edits = rng() % 4 == 0 ? 2 + static_cast<int>(rng() % 7) : 1;
  for (int e = 0; e < edits; ++e) {
    const size_t at = s.empty() ? 0 : rng() % s.size();
    switch (rng() % 5) {
      case 0:  // flip a bit
        if (!s.empty()) s[at] = static_cast<char>(s[at] ^ (1u << (rng() % 8)));
        break;
      case 1: {  // a boundary value
        static const unsigned char kValues[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x12};
        if (!s.empty()) s[at] = static_cast<char>(kValues[rng() % sizeof(kValues)]);
        break;
      }
      case 2:  // insert a byte
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(rng()));
        break;
      case 3:  // delete a run
        if (!s.empty()) s.erase(at, 1 + rng() % 4);
        break;
      default: {  // splice in a piece of another input
        const std::string& other = corpus[rng() % corpus.size()];
        if (other.empty()) break;
        const size_t from = rng() % other.size();
        s.insert(at, other.substr(from, 1 + rng() % 16));
      }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> corpus;
  long mutations = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--mutations=", 0) == 0) {
      mutations = std::stol(arg.substr(12));
      continue;
    }
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) files.push_back(entry);
    } else {
      files.push_back(arg);
    }
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE... [--mutations=N]\n", argv[0]);
    return 2;
  }
  for (const std::string& input : corpus) RunOne(input);
  std::mt19937 rng(20261206);
  for (long i = 0; i < mutations; ++i) RunOne(Mutate(corpus[rng() % corpus.size()], corpus, rng));
  std::printf("%zu corpus inputs and %ld mutations ran without a finding\n", corpus.size(),
              mutations);
  return 0;
}
