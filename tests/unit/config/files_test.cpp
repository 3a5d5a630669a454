// Everything that touches the file system: load_config itself and the files a config names.

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "support.hpp"

namespace switchyard::config {
namespace {

using testing::describe;
using testing::kBase;
using testing::parse;
using testing::ScratchDir;

TEST(ConfigFilesTest, MissingFileIsOneErrorNamingIt) {
  ScratchDir dir;
  const auto path = dir.path() / "absent.toml";
  const LoadResult result = load_config(path);
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].file, path.string());
  EXPECT_EQ(result.errors[0].line, 0);
  EXPECT_NE(format_error(result.errors[0]).find(path.string()), std::string::npos);
  EXPECT_NE(result.errors[0].message.find("No such file"), std::string::npos);
}

TEST(ConfigFilesTest, DirectoryIsOneErrorNamingIt) {
  ScratchDir dir;
  const LoadResult result = load_config(dir.path());
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].file, dir.path().string());
  EXPECT_NE(result.errors[0].message.find("is a directory"), std::string::npos);
}

TEST(ConfigFilesTest, ErrorsInAFileNameTheFile) {
  ScratchDir dir;
  const auto path = dir.write("bad.toml", std::string(kBase) + "tls = \"maybe\"\n");
  const LoadResult result = load_config(path);
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(format_error(result.errors[0]).rfind(path.string() + ":7:7: upstream.tls: ", 0), 0u)
      << format_error(result.errors[0]);
}

TEST(ConfigFilesTest, LoadedFileRecordsItsSource) {
  ScratchDir dir;
  const auto path = dir.write("ok.toml", kBase);
  const LoadResult result = load_config(path);
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->source, path.string());
}

// Regression (issue 7): a device named by mistake used to be read until memory ran out.
TEST(ConfigFilesTest, EndlessPasswordFileIsRefusedPromptly) {
  const LoadResult result = parse(std::string(kBase) + "password_file = \"/dev/zero\"\n");
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].key, "upstream.password_file");
  EXPECT_NE(result.errors[0].message.find("larger than 1 MiB"), std::string::npos)
      << result.errors[0].message;
}

TEST(ConfigFilesTest, EndlessConfigFileIsRefusedPromptly) {
  const LoadResult result = load_config("/dev/zero");
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_NE(result.errors[0].message.find("larger than 1 MiB"), std::string::npos)
      << result.errors[0].message;
}

TEST(ConfigFilesTest, TlsFilesMustBeReadableAndAreNamed) {
  ScratchDir dir;
  const auto cert = dir.write("server.crt", "cert");
  const auto missing_key = dir.path() / "server.key";
  const LoadResult result = parse(std::string(kBase) + "[tls]\ncert = \"" + cert.string() +
                                  "\"\nkey = \"" + missing_key.string() + "\"\n");
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].key, "tls.key");
  EXPECT_EQ(result.errors[0].line, 9);
  EXPECT_NE(result.errors[0].message.find("cannot read \"" + missing_key.string() + "\""),
            std::string::npos);
}

TEST(ConfigFilesTest, TlsFileThatIsADirectoryIsRejected) {
  ScratchDir dir;
  const auto key = dir.write("server.key", "key");
  const LoadResult result = parse(std::string(kBase) + "[tls]\ncert = \"" + dir.path().string() +
                                  "\"\nkey = \"" + key.string() + "\"\n");
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].key, "tls.cert");
  EXPECT_NE(result.errors[0].message.find("is a directory"), std::string::npos);
}

TEST(ConfigFilesTest, RelativePathsResolveNextToTheConfigFile) {
  ScratchDir dir;
  dir.write("ca.pem", "ca");
  dir.write("pw.txt", "pw\n");
  const auto path = dir.write("switchyard.toml", std::string(kBase) +
                                                     "tls = \"verify-full\"\n"
                                                     "ca_file = \"ca.pem\"\n"
                                                     "password_file = \"pw.txt\"\n");
  const LoadResult result = load_config(path);
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->upstream.tls, TlsMode::verify_full);
  EXPECT_EQ(result.config->upstream.ca_file, (dir.path() / "ca.pem").string());
  EXPECT_EQ(result.config->upstream.password_file, (dir.path() / "pw.txt").string());
  EXPECT_EQ(result.config->upstream.password.value, "pw");
}

TEST(ConfigFilesTest, UnreadableCaFileIsNamed) {
  ScratchDir dir;
  const auto path = dir.write("switchyard.toml", std::string(kBase) +
                                                     "tls = \"verify-full\"\n"
                                                     "ca_file = \"missing-ca.pem\"\n");
  const LoadResult result = load_config(path);
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].key, "upstream.ca_file");
  EXPECT_NE(result.errors[0].message.find((dir.path() / "missing-ca.pem").string()),
            std::string::npos);
}

}  // namespace
}  // namespace switchyard::config
