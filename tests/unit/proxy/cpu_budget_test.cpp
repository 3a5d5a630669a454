// cpu_budget: cgroup files and affinity in, the thread count `threads = 0` means out.

#include "proxy/cpu_budget.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace switchyard::proxy {
namespace {

using testing::TempDir;
using testing::write_file;

TEST(CpuBudgetTest, CpuMax) {
  struct Case {
    const char* text;
    std::optional<double> cpus;
  };
  const Case cases[] = {
      {"max 100000\n", std::nullopt},    {"150000 100000\n", 1.5},   {"50000 100000", 0.5},
      {"  200000 100000  \n", 2.0},      {"", std::nullopt},         {"max", std::nullopt},
      {"abc 100000", std::nullopt},      {"100000 0", std::nullopt}, {"-1 100000", std::nullopt},
      {"100000 100000 x", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(parse_cpu_max(c.text), c.cpus);
  }
}

TEST(CpuBudgetTest, CfsQuota) {
  struct Case {
    const char* quota;
    const char* period;
    std::optional<double> cpus;
  };
  const Case cases[] = {
      {"-1\n", "100000\n", std::nullopt}, {"200000\n", "100000\n", 2.0}, {"25000", "100000", 0.25},
      {"", "100000", std::nullopt},       {"100000", "", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.quota) + " / " + c.period);
    EXPECT_EQ(parse_cfs_quota(c.quota, c.period), c.cpus);
  }
}

TEST(CpuBudgetTest, Threads) {
  struct Case {
    unsigned allowed;
    std::optional<double> quota;
    unsigned threads;
  };
  const Case cases[] = {
      {8, std::nullopt, 8}, {8, 2.0, 2},  {8, 1.5, 2},
      {8, 0.05, 1},         {2, 16.0, 2}, {0, std::nullopt, 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.allowed);
    EXPECT_EQ((CpuBudget{64, c.allowed, c.quota}.threads()), c.threads);
  }
}

// A tree of cgroup files as the kernel mounts them; each case names the files, what
// /proc/self/cgroup says, and the limit expected.
TEST(CpuBudgetTest, CgroupTree) {
  struct File {
    const char* path;
    const char* content;
  };
  struct Case {
    const char* name;
    std::vector<File> files;
    const char* proc_self_cgroup;
    std::optional<double> cpus;
  };
  const Case cases[] = {
      {"v2 container: its own cgroup is the mount's root",
       {{"cpu.max", "150000 100000\n"}},
       "0::/\n",
       1.5},
      {"v2 unlimited", {{"cpu.max", "max 100000\n"}}, "0::/\n", std::nullopt},
      {"v2 service: the tighter of the cgroup and its parent",
       {{"system.slice/cpu.max", "100000 100000\n"},
        {"system.slice/app.service/cpu.max", "300000 100000\n"}},
       "0::/system.slice/app.service\n",
       1.0},
      {"v2 path from the host, mount from the container: the root's file counts",
       {{"cpu.max", "200000 100000\n"}},
       "0::/kubepods/pod1/abc\n",
       2.0},
      {"v1 cpu,cpuacct",
       {{"cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "50000\n"},
        {"cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n"}},
       "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n",
       0.5},
      {"v1 unlimited",
       {{"cpu/cpu.cfs_quota_us", "-1\n"}, {"cpu/cpu.cfs_period_us", "100000\n"}},
       "1:cpu:/\n",
       std::nullopt},
      {"v1 cpuacct alone is not the cpu controller",
       {{"cpuacct/cpu.cfs_quota_us", "50000\n"}, {"cpuacct/cpu.cfs_period_us", "100000\n"}},
       "2:cpuacct:/\n",
       std::nullopt},
      {"no files", {}, "0::/\n", std::nullopt},
      {"garbage lines", {{"cpu.max", "100000 100000\n"}}, "nonsense\n\n0::/\n", 1.0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir root;
    for (const auto& file : c.files) {
      const auto path = root.path() / file.path;
      std::filesystem::create_directories(path.parent_path());
      write_file(path, file.content);
    }
    EXPECT_EQ(cgroup_cpu_quota(root.path(), c.proc_self_cgroup), c.cpus);
  }
}

TEST(CpuBudgetTest, ThisProcessHasAtLeastOneThread) {
  const CpuBudget budget = cpu_budget();
  EXPECT_GE(budget.allowed, 1u);
  EXPECT_LE(budget.allowed, budget.online);
  EXPECT_GE(budget.threads(), 1u);
}

}  // namespace
}  // namespace switchyard::proxy
