#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

// How many worker threads `[runtime] threads = 0` means. std::thread::hardware_concurrency()
// counts every CPU of the host, so a sidecar limited to one CPU on a 64-core node would run 64
// workers, each sleeping and waking for a slice of that one CPU; and `taskset -c 0` would not
// change the count either. The CPUs a process may use are its affinity mask, cut to its
// cgroup's CPU quota (a container's --cpus, a Kubernetes CPU limit).
namespace switchyard::proxy {

struct CpuBudget {
  unsigned online = 1;          ///< CPUs of the machine
  unsigned allowed = 1;         ///< CPUs of the process's affinity mask
  std::optional<double> quota;  ///< the tightest cgroup CPU limit, in CPUs; none when unlimited

  /// min(allowed, quota rounded up), at least one.
  unsigned threads() const;
};

/// This process's budget, from sched_getaffinity, /proc/self/cgroup and /sys/fs/cgroup.
CpuBudget cpu_budget();

/// cgroup v2 `cpu.max` ("max 100000", "150000 100000") in CPUs; nullopt when unlimited or not
/// understood.
std::optional<double> parse_cpu_max(std::string_view text);

/// cgroup v1 `cpu.cfs_quota_us` (-1: unlimited) over `cpu.cfs_period_us`, in CPUs.
std::optional<double> parse_cfs_quota(std::string_view quota_us, std::string_view period_us);

/// The tightest CPU limit on the cgroups named by `proc_self_cgroup` (the text of
/// /proc/self/cgroup) and their ancestors, with the cgroup file systems mounted under `root`
/// (/sys/fs/cgroup): v2 at `root`, v1's cpu controller at `root`/cpu,cpuacct or `root`/cpu. A
/// directory that does not exist is skipped, so a container that sees its own cgroup as the
/// mount's root (while /proc/self/cgroup names the host's path) still finds its limit there.
std::optional<double> cgroup_cpu_quota(const std::filesystem::path& root,
                                       std::string_view proc_self_cgroup);

}  // namespace switchyard::proxy
