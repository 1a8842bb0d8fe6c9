#include "server/guarded_copy.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

namespace tensord::server {
namespace {

// A mapped temporary file of `pages` pages.
struct MappedFile {
  explicit MappedFile(size_t pages) : bytes(pages * static_cast<size_t>(getpagesize())) {
    FILE* file = tmpfile();
    fd = dup(fileno(file));
    fclose(file);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(bytes)), 0);
    data = static_cast<char*>(mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    EXPECT_NE(data, MAP_FAILED);
  }
  ~MappedFile() {
    munmap(data, bytes);
    close(fd);
  }
  size_t bytes;
  int fd;
  char* data;
};

TEST(GuardedCopy, CopiesBothWays) {
  MappedFile file(2);
  std::vector<char> local(file.bytes, 'x');
  ASSERT_TRUE(GuardedCopy(file.data, local.data(), file.bytes));
  std::vector<char> back(file.bytes);
  ASSERT_TRUE(GuardedCopy(back.data(), file.data, file.bytes));
  EXPECT_EQ(back, local);
}

TEST(GuardedCopy, PagesTakenAwayFailTheCopyNotTheProcess) {
  MappedFile file(4);
  std::vector<char> local(file.bytes, 'y');
  ASSERT_EQ(ftruncate(file.fd, getpagesize()), 0);  // what a client shrinking its object does
  for (int i = 0; i < 3; ++i) {                     // and again: the handler stays in place
    EXPECT_FALSE(GuardedCopy(local.data(), file.data, file.bytes));
    EXPECT_FALSE(GuardedCopy(file.data, local.data(), file.bytes));
  }
  EXPECT_TRUE(GuardedCopy(local.data(), file.data, getpagesize()));  // what is left still reads
}

TEST(GuardedCopyDeathTest, ASigbusOutsideAGuardedCopyStillEndsTheProcess) {
  MappedFile file(2);
  char c = 0;
  ASSERT_TRUE(GuardedCopy(&c, file.data, 1));  // installs the handler
  ASSERT_EQ(ftruncate(file.fd, 0), 0);
  EXPECT_DEATH(
      {
        volatile char* p = file.data;
        c = p[0];
      },
      "");
}

}  // namespace
}  // namespace tensord::server
