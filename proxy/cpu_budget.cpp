#include "proxy/cpu_budget.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace switchyard::proxy {
namespace {

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::optional<long long> whole_number(std::string_view text) {
  text = trimmed(text);
  long long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> ratio(std::optional<long long> quota, std::optional<long long> period) {
  if (!quota || !period || *quota <= 0 || *period <= 0) {
    return std::nullopt;
  }
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

std::optional<std::string> read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::optional<double> tighter(std::optional<double> a, std::optional<double> b) {
  if (!a) {
    return b;
  }
  if (!b) {
    return a;
  }
  return std::min(*a, *b);
}

/// `dir`/`relative` and each ancestor up to `dir`, deepest first.
std::vector<std::filesystem::path> with_ancestors(const std::filesystem::path& dir,
                                                  std::string_view relative) {
  std::vector<std::filesystem::path> out;
  std::filesystem::path path = std::filesystem::path(std::string(relative)).relative_path();
  for (;;) {
    out.push_back(dir / path);
    if (path.empty()) {
      return out;
    }
    path = path.has_parent_path() ? path.parent_path() : std::filesystem::path{};
  }
}

bool names_cpu_controller(std::string_view controllers) {
  while (!controllers.empty()) {
    const auto comma = controllers.find(',');
    if (controllers.substr(0, comma) == "cpu") {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    controllers.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<double> v2_quota(const std::filesystem::path& root, std::string_view relative) {
  std::optional<double> limit;
  for (const auto& dir : with_ancestors(root, relative)) {
    if (auto text = read_text(dir / "cpu.max")) {
      limit = tighter(limit, parse_cpu_max(*text));
    }
  }
  return limit;
}

std::optional<double> v1_quota(const std::filesystem::path& root, std::string_view controllers,
                               std::string_view relative) {
  // Mounted under the controllers' names (Debian, Docker: cpu,cpuacct, with a cpu link).
  std::filesystem::path mount = root / std::string(controllers);
  std::error_code ignored;
  if (!std::filesystem::is_directory(mount, ignored)) {
    mount = root / "cpu";
  }
  std::optional<double> limit;
  for (const auto& dir : with_ancestors(mount, relative)) {
    auto quota = read_text(dir / "cpu.cfs_quota_us");
    auto period = read_text(dir / "cpu.cfs_period_us");
    if (quota && period) {
      limit = tighter(limit, parse_cfs_quota(*quota, *period));
    }
  }
  return limit;
}

unsigned allowed_cpus(unsigned online) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    return online;  // more CPUs than a cpu_set_t holds: the mask is not the limit then
  }
  return static_cast<unsigned>(std::max(1, CPU_COUNT(&set)));
}

}  // namespace

unsigned CpuBudget::threads() const {
  const unsigned count = std::max(1u, allowed);
  // A quota is positive (parse_cpu_max, parse_cfs_quota), so rounded up it is at least one.
  if (quota && std::ceil(*quota) < static_cast<double>(count)) {
    return static_cast<unsigned>(std::ceil(*quota));
  }
  return count;
}

std::optional<double> parse_cpu_max(std::string_view text) {
  text = trimmed(text);
  const auto space = text.find(' ');
  if (space == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view quota = text.substr(0, space);
  if (quota == "max") {
    return std::nullopt;
  }
  return ratio(whole_number(quota), whole_number(text.substr(space + 1)));
}

std::optional<double> parse_cfs_quota(std::string_view quota_us, std::string_view period_us) {
  return ratio(whole_number(quota_us), whole_number(period_us));
}

std::optional<double> cgroup_cpu_quota(const std::filesystem::path& root,
                                       std::string_view proc_self_cgroup) {
  std::optional<double> limit;
  while (!proc_self_cgroup.empty()) {
    const auto newline = proc_self_cgroup.find('\n');
    const std::string_view line = proc_self_cgroup.substr(0, newline);
    proc_self_cgroup.remove_prefix(newline == std::string_view::npos ? proc_self_cgroup.size()
                                                                     : newline + 1);
    // hierarchy-ID:controllers:path; the path may itself hold ':'.
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) {
      continue;
    }
    const std::string_view id = line.substr(0, first);
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    if (id == "0" && controllers.empty()) {
      limit = tighter(limit, v2_quota(root, path));
    } else if (names_cpu_controller(controllers)) {
      limit = tighter(limit, v1_quota(root, controllers, path));
    }
  }
  return limit;
}

CpuBudget cpu_budget() {
  CpuBudget budget;
  budget.online = std::max(1u, std::thread::hardware_concurrency());
  budget.allowed = allowed_cpus(budget.online);
  if (auto self = read_text("/proc/self/cgroup")) {
    budget.quota = cgroup_cpu_quota("/sys/fs/cgroup", *self);
  }
  return budget;
}

}  // namespace switchyard::proxy
