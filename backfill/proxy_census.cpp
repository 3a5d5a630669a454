#include "backfill/proxy_census.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

namespace switchyard::backfill {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

using Clock = std::chrono::steady_clock;

// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) {
    return false;
  }
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(left.count())) == 1 && (p.revents & events) != 0;
}

}  // namespace

std::optional<std::uint64_t> sessions_on_old_generation(std::string_view reply) {
  if (!reply.starts_with("HTTP/1.") || reply.size() < 12 || reply.substr(9, 3) != "200") {
    return std::nullopt;
  }
  constexpr std::string_view kKey = "\"sessions_on_old_generation\":";
  const auto at = reply.find(kKey);
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view digits = reply.substr(at + kKey.size());
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end == digits.data()) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> runs_other_config(std::string_view reply,
                                             const config::Migration& migration) {
  if (sessions_on_old_generation(reply) == std::nullopt) {
    return std::nullopt;  // not a /config page we know
  }
  if (reply.find("\"last_reload\":{\"result\":\"failed\"") != std::string_view::npos) {
    return std::string(
        "the proxy's last reload failed, so it runs an earlier config than this file (its "
        "/config last_reload says why): a backfill by this file's transforms or flags may fill "
        "other values than the proxy writes. Fix the file until a reload succeeds "
        "(switchyard_config_last_reload_success 1), then backfill");
  }
  const auto flags = reply.find("\"flags\":{");
  const auto end = reply.find("\"warnings\":", flags);
  if (flags == std::string_view::npos || end == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string expected = "\"" + migration.name + "\":{\"writes\":\"" +
                               std::string(config::to_string(migration.writes)) +
                               "\",\"reads\":\"" + std::string(config::to_string(migration.reads)) +
                               "\"";
  if (reply.substr(flags, end - flags).find(expected) == std::string_view::npos) {
    return "the proxy runs other flags for migration \"" + migration.name +
           "\" than this file says (writes = \"" +
           std::string(config::to_string(migration.writes)) + "\", reads = \"" +
           std::string(config::to_string(migration.reads)) +
           "\"): reload it, or point --config at the file it runs";
  }
  return std::nullopt;
}

std::variant<ProxyAnswer, std::string> ask_sessions_on_old_generation(
    const config::Endpoint& admin, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string host = admin.host.empty() || admin.host == "0.0.0.0" || admin.host == "::"
                               ? "127.0.0.1"
                               : admin.host;
  const std::string where = host + ":" + std::to_string(admin.port);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(admin.port).c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return "cannot resolve " + where;
  }
  Fd socket{::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK, found->ai_protocol)};
  const int connected =
      socket.fd < 0 ? -1 : ::connect(socket.fd, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (socket.fd < 0 || (connected != 0 && errno != EINPROGRESS)) {
    return "cannot connect to " + where + ": " + std::strerror(errno);
  }
  int error = 0;
  socklen_t length = sizeof error;
  if (!wait_for(socket.fd, POLLOUT, deadline) ||
      ::getsockopt(socket.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    return "no connection to " + where + " within " + std::to_string(timeout.count()) + " ms";
  }
  if (error != 0) {
    return "cannot connect to " + where + ": " + std::strerror(error);  // refused, unreachable
  }
  const std::string request =
      "GET /config HTTP/1.1\r\nHost: " + where + "\r\nConnection: close\r\n\r\n";
  if (::send(socket.fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return "cannot send to " + where;
  }
  std::string reply;
  char buffer[16384];
  // The whole reply: the count sits after the flags, near the end of the page.
  while (wait_for(socket.fd, POLLIN, deadline)) {
    const ssize_t n = ::recv(socket.fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      break;
    }
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  if (auto count = sessions_on_old_generation(reply)) {
    return ProxyAnswer{*count, std::move(reply)};
  }
  return "no sessions_on_old_generation in the answer of " + where + "/config";
}

}  // namespace switchyard::backfill
