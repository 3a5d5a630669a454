// The upstream password: where it comes from, and that it never shows up in any text the
// config module produces.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "config/config.hpp"
#include "support.hpp"

namespace switchyard::config {
namespace {

using testing::describe;
using testing::kBase;
using testing::parse;
using testing::ScratchDir;

constexpr std::string_view kPassword = "correct-horse-battery-staple";

std::string everything_printed(const LoadResult& result) {
  std::string out = describe(result);
  if (result.config) {
    out += to_redacted_json(*result.config);
  }
  return out;
}

TEST(ConfigSecretsTest, PasswordFromTheNamedEnvironmentVariable) {
  const LoadResult result = parse(std::string(kBase) + "password_env = \"PGPASS_FOR_PROXY\"\n",
                                  {{"PGPASS_FOR_PROXY", std::string(kPassword)}});
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->upstream.password.value, kPassword);
  EXPECT_EQ(result.config->upstream.password_env, "PGPASS_FOR_PROXY");
}

TEST(ConfigSecretsTest, DefaultEnvironmentIsTheProcessEnvironment) {
  const std::string name = "SWITCHYARD_CONFIG_TEST_PW_" + std::to_string(::getpid());
  ASSERT_EQ(::setenv(name.c_str(), "from-process", 1), 0);
  const LoadResult result =
      parse_config(std::string(kBase) + "password_env = \"" + name + "\"\n", "<string>");
  ::unsetenv(name.c_str());
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->upstream.password.value, "from-process");
}

TEST(ConfigSecretsTest, UnsetAndEmptyVariablesAreNamedWithoutValues) {
  const LoadResult unset = parse(std::string(kBase) + "password_env = \"PW\"\n");
  ASSERT_EQ(unset.errors.size(), 1u) << describe(unset);
  EXPECT_EQ(unset.errors[0].key, "upstream.password_env");
  EXPECT_NE(unset.errors[0].message.find("PW is not set"), std::string::npos);

  const LoadResult empty = parse(std::string(kBase) + "password_env = \"PW\"\n", {{"PW", ""}});
  ASSERT_EQ(empty.errors.size(), 1u) << describe(empty);
  EXPECT_NE(empty.errors[0].message.find("PW is set but empty"), std::string::npos);
}

TEST(ConfigSecretsTest, PasswordFileLosesItsTrailingNewlines) {
  ScratchDir dir;
  const auto file = dir.write("pw", std::string(kPassword) + " \r\n\n");
  const LoadResult result =
      parse(std::string(kBase) + "password_file = \"" + file.string() + "\"\n");
  ASSERT_TRUE(result.ok()) << describe(result);
  // Only line endings go: a trailing space may be part of the password.
  EXPECT_EQ(result.config->upstream.password.value, std::string(kPassword) + " ");
}

TEST(ConfigSecretsTest, EmptyOrMissingPasswordFileIsNamed) {
  ScratchDir dir;
  const auto empty = dir.write("empty", "\n");
  const LoadResult empty_result =
      parse(std::string(kBase) + "password_file = \"" + empty.string() + "\"\n");
  ASSERT_EQ(empty_result.errors.size(), 1u) << describe(empty_result);
  EXPECT_EQ(empty_result.errors[0].key, "upstream.password_file");
  EXPECT_NE(empty_result.errors[0].message.find(empty.string() + "\" is empty"), std::string::npos);

  const auto missing = dir.path() / "missing";
  const LoadResult missing_result =
      parse(std::string(kBase) + "password_file = \"" + missing.string() + "\"\n");
  ASSERT_EQ(missing_result.errors.size(), 1u) << describe(missing_result);
  EXPECT_NE(missing_result.errors[0].message.find("cannot read \"" + missing.string() + "\""),
            std::string::npos);
  EXPECT_EQ(missing_result.errors[0].line, 7);
}

TEST(ConfigSecretsTest, OfflineToolsSkipThePasswordButNotTheConflict) {
  const auto offline = [](const std::string& text) {
    return parse_config(text, "test.toml", testing::environment_of({}), PasswordLookup::skip);
  };
  ScratchDir dir;
  const auto missing = (dir.path() / "missing").string();
  for (const std::string& line :
       {std::string("password_env = \"PW\"\n"), "password_file = \"" + missing + "\"\n"}) {
    const LoadResult skipped = offline(std::string(kBase) + line);
    ASSERT_TRUE(skipped.ok()) << line << describe(skipped);
    EXPECT_TRUE(skipped.config->upstream.password.value.empty());
    // The same file still fails where the password is needed.
    EXPECT_FALSE(parse(std::string(kBase) + line).ok()) << line;
  }
  const LoadResult both = offline(std::string(kBase) + "password_env = \"PW\"\n" +
                                  "password_file = \"" + missing + "\"\n");
  ASSERT_EQ(both.errors.size(), 1u) << describe(both);
  EXPECT_NE(both.errors[0].message.find("both set"), std::string::npos);
}

TEST(ConfigSecretsTest, NeverInErrorsOrJson) {
  ScratchDir dir;
  const auto file = dir.write("pw", kPassword);
  const std::string env_line = "password_env = \"PW\"\n";
  const std::string file_line = "password_file = \"" + file.string() + "\"\n";
  const testing::FakeEnvironment env{{"PW", std::string(kPassword)}};
  const std::string broken_elsewhere = "[timeouts]\nstartup = \"never\"\n";
  const std::string configs[] = {
      std::string(kBase) + env_line,
      std::string(kBase) + file_line,
      std::string(kBase) + env_line + file_line,
      std::string(kBase) + env_line + broken_elsewhere,
      std::string(kBase) + file_line + broken_elsewhere,
      // The habit of writing the password inline is rejected without echoing it.
      std::string(kBase) + "password = \"" + std::string(kPassword) + "\"\n",
      std::string(kBase) + env_line + "[log]\nlevel = 5\n",
  };
  for (const std::string& text : configs) {
    const LoadResult result = parse(text, env);
    const std::string printed = everything_printed(result);
    EXPECT_EQ(printed.find(kPassword), std::string::npos) << printed;
  }
}

TEST(ConfigSecretsTest, JsonSaysAPasswordIsSetOnlyAsRedacted) {
  const LoadResult result =
      parse(std::string(kBase) + "password_env = \"PW\"\n", {{"PW", std::string(kPassword)}});
  ASSERT_TRUE(result.ok()) << describe(result);
  const std::string json = to_redacted_json(*result.config);
  EXPECT_NE(json.find("\"password\":\"<redacted>\""), std::string::npos) << json;
  EXPECT_EQ(json.find(kPassword), std::string::npos);
}

}  // namespace
}  // namespace switchyard::config
