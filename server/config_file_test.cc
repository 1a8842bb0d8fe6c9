#include "server/config_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace tensord::server {
namespace {

using ::testing::ElementsAre;

TEST(ConfigFileTest, ParsesNameValueAndDashedLines) {
  auto args = ParseConfigText(
      "# comment\n; also a comment\n\nlisten = 0.0.0.0:1234\n--floatX=float64\n"
      "  log_level =  debug   # trailing comment\ncontexts = dev0->cuda0;dev1->cpu\n",
      "f.conf");
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(*args,
            (std::vector<std::string>{"--listen=0.0.0.0:1234", "--floatX=float64",
                                      "--log_level=debug", "--contexts=dev0->cuda0;dev1->cpu"}));
}

TEST(ConfigFileTest, ErrorsNameFileAndLine) {
  auto bad = ParseConfigText("listen = x\njunk line\n", "my.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("my.conf:2:"), std::string::npos) << bad.status();

  auto nested = ParseConfigText("config = other.conf\n", "my.conf");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("cannot set --config"), std::string::npos);

  auto empty_name = ParseConfigText(" = 3\n", "my.conf");
  EXPECT_FALSE(empty_name.ok());
}

TEST(ConfigFileTest, UnknownFlagsAreRefusedWhenKnownListGiven) {
  auto unknown =
      ParseConfigText("floatX = float64\nflaotX = float64\n", "c.conf", {"floatX", "listen"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("c.conf:2: unknown flag 'flaotX'"), std::string::npos)
      << unknown.status();
}

TEST(ConfigFileTest, MissingFileIsNotFound) {
  auto missing = ReadConfigFile("/nonexistent/tensord.conf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/tensord.conf"), std::string::npos);
}

TEST(ConfigFileTest, ReadsAFile) {
  std::string path = ::testing::TempDir() + "/tensord_config_file_test.conf";
  std::ofstream(path) << "floatX = float64\n";
  auto args = ReadConfigFile(path);
  std::remove(path.c_str());
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(*args, ElementsAre("--floatX=float64"));
}

TEST(ConfigFileTest, FindConfigArgAndMergeKeepCommandLineLast) {
  std::string a0 = "tensord", a1 = "--floatX=float32", a2 = "--config", a3 = "x.conf",
              a4 = "--config=y.conf", a5 = "--", a6 = "--config=z.conf";
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), a4.data(), a5.data(), a6.data()};
  EXPECT_EQ(FindConfigArg(4, argv), "x.conf");
  EXPECT_EQ(FindConfigArg(7, argv), "y.conf");
  EXPECT_EQ(FindConfigArg(2, argv), "");
  auto merged = MergeArgs(2, argv, {"--floatX=float64", "--listen=:1"});
  EXPECT_EQ(merged, (std::vector<std::string>{"tensord", "--floatX=float64", "--listen=:1",
                                              "--floatX=float32"}));
}

}  // namespace
}  // namespace tensord::server
