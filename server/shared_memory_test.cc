#include "server/shared_memory.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tensord::server {
namespace {

// A POSIX shared-memory object of the test's own, unlinked at the end.
class ShmObject {
 public:
  explicit ShmObject(int64_t bytes) {
    static std::atomic<int> serial{0};
    key_ = absl::StrCat("/tensord-test-", getpid(), "-", serial++);
    fd_ = shm_open(key_.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    EXPECT_GE(fd_, 0) << std::strerror(errno);
    EXPECT_EQ(ftruncate(fd_, bytes), 0);
  }
  ~ShmObject() {
    close(fd_);
    shm_unlink(key_.c_str());
  }
  const std::string& key() const { return key_; }
  void Put(int64_t offset, const void* data, size_t bytes) {
    ASSERT_EQ(pwrite(fd_, data, bytes, offset), static_cast<ssize_t>(bytes));
  }
  std::vector<char> Get(int64_t offset, size_t bytes) {
    std::vector<char> out(bytes);
    EXPECT_EQ(pread(fd_, out.data(), bytes, offset), static_cast<ssize_t>(bytes));
    return out;
  }
  void Resize(int64_t bytes) { ASSERT_EQ(ftruncate(fd_, bytes), 0); }

 private:
  std::string key_;
  int fd_ = -1;
};

v1::ShmTensor Floats(const std::string& region, int64_t offset, std::vector<int64_t> shape) {
  v1::ShmTensor t;
  t.set_region(region);
  t.set_offset(offset);
  t.set_dtype(v1::DT_FLOAT32);
  for (int64_t d : shape) t.add_shape(d);
  return t;
}

v1::ShmSlot Slot(const std::string& region, int64_t offset, int64_t bytes) {
  v1::ShmSlot slot;
  slot.set_region(region);
  slot.set_offset(offset);
  slot.set_byte_size(bytes);
  return slot;
}

// What a registering client does: writes 16 random bytes at the object's start, then sends them.
absl::Status Register(SharedMemoryRegions& regions, const std::string& name, ShmObject& object,
                      int64_t offset, int64_t bytes) {
  static std::atomic<int> serial{0};
  const std::string proof = absl::StrCat("proof-", serial++, "-0123456789").substr(0, 16);
  object.Put(0, proof.data(), proof.size());
  return regions.Register(name, object.key(), offset, bytes, proof);
}

TEST(IsLocalPeer, LoopbackAndUnixSocketsOnly) {
  EXPECT_TRUE(IsLocalPeer("ipv4:127.0.0.1:5000"));
  EXPECT_TRUE(IsLocalPeer("ipv4:127.3.2.1:5000"));
  EXPECT_TRUE(IsLocalPeer("ipv6:[::1]:5000"));
  EXPECT_TRUE(IsLocalPeer("ipv6:%5B::1%5D:5000"));
  EXPECT_TRUE(IsLocalPeer("ipv6:[::ffff:127.0.0.1]:5000"));
  EXPECT_TRUE(IsLocalPeer("unix:/run/tensord.sock"));
  EXPECT_FALSE(IsLocalPeer("ipv4:10.0.0.7:5000"));
  EXPECT_FALSE(IsLocalPeer("ipv4:128.0.0.1:5000"));
  EXPECT_FALSE(IsLocalPeer("ipv6:[::2]:5000"));
  EXPECT_FALSE(IsLocalPeer("ipv6:[::1234]:5000"));
  EXPECT_FALSE(IsLocalPeer(""));
}

TEST(SharedMemoryRegions, ReadsInputsAtTheirOffsetsInTheRegion) {
  ShmObject object(4096);
  const float values[6] = {1, 2, 3, 4, 5, 6};
  object.Put(1024 + 64, values, sizeof values);
  SharedMemoryRegions regions;
  // The region starts 1024 bytes into the object; the tensor 64 bytes into the region.
  ASSERT_TRUE(Register(regions, "r", object, 1024, 2048).ok());
  auto t = regions.Read(Floats("r", 64, {2, 3}), "input 0");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->shape(), (runtime::Shape{2, 3}));
  EXPECT_EQ(std::memcmp(t->raw(), values, sizeof values), 0);
}

TEST(SharedMemoryRegions, WritesOutputsInCOrderAndDescribesThem) {
  ShmObject object(4096);
  SharedMemoryRegions regions;
  ASSERT_TRUE(Register(regions, "r", object, 0, 4096).ok());
  auto m = runtime::Tensor::Allocate(DType::kFloat32, {2, 3});
  ASSERT_TRUE(m.ok());
  for (int i = 0; i < 6; ++i) m->data<float>()[i] = static_cast<float>(i);
  // Its transpose, a strided view, is written as the C-order 3x2 array it stands for.
  runtime::Tensor transposed = m->StridedView({3, 2}, {1, 3}, 0);
  v1::ShmTensor written;
  auto fits = regions.Write(Slot("r", 128, 24), transposed, "output 0", &written);
  ASSERT_TRUE(fits.ok()) << fits.status();
  ASSERT_TRUE(*fits);
  std::vector<char> bytes = object.Get(128, 24);
  const float expected[6] = {0, 3, 1, 4, 2, 5};
  EXPECT_EQ(std::memcmp(bytes.data(), expected, sizeof expected), 0);
  EXPECT_EQ(written.region(), "r");
  EXPECT_EQ(written.offset(), 128);
  EXPECT_EQ(written.dtype(), v1::DT_FLOAT32);
  ASSERT_EQ(written.shape_size(), 2);
  EXPECT_EQ(written.shape(0), 3);
  // Too small a slot writes nothing: the caller sends the output in the reply instead.
  object.Put(512, expected, sizeof expected);
  fits = regions.Write(Slot("r", 512, 20), transposed, "output 0", &written);
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_FALSE(*fits);
  EXPECT_EQ(std::memcmp(object.Get(512, 24).data(), expected, sizeof expected), 0);
}

TEST(SharedMemoryRegions, RefusesBadNamesKeysRangesAndProofs) {
  ShmObject object(1000);
  const std::string proof = "0123456789abcdef";
  object.Put(0, proof.data(), 16);
  SharedMemoryRegions regions;
  auto code = [&](const std::string& name, const std::string& key, int64_t offset, int64_t bytes,
                  const std::string& with = "0123456789abcdef") {
    return regions.Register(name, key, offset, bytes, with).code();
  };
  EXPECT_EQ(code("", object.key(), 0, 16), absl::StatusCode::kInvalidArgument);
  // Only objects named for tensord, and no paths.
  EXPECT_EQ(code("r", "/psm_1234", 0, 16), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("r", "/tensord/../etc/passwd", 0, 16), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("r", "tensord-x", 0, 16), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("r", "/tensord-does-not-exist", 0, 16), absl::StatusCode::kNotFound);
  EXPECT_EQ(code("r", object.key(), -1, 16), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("r", object.key(), 0, 15), absl::StatusCode::kInvalidArgument);  // no room
  absl::Status past = regions.Register("r", object.key(), 900, 200, proof);
  EXPECT_EQ(past.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(past.message().find("holds 1000 bytes"), std::string::npos) << past;
  EXPECT_EQ(code("r", object.key(), INT64_MAX, INT64_MAX), absl::StatusCode::kInvalidArgument);
  // The proof: 16 bytes, and those at the region's start.
  EXPECT_EQ(code("r", object.key(), 0, 64, "short"), absl::StatusCode::kInvalidArgument);
  absl::Status other = regions.Register("r", object.key(), 0, 64, "fedcba9876543210");
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(other.message().find("not the request's proof"), std::string::npos) << other;
  // The bytes at the region's own start do not count: a region anywhere in the object needs
  // the object's first bytes, and zeros (what a new object holds) are never a proof.
  EXPECT_EQ(code("r", object.key(), 512, 64, std::string(16, '\0')),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(regions.size(), 0);
  EXPECT_EQ(code("r", object.key(), 512, 64), absl::StatusCode::kOk);
  EXPECT_EQ(code("r", object.key(), 0, 64), absl::StatusCode::kOk);  // replaced
  EXPECT_EQ(regions.size(), 1);
}

TEST(SharedMemoryRegions, ReadsAndWritesStayInsideTheRegion) {
  ShmObject object(4096);
  SharedMemoryRegions regions;
  ASSERT_TRUE(Register(regions, "r", object, 1024, 100).ok());
  EXPECT_EQ(regions.Read(Floats("r", 80, {6}), "input 1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(regions.Read(Floats("r", -4, {1}), "input 1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(regions.Read(Floats("other", 0, {1}), "input 1").status().code(),
            absl::StatusCode::kNotFound);
  // The wire checks apply: a dtype outside the enum, a shape whose size overflows.
  v1::ShmTensor bad = Floats("r", 0, {1});
  bad.set_dtype(static_cast<v1::DType>(99));
  EXPECT_EQ(regions.Read(bad, "input 1").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(regions.Read(Floats("r", 0, {INT64_MAX, 4}), "input 1").ok());
  runtime::Tensor four(DType::kFloat32, {4});
  v1::ShmTensor written;
  EXPECT_EQ(regions.Write(Slot("r", 90, 16), four, "output 0", &written).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(regions.Write(Slot("r", 0, INT64_MAX), four, "output 0", &written).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SharedMemoryRegions, ABoolMustBeZeroOrOne) {
  ShmObject object(64);
  SharedMemoryRegions regions;
  ASSERT_TRUE(Register(regions, "r", object, 0, 64).ok());
  const unsigned char bytes[3] = {0, 1, 7};
  object.Put(0, bytes, 3);
  v1::ShmTensor t;
  t.set_region("r");
  t.set_dtype(v1::DT_BOOL);
  t.add_shape(3);
  absl::Status bad = regions.Read(t, "input 0").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("input 0: bool tensor element 2"), std::string::npos) << bad;
}

TEST(SharedMemoryRegions, AnObjectThatShrankFailsTheCallNotTheServer) {
  ShmObject object(1 << 16);
  SharedMemoryRegions regions;
  ASSERT_TRUE(Register(regions, "r", object, 0, 1 << 16).ok());
  object.Resize(16);  // the pages past the first are gone from the server's mapping too
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(regions.Read(Floats("r", 0, {4096}), "input 0").status().code(),
              absl::StatusCode::kFailedPrecondition);
    runtime::Tensor big(DType::kFloat32, {4096});
    v1::ShmTensor written;
    absl::Status s = regions.Write(Slot("r", 0, 1 << 14), big, "output 0", &written).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(s.message().find("output 0: shared-memory object"), std::string::npos) << s;
  }
  struct stat st;
  ASSERT_EQ(stat(absl::StrCat("/dev/shm", object.key()).c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 16);  // not grown back by the refused write
  // Grown again, the region reads as before.
  object.Resize(1 << 16);
  EXPECT_TRUE(regions.Read(Floats("r", 0, {4096}), "input 0").ok());
}

TEST(SharedMemoryRegions, AnUnlinkedObjectStaysUsableUntilUnregistered) {
  auto object = std::make_unique<ShmObject>(64);
  SharedMemoryRegions regions;
  ASSERT_TRUE(Register(regions, "r", *object, 0, 64).ok());
  const float one = 1;
  object->Put(0, &one, 4);
  object.reset();  // closed and unlinked by the client
  auto t = regions.Read(Floats("r", 0, {1}), "input 0");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->data<float>()[0], 1.0f);
  EXPECT_EQ(regions.Unregister("nope").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(regions.Unregister("r").ok());
  EXPECT_EQ(regions.Read(Floats("r", 0, {1}), "input 0").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SharedMemoryRegions, RegistersAtMostTheLimitsAndReplacesByName) {
  ShmObject object(64);
  SharedMemoryRegions regions;
  for (int i = 0; i < SharedMemoryRegions::kMaxRegions; ++i) {
    ASSERT_TRUE(Register(regions, absl::StrCat("r", i), object, 0, 64).ok());
  }
  EXPECT_EQ(Register(regions, "one more", object, 0, 64).code(),
            absl::StatusCode::kResourceExhausted);
  // The same name again replaces its region, which takes no new room.
  ASSERT_TRUE(Register(regions, "r0", object, 32, 32).ok());
  EXPECT_EQ(regions.Read(Floats("r0", 0, {9}), "input 0").status().code(),
            absl::StatusCode::kInvalidArgument);
  // The whole server holds kMaxRegionsInServer at most (each is a mapping).
  std::vector<std::unique_ptr<SharedMemoryRegions>> sessions;
  int registered = regions.size();
  absl::Status last;
  while (last.ok() && registered <= SharedMemoryRegions::kMaxRegionsInServer) {
    if (sessions.empty() || sessions.back()->size() == SharedMemoryRegions::kMaxRegions) {
      sessions.push_back(std::make_unique<SharedMemoryRegions>());
    }
    last = Register(*sessions.back(), absl::StrCat("s", registered), object, 0, 64);
    if (last.ok()) ++registered;
  }
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
  EXPECT_EQ(registered, SharedMemoryRegions::kMaxRegionsInServer);
  // At the limit a region may still be replaced by name.
  EXPECT_TRUE(Register(regions, "r1", object, 0, 48).ok());
  sessions.clear();  // their regions go with them
  ASSERT_TRUE(regions.Unregister("").ok());
  EXPECT_EQ(regions.size(), 0);
  EXPECT_TRUE(Register(regions, "again", object, 0, 64).ok());
}

}  // namespace
}  // namespace tensord::server
