#include "proxy/session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "protocol/authentication.hpp"
#include "protocol/backend_key_data.hpp"
#include "protocol/byte_reader.hpp"
#include "protocol/error_response.hpp"
#include "protocol/query.hpp"
#include "protocol/startup.hpp"
#include "proxy/backend_handler.hpp"
#include "proxy/frame_reader.hpp"
#include "proxy/frontend_handler.hpp"
#include "proxy/logging.hpp"
#include "proxy/relay_state.hpp"
#include "proxy/search_path_value.hpp"
#include "proxy/session_rewrite.hpp"
#include "proxy/socket_calls.hpp"
#include "proxy/upstream_connect.hpp"

namespace switchyard::proxy {
namespace {

using namespace net::experimental::awaitable_operators;

// The peer closed and every byte it sent has been read: a peek finds the end of file at once.
bool closed_while_idle(tcp_socket& socket) {
  char byte;
  return socket_calls::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

// The upstream note of a refused idle_session_timeout (UpstreamNotes).
constexpr std::string_view kIdleRefused = "idle_session_timeout refused";
// A password or SASL message's length word may say at most Postgres's limit on its body
// (PG_MAX_AUTH_TOKEN_LENGTH, 65535 bytes) plus itself; the bound is exclusive.
constexpr std::uint32_t kMaxAuthenticationMessage = 65535 + 4 + 1;
namespace be = protocol::backend;

// The search_path a startup packet sets: a `search_path` parameter of its own (pgjdbc's
// currentSchema), else the last `-c search_path=...` of `options`, as the server applies them;
// empty means the server's default. Only a fallback: a session of a database with migrations
// asks the server, which also applies role and database defaults (learn_search_path).
std::vector<std::string> search_path_from_startup(std::string_view parameter,
                                                  std::string_view options) {
  if (!parameter.empty()) {
    return split_search_path(parameter);
  }
  static constexpr std::string_view kKey = "search_path=";
  auto at = options.rfind(kKey);
  if (at == std::string_view::npos) {
    return {};
  }
  std::string_view value = options.substr(at + kKey.size());
  // The value ends at the next unescaped space (libpq escapes spaces in options with '\').
  std::string raw;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) {
      raw.push_back(value[++i]);
    } else if (value[i] == ' ') {
      break;
    } else {
      raw.push_back(value[i]);
    }
  }
  return split_search_path(raw);
}

std::string endpoint_text(const tcp_socket& socket) {
  error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) {
    return "unknown";
  }
  return remote.address().to_string() + ":" + std::to_string(remote.port());
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp_socket socket, std::shared_ptr<ProxyState> state, WorkerInbox& inbox,
          Metrics& metrics, ClientTransport transport)
      : state_(std::move(state)),
        inbox_(inbox),
        metrics_(metrics),
        off_thread_(state_->blocking_pool, inbox),
        id_(state_->next_session_id()),
        local_(transport == ClientTransport::unix_socket),
        peer_(local_ ? "[local]" : endpoint_text(socket)),
        client_(std::move(socket)) {}

  awaitable<void> run();

 private:
  // upstream_lost: the upstream connection ended before the server said anything, so nothing
  // was relayed and nothing happened on the server: connecting again is safe.
  // idle_parameter_refused: the upstream (a pooler) refused the idle_session_timeout the proxy
  // added to the startup packet, before anything reached the client: connecting again without
  // it is safe.
  enum class Step { next, done, upstream_lost, idle_parameter_refused };

  awaitable<Step> start();
  awaitable<Step> negotiate_startup();
  awaitable<void> forward_cancel(const protocol::CancelRequest& request);
  awaitable<Step> connect_and_authenticate();
  // `last_attempt`: an upstream lost before its first message is reported to the client
  // instead of returned as Step::upstream_lost.
  awaitable<Step> authenticate(bool last_attempt);
  awaitable<bool> learn_search_path();
  bool idle_parameter_refused(const protocol::Frame& frame);
  awaitable<void> relay();
  // `end`: how the direction that decides the end ended (the server's when `upstream`). A
  // reference: a temporary argument would take room in relay()'s frame, which idle sessions
  // hold.
  awaitable<void> finish_relay(const PumpEnd& end, bool upstream);
  // Ends the relay: both directions stop after what they are doing, and their pending reads and
  // writes are cancelled.
  void stop_relay() {
    relay_.relay_over = true;
    error_code ignored;
    client_.socket().cancel(ignored);
    upstream_->socket().cancel(ignored);
    if (relay_.check && relay_.check->wake != nullptr) {
      relay_.check->wake->cancel();  // a Bind waiting for a comparison of result types
    }
    if (relay_.settle_wake != nullptr) {
      relay_.settle_wake->cancel();  // a statement held until earlier answers are in
    }
  }
  awaitable<void> send_error(Stream& stream, std::string_view severity, std::string_view code,
                             std::string_view message);
  // Draining: the session ends at the boundary it is at, or else at the next one (the backend
  // handler stops after relaying that ReadyForQuery). Runs on the session's executor.
  void request_drain() {
    relay_.close_at_boundary = true;
    if (relay_.at_boundary()) {
      // Ends the client pump's wait for a next request; if it is busy instead, it stops by
      // itself once it is done (FrontendHandler::on_written).
      error_code ignored;
      client_.socket().cancel(ignored);
    }
  }

  // The drain timeout: the session ends now, its client told why and a statement still running
  // cancelled (closing the connection alone leaves it running until it next writes). Runs on
  // the session's executor.
  void close_now() {
    relay_.close_at_boundary = true;
    closing_now_ = true;
    if (key_ && relay_.tracker.outstanding() > 0) {
      const protocol::CancelRequest cancel{key_->process_id, key_->secret_key};
      net::co_spawn(
          client_.socket().get_executor(),
          [self = shared_from_this(), cancel]() -> awaitable<void> {
            co_await self->forward_cancel(cancel);
          },
          net::detached);
    }
    stop_relay();
  }

  std::shared_ptr<ProxyState> state_;
  WorkerInbox& inbox_;
  Metrics& metrics_;  // the worker's own block
  const OffThread off_thread_;
  const std::uint64_t id_;
  const bool local_;          // on the unix socket: no TLS there, as with Postgres
  bool closing_now_ = false;  // close_now(): the drain timeout ended the session
  const std::string peer_;
  Stream client_;
  std::unique_ptr<Stream> upstream_;
  std::shared_ptr<const Snapshot> snapshot_;
  // What the session needs until its relay begins, which frees it: on the heap, so that an idle
  // session does not keep it.
  struct Startup {
    TextSettings text_settings;  // the server's, at startup
    FrameReader client_reader;
    FrameReader upstream_reader;
    std::vector<std::byte> packet;
    std::vector<std::byte> packet_without_idle;  // the client's own, when idle_client added one
    bool awaiting_upstream = false;              // what the startup timeout interrupted
    std::string user;
    std::string database;
    std::vector<std::string> search_path;
  };
  std::unique_ptr<Startup> startup_ = std::make_unique<Startup>();
  std::optional<protocol::BackendKeyData> key_;
  RelayState relay_;
};

awaitable<void> Session::send_error(Stream& stream, std::string_view severity,
                                    std::string_view code, std::string_view message) {
  protocol::Notice notice;
  notice.severity = std::string(severity);
  notice.code = std::string(code);
  notice.message = std::string(message);
  protocol::MessageWriter writer;
  protocol::encode_error_response(writer, notice);
  co_await stream.write(net::buffer(writer.data().data(), writer.size()));
}

awaitable<Session::Step> Session::negotiate_startup() {
  bool tls_negotiated = false;
  bool gss_negotiated = false;
  // SSLRequest, then GSSENCRequest, then the StartupMessage: at most three packets.
  for (int round = 0; round < 3; ++round) {
    auto result = co_await startup_->client_reader.next(client_, FrameReader::Phase::startup);
    if (auto* failure = std::get_if<FrameReader::Failure>(&result)) {
      if (failure->frame) {
        spdlog::warn("event=protocol_violation session={} client={} reason={}", id_, peer_,
                     log_value("invalid startup packet length"));
        co_await send_error(client_, "FATAL", "08P01", "invalid length of startup packet");
      }
      co_return Step::done;
    }
    const auto& frame = std::get<protocol::Frame>(result);
    auto packet = protocol::decode_startup(frame.body);

    if (std::holds_alternative<protocol::SslRequest>(packet)) {
      if (tls_negotiated || client_.is_tls()) {
        co_await send_error(client_, "FATAL", "08P01", "SSLRequest received twice");
        co_return Step::done;
      }
      tls_negotiated = true;
      if (!snapshot_->client_tls || local_) {
        char no = 'N';
        co_await client_.write(net::buffer(&no, 1));
        continue;
      }
      // Bytes sent after SSLRequest but before the handshake were not protected by TLS;
      // treating them as part of the encrypted session is the CVE-2021-23214 bug class.
      if (startup_->client_reader.has_leftover()) {
        spdlog::warn("event=protocol_violation session={} client={} reason={}", id_, peer_,
                     log_value("data pipelined after SSLRequest"));
        co_await send_error(client_, "FATAL", "08P01",
                            "received unencrypted data after SSL request");
        co_return Step::done;
      }
      char yes = 'S';
      if (co_await client_.write(net::buffer(&yes, 1))) {
        co_return Step::done;
      }
      if (auto ec = co_await client_.handshake_as_server(*snapshot_->client_tls)) {
        metrics_.connections_rejected.fetch_add(1, std::memory_order_relaxed);
        spdlog::info("event=tls_handshake_failed session={} client={} error={}", id_, peer_,
                     log_value(ec.message()));
        co_return Step::done;
      }
      continue;
    }
    if (std::holds_alternative<protocol::GssEncRequest>(packet)) {
      if (gss_negotiated) {
        co_await send_error(client_, "FATAL", "08P01", "GSSENCRequest received twice");
        co_return Step::done;
      }
      gss_negotiated = true;
      char no = 'N';
      co_await client_.write(net::buffer(&no, 1));
      continue;
    }
    if (auto* cancel = std::get_if<protocol::CancelRequest>(&packet)) {
      co_await forward_cancel(*cancel);
      co_return Step::done;
    }
    if (auto* error = std::get_if<protocol::StartupDecodeError>(&packet)) {
      spdlog::warn("event=protocol_violation session={} client={} reason={}", id_, peer_,
                   log_value(error->reason));
      co_await send_error(client_, "FATAL", "08P01", error->reason);
      co_return Step::done;
    }
    const auto& startup = std::get<protocol::StartupMessage>(packet);
    startup_->user = std::string(startup.get("user"));
    startup_->database = std::string(startup.get("database"));
    if (startup_->database.empty()) {
      startup_->database = startup_->user;
    }
    startup_->search_path =
        search_path_from_startup(startup.get("search_path"), startup.get("options"));
    const auto idle = snapshot_->config->timeouts.idle_client;
    const auto* raw = frame.body.data() - 4;
    startup_->packet.assign(raw, raw + frame.size);
    if (idle.count() > 0 && startup.get("idle_session_timeout").empty() &&
        startup.get("options").find("idle_session_timeout") == std::string_view::npos &&
        !state_->upstream_notes.has(std::string(kIdleRefused),
                                    snapshot_->config->upstream.address.to_string())) {
      // The server closes a session idle outside a transaction with its own FATAL (57P05),
      // which the relay passes on: nothing to time on the statement path, and the setting is
      // the session's default, so RESET ALL keeps it.
      protocol::StartupMessage with = startup;
      with.parameters.emplace_back("idle_session_timeout", std::to_string(idle.count()));
      protocol::MessageWriter w;
      protocol::encode_startup(w, with);
      startup_->packet_without_idle = std::move(startup_->packet);
      startup_->packet.assign(w.data().begin(), w.data().end());
    }
    co_return Step::next;
  }
  co_await send_error(client_, "FATAL", "08P01", "too many startup negotiation packets");
  co_return Step::done;
}

awaitable<void> Session::forward_cancel(const protocol::CancelRequest& request) {
  metrics_.cancel_requests.fetch_add(1, std::memory_order_relaxed);
  auto target = state_->cancels.find(request.process_id, request.secret_key);
  if (!target) {
    // Like Postgres, say nothing to the sender: a wrong key must not be probeable.
    spdlog::info("event=cancel_ignored session={} client={} reason=unknown_key", id_, peer_);
    co_return;
  }
  auto connected = co_await connect_socket(*target, off_thread_);
  if (auto* error = std::get_if<std::string>(&connected)) {
    spdlog::warn("event=cancel_failed session={} error={}", id_, log_value(*error));
    co_return;
  }
  auto& socket = std::get<tcp_socket>(connected);
  protocol::MessageWriter writer;
  protocol::encode_cancel_request(writer, request);
  auto [ec, n] = co_await net::async_write(socket, net::buffer(writer.data().data(), writer.size()),
                                           use_nothrow);
  if (!ec) {
    // Postgres closes the connection once it has delivered the cancel: wait for that (bounded
    // by the startup timeout) so the client's cancel has taken effect when it hears back.
    std::byte sink[16];
    co_await socket.async_read_some(net::buffer(sink), use_nothrow);
  }
  spdlog::info("event=cancel_forwarded session={} backend_pid={} upstream={}", id_,
               request.process_id, target->to_string());
}

// A connection the upstream ends before its first message (or before its answer to
// SSLRequest) is connected again, a few times within the startup timeout: the server never saw
// the session, and the client has been told nothing yet. When a burst of connects (a thousand
// clients reconnecting at once after a deploy) overflows the server's listen queue, the kernel
// resets some of them that way.
awaitable<Session::Step> Session::connect_and_authenticate() {
  startup_->awaiting_upstream = true;
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    const bool last_attempt = attempt >= kAttempts;
    auto connected = co_await connect_upstream(*snapshot_, off_thread_);
    std::string_view reason;
    if (auto* failure = std::get_if<ConnectFailure>(&connected)) {
      if (!failure->unanswered || last_attempt) {
        metrics_.upstream_connect_failures.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("event=upstream_connect_failed session={} client={} error={}", id_, peer_,
                     log_value(failure->message));
        co_await send_error(client_, "FATAL", "08006", failure->message);
        co_return Step::done;
      }
      reason = "upstream closed before answering SSLRequest";
    } else {
      upstream_ = std::move(std::get<std::unique_ptr<Stream>>(connected));
      const Step step = co_await authenticate(last_attempt);
      if (step == Step::idle_parameter_refused) {
        startup_->packet = std::exchange(startup_->packet_without_idle, {});
        reason = "upstream refused the startup parameter idle_session_timeout";
      } else if (step != Step::upstream_lost) {
        co_return step;
      } else {
        reason = "upstream closed before its first message";
      }
    }
    // The startup timeout ended the wait: the caller answers the client.
    if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
      co_return Step::done;
    }
    metrics_.upstream_reconnects.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("event=upstream_reconnect session={} client={} attempt={} reason={}", id_, peer_,
                 attempt + 1, log_value(reason));
    upstream_.reset();
    startup_->upstream_reader.release();
    // A short pause, longer each time and different per session, so that connections refused
    // together are not all made again at the same moment.
    steady_timer pause(client_.socket().get_executor());
    pause.expires_after(std::chrono::milliseconds(20 * attempt + static_cast<int>(id_ % 20)));
    co_await pause.async_wait(use_nothrow);
  }
}

awaitable<Session::Step> Session::authenticate(bool last_attempt) {
  if (co_await upstream_->write(net::buffer(startup_->packet))) {
    if (!last_attempt) {
      co_return Step::upstream_lost;
    }
    co_await send_error(client_, "FATAL", "08006", "upstream closed the connection at startup");
    co_return Step::done;
  }
  bool heard = false;  // a first message from the server: the startup packet is not needed again
  protocol::MessageWriter pending;  // messages for the client, flushed before waiting
  auto flush = [&]() -> awaitable<bool> {
    if (pending.size() == 0) {
      co_return true;
    }
    auto ec = co_await client_.write(net::buffer(pending.data().data(), pending.size()));
    pending.clear();
    co_return !ec;
  };
  auto append = [&](const protocol::Frame& frame) {
    pending.bytes(std::span<const std::byte>(frame.body.data() - 5, frame.size));
  };

  bool server_asked_for_credentials = false;
  for (;;) {
    if (!startup_->upstream_reader.has_leftover() && !co_await flush()) {
      co_return Step::done;
    }
    auto result = co_await startup_->upstream_reader.next(*upstream_, FrameReader::Phase::normal);
    if (std::holds_alternative<FrameReader::Failure>(result)) {
      if (!heard && !last_attempt && !startup_->upstream_reader.has_leftover()) {
        co_return Step::upstream_lost;
      }
      co_await flush();
      co_await send_error(client_, "FATAL", "08006",
                          "upstream " + snapshot_->config->upstream.address.to_string() +
                              " closed the connection during authentication");
      co_return Step::done;
    }
    const auto& frame = std::get<protocol::Frame>(result);
    if (!heard && frame.type == be::kErrorResponse && idle_parameter_refused(frame)) {
      co_return Step::idle_parameter_refused;
    }
    if (!heard) {
      heard = true;
      std::vector<std::byte>().swap(startup_->packet);  // `= {}` would keep the capacity
      std::vector<std::byte>().swap(startup_->packet_without_idle);
    }
    switch (frame.type) {
      case be::kAuthentication: {
        auto code = protocol::decode_auth_code(frame.body).value_or(-1);
        if (code == static_cast<std::int32_t>(protocol::AuthCode::ok) &&
            !server_asked_for_credentials && snapshot_->config->upstream.address.is_unix()) {
          // On a unix socket, pg_hba's peer (and trust) admit the connecting process, which is
          // Switchyard: passing that on would let every client of the proxy in as any user it
          // names.
          spdlog::warn(
              "event=auth_refused session={} client={} user={} "
              "reason=no_credentials_on_unix_socket",
              id_, peer_, log_value(startup_->user));
          co_await send_error(
              client_, "FATAL", "28000",
              "Switchyard refused the connection: upstream " +
                  snapshot_->config->upstream.address.to_string() + " admitted user \"" +
                  startup_->user +
                  "\" without a password (pg_hba.conf peer or trust on its unix socket), which "
                  "would admit every client of the proxy; give the proxy's local connections a "
                  "password method (scram-sha-256) or use a TCP upstream address");
          co_return Step::done;
        }
        server_asked_for_credentials = true;
        if (code == static_cast<std::int32_t>(protocol::AuthCode::sasl)) {
          // Channel binding binds to the TLS connection the server sees, which is ours, not the
          // client's: a -PLUS exchange through a proxy can only fail, so it is never offered.
          auto rewritten = protocol::encode_sasl_without_plus(frame.body);
          pending.bytes(std::span<const std::byte>(rewritten));
        } else {
          append(frame);
        }
        if (code == static_cast<std::int32_t>(protocol::AuthCode::ok) ||
            code == static_cast<std::int32_t>(protocol::AuthCode::sasl_final)) {
          break;
        }
        // Every other request expects one answer from the client.
        if (!co_await flush()) {
          co_return Step::done;
        }
        startup_->awaiting_upstream = false;
        // Bounded as Postgres bounds it (64 KiB): the client has not authenticated yet.
        auto answer = co_await startup_->client_reader.next(client_, FrameReader::Phase::normal,
                                                            kMaxAuthenticationMessage);
        // Not before the check: the startup timeout ends this read, and must blame the client.
        if (auto* failure = std::get_if<FrameReader::Failure>(&answer)) {
          if (failure->frame) {
            spdlog::warn("event=protocol_violation session={} client={} reason={}", id_, peer_,
                         log_value("authentication message too long"));
            co_await send_error(client_, "FATAL", "08P01",
                                "invalid length of authentication message");
          }
          co_return Step::done;
        }
        startup_->awaiting_upstream = true;
        const auto& response = std::get<protocol::Frame>(answer);
        if (response.type != protocol::frontend::kPassword) {
          co_await send_error(client_, "FATAL", "08P01",
                              "expected an authentication response, got message type '" +
                                  std::string(1, response.type) + "'");
          co_return Step::done;
        }
        if (co_await upstream_->write(net::buffer(response.body.data() - 5, response.size))) {
          co_return Step::done;
        }
        break;
      }
      case be::kBackendKeyData:
        if (auto key = protocol::decode_backend_key_data(frame.body)) {
          key_ = *key;
          state_->cancels.add(key->process_id, key->secret_key,
                              snapshot_->config->upstream.address);
        }
        append(frame);
        break;
      case be::kErrorResponse:
        append(frame);
        co_await flush();
        co_return Step::done;
      case be::kReadyForQuery:
        append(frame);
        if (!snapshot_->config->migrations.empty() && !co_await learn_search_path()) {
          // Not the held ReadyForQuery: the session never became ready.
          co_await send_error(client_, "FATAL", "08006",
                              "upstream " + snapshot_->config->upstream.address.to_string() +
                                  " closed the connection at startup");
          co_return Step::done;
        }
        if (!co_await flush()) {
          co_return Step::done;
        }
        co_return Step::next;
      default:  // ParameterStatus, NoticeResponse, NegotiateProtocolVersion
        if (frame.type == be::kParameterStatus) {
          startup_->text_settings.follow(frame.body);
        }
        append(frame);
        break;
    }
  }
}

// PgBouncer (and other poolers by default) refuse a startup parameter they do not know with a
// FATAL naming it; only its first message can be that refusal, so nothing reached the client.
bool Session::idle_parameter_refused(const protocol::Frame& frame) {
  if (startup_->packet_without_idle.empty()) {
    return false;
  }
  auto notice = protocol::decode_notice(frame.body);
  if (!notice || notice->message.find("idle_session_timeout") == std::string::npos) {
    return false;
  }
  const std::string upstream = snapshot_->config->upstream.address.to_string();
  if (state_->upstream_notes.record(std::string(kIdleRefused), upstream)) {
    spdlog::warn(
        "event=idle_client_unsupported_by_upstream session={} upstream={} error={} "
        "reason=\"the upstream refused the idle_session_timeout that [timeouts] idle_client "
        "adds to the startup packet; sessions connect without it, so idle_client is NOT in "
        "force. A pooler in between: set its ignore_startup_parameters to include "
        "idle_session_timeout (which also leaves idle_client without effect) or unset "
        "idle_client\"",
        id_, log_value(upstream), log_value(notice->message));
  }
  return true;
}

// Which tables a session's unqualified names mean depends on its search_path, which role and
// database defaults (ALTER ROLE / DATABASE ... SET), the server's configuration and the startup
// packet decide together: only the server knows the result. Asked once, before the client hears
// ReadyForQuery, so that nothing of the client's is in flight; false when the upstream is lost.
// The backend's pid rides along in the same round trip: a pooler between us and Postgres sends
// a BackendKeyData of its own, and unless it pins one backend to the session (session mode)
// the path asked here is not the path the session's statements run under.
awaitable<bool> Session::learn_search_path() {
  protocol::MessageWriter query;
  protocol::encode_query(
      query, "SELECT pg_catalog.current_setting('search_path'), pg_catalog.pg_backend_pid()");
  if (co_await upstream_->write(net::buffer(query.data().data(), query.size()))) {
    co_return false;
  }
  std::optional<std::string> value;
  std::optional<std::string> backend_pid;
  for (;;) {
    auto result = co_await startup_->upstream_reader.next(*upstream_, FrameReader::Phase::normal);
    if (std::holds_alternative<FrameReader::Failure>(result)) {
      co_return false;
    }
    const auto& frame = std::get<protocol::Frame>(result);
    if (frame.type == be::kReadyForQuery) {
      break;
    }
    if (frame.type == be::kDataRow) {
      protocol::ByteReader row(frame.body);
      const auto columns = row.i16().value_or(0);
      for (std::int16_t column = 0; column < std::min<std::int16_t>(columns, 2); ++column) {
        const auto length = row.i32().value_or(-1);
        auto text = length >= 0 ? row.bytes(static_cast<std::size_t>(length)) : std::nullopt;
        if (!text) {
          break;
        }
        (column == 0 ? value : backend_pid)
            .emplace(reinterpret_cast<const char*>(text->data()), text->size());
      }
    }
    // RowDescription, CommandComplete; an ErrorResponse leaves the path the startup packet set.
  }
  if (backend_pid && key_ && *backend_pid != std::to_string(key_->process_id)) {
    const std::string upstream = snapshot_->config->upstream.address.to_string();
    if (state_->upstream_notes.record("pooler", upstream)) {
      spdlog::warn(
          "event=upstream_pooler session={} upstream={} backend_pid={} relayed_pid={} "
          "reason=\"the server's pg_backend_pid() is not the pid its BackendKeyData gave: a "
          "pooler sits between Switchyard and Postgres. It must be in session mode: behind "
          "a transaction- or statement-mode pooler the search_path, role and prepared "
          "statements Switchyard rewrites for are another backend's (put that pooler in "
          "front of Switchyard instead, docs/operations.md)\"",
          id_, log_value(upstream), *backend_pid, key_->process_id);
    }
  }
  if (value) {
    startup_->search_path = split_search_path(*value);
  } else {
    spdlog::warn(
        "event=search_path_unknown session={} user={} reason=\"SHOW search_path gave no "
        "value\": unqualified names resolve with the startup packet's search_path",
        id_, log_value(startup_->user));
  }
  co_return true;
}

awaitable<void> Session::relay() {
  SessionRewrite rewrite(*state_, metrics_, off_thread_, std::move(startup_->user),
                         std::move(startup_->database), std::move(startup_->search_path));
  rewrite.set_snapshot(snapshot_);
  rewrite.set_standard_strings(startup_->text_settings.standard_strings);
  rewrite.set_server_encoding(startup_->text_settings.server_encoding);
  rewrite.set_client_encoding(startup_->text_settings.client_encoding);
  FrontendHandler frontend(relay_, metrics_, rewrite, id_);
  BackendHandler backend(relay_, metrics_, rewrite);
  backend.set_encodings(startup_->text_settings);
  std::vector<std::byte> client_leftover(startup_->client_reader.leftover().begin(),
                                         startup_->client_reader.leftover().end());
  std::vector<std::byte> upstream_leftover(startup_->upstream_reader.leftover().begin(),
                                           startup_->upstream_reader.leftover().end());
  startup_.reset();

  state_->sessions.add(id_, inbox_, [weak = weak_from_this()](bool now) {
    if (auto self = weak.lock()) {
      if (now) {
        self->close_now();
      } else {
        self->request_drain();
      }
    }
  });
  if (state_->draining()) {
    state_->sessions.remove(id_);
    co_await send_error(client_, "FATAL", "57P01",
                        "terminating connection because Switchyard is shutting down");
    co_return;
  }

  // Server to client runs as a coroutine of its own, client to server in this one, and the
  // first to end stops the other. Written out rather than `pump || pump`: every idle session
  // holds the frames of this wait, and the operator costs a parallel group, a second spawned
  // coroutine and a frame of its own, about 2 KiB per client. Both run on this session's
  // thread, so the plain fields below need no lock.
  std::optional<PumpEnd> upstream_end;
  std::exception_ptr upstream_failure;
  bool client_ended = false;
  // An event: it never expires by itself; the server pump's end cancels the wait.
  steady_timer upstream_finished(client_.socket().get_executor(), steady_timer::time_point::max());
  net::co_spawn(client_.socket().get_executor(),
                pump(*upstream_, client_, backend, upstream_leftover),
                [&](std::exception_ptr failure, PumpEnd end) {
                  upstream_end = end;
                  upstream_failure = failure;
                  upstream_finished.cancel();
                  if (!client_ended) {
                    stop_relay();
                  }
                });

  PumpEnd client_end;
  std::exception_ptr client_failure;
  try {
    client_end = co_await pump(client_, *upstream_, frontend, client_leftover);
  } catch (...) {
    client_failure = std::current_exception();
  }
  client_ended = true;
  if (!upstream_end && !client_failure && relay_.terminate_sent && !client_end.malformed) {
    // Postgres answers what came before a Terminate, then closes: keep the other direction
    // running until it does (a client may pipeline Query and Terminate), within a bound.
    // The server's close can come with its last ReadyForQuery; the server pump's read then
    // waits for an epoll edge that close already spent (drained_read.hpp), so the wait looks
    // for the end of file itself now and then, and ends that read when it is there.
    static constexpr std::chrono::milliseconds kEndOfFileCheck{20};
    const auto deadline = std::chrono::steady_clock::now() + snapshot_->config->timeouts.connect;
    while (!upstream_end && std::chrono::steady_clock::now() < deadline) {
      upstream_finished.expires_after(std::min<std::chrono::steady_clock::duration>(
          kEndOfFileCheck, deadline - std::chrono::steady_clock::now()));
      co_await upstream_finished.async_wait(use_nothrow);
      if (!upstream_end && !upstream_->is_tls() && closed_while_idle(upstream_->socket())) {
        error_code ignored;
        upstream_->socket().cancel(ignored);
      }
    }
  }
  // The server's end decides when it came first, or as the answer to a Terminate.
  const bool upstream_decides = upstream_end.has_value();
  if (!upstream_end) {
    stop_relay();
    upstream_finished.expires_at(steady_timer::time_point::max());
    while (!upstream_end) {
      co_await upstream_finished.async_wait(use_nothrow);
    }
  }
  state_->sessions.remove(id_);
  if (client_failure) {
    std::rethrow_exception(client_failure);
  }
  if (upstream_failure) {
    std::rethrow_exception(upstream_failure);
  }
  if (upstream_decides) {
    co_await finish_relay(*upstream_end, true);
  } else {
    co_await finish_relay(client_end, false);
  }
}

awaitable<void> Session::finish_relay(const PumpEnd& end, bool upstream) {
  if (closing_now_) {
    co_await send_error(client_, "FATAL", "57P01",
                        "terminating connection because Switchyard is shutting down (drain "
                        "timeout)");
    if (!relay_.terminate_sent) {
      std::array<std::byte, 5> terminate{std::byte{'X'}, std::byte{0}, std::byte{0}, std::byte{0},
                                         std::byte{4}};
      co_await upstream_->write(net::buffer(terminate));
    }
    co_return;
  }
  if (!upstream) {
    if (end.malformed) {
      spdlog::warn("event=protocol_violation session={} client={} reason={}", id_, peer_,
                   log_value(std::string("client sent a message with an ") +
                             std::string(protocol::to_string(*end.malformed))));
      metrics_.connections_rejected.fetch_add(1, std::memory_order_relaxed);
      co_await send_error(client_, "FATAL", "08P01", "invalid message length");
    } else if (relay_.close_at_boundary && !relay_.terminate_sent &&
               (end.stopped || end.io == net::error::operation_aborted)) {
      // Ended by a drain at a boundary (request_drain), not by the client.
      co_await send_error(client_, "FATAL", "57P01",
                          "terminating connection because Switchyard is shutting down");
    }
    // The client left (or sent Terminate, or is being drained): tell the backend, so it ends
    // cleanly.
    if (!relay_.terminate_sent) {
      std::array<std::byte, 5> terminate{std::byte{'X'}, std::byte{0}, std::byte{0}, std::byte{0},
                                         std::byte{4}};
      co_await upstream_->write(net::buffer(terminate));
    }
    co_return;
  }
  if (end.malformed) {
    spdlog::error("event=upstream_protocol_violation session={} reason={}", id_,
                  log_value(std::string(protocol::to_string(*end.malformed))));
    co_await send_error(client_, "FATAL", "08P01", "upstream sent an invalid message");
  } else if (end.stopped) {
    co_await send_error(client_, "FATAL", "57P01",
                        "terminating connection because Switchyard is shutting down");
  }
}

awaitable<Session::Step> Session::start() {
  const auto& config = *snapshot_->config;
  // Startup, upstream connect and auth together must finish within the startup timeout, so a
  // client that connects and sends nothing (or trickles bytes) cannot hold a slot.
  steady_timer deadline(client_.socket().get_executor());
  deadline.expires_after(config.timeouts.startup);
  auto setup = [this]() -> awaitable<Step> {
    if (co_await negotiate_startup() == Step::done) {
      co_return Step::done;
    }
    co_return co_await connect_and_authenticate();
  };
  auto outcome = co_await (setup() || deadline.async_wait(use_nothrow));
  if (outcome.index() == 0) {
    co_return std::get<0>(outcome);
  }
  metrics_.connections_rejected.fetch_add(1, std::memory_order_relaxed);
  const std::string upstream = config.upstream.address.to_string();
  spdlog::info(
      "event=startup_timeout session={} client={} timeout_ms={} waiting_for={}", id_, peer_,
      config.timeouts.startup.count(),
      startup_->awaiting_upstream ? log_value("upstream " + upstream) : log_value("client"));
  // A pooler upstream that queues the connection (all its server connections busy) makes the
  // client wait here: say so, since the client cannot tell it from a slow proxy. A named
  // string: GCC 12 destroys a conditional's temporary in a co_await expression twice.
  std::string message = "timed out during connection startup";
  if (startup_->awaiting_upstream) {
    message += " waiting for upstream " + upstream +
               " to answer (a pooler queueing the connection, or a busy server; [timeouts] "
               "startup = " +
               std::to_string(config.timeouts.startup.count()) + " ms)";
  } else {
    message +=
        " waiting for the client to send its startup packet or its answer to the "
        "server's authentication request ([timeouts] startup = " +
        std::to_string(config.timeouts.startup.count()) + " ms)";
  }
  co_await send_error(client_, "FATAL", "08006", message);
  co_return Step::done;
}

awaitable<void> Session::run() {
  snapshot_ = state_->snapshot();
  // start() is a coroutine of its own so that its frame (the deadline, the parallel wait) is
  // freed before the relay: run()'s frame lives as long as the session, idle or not.
  if (co_await start() == Step::next) {
    spdlog::info("event=session_start session={} client={} user={} database={} tls={}", id_, peer_,
                 log_value(startup_->user), log_value(startup_->database),
                 client_.is_tls() ? client_.tls_version() : "off");
    const auto started = std::chrono::steady_clock::now();
    co_await relay();
    const std::chrono::duration<double> lasted = std::chrono::steady_clock::now() - started;
    spdlog::info("event=session_end session={} client={} seconds={:.3f}", id_, peer_,
                 lasted.count());
  }
  if (key_) {
    state_->cancels.remove(key_->process_id, key_->secret_key);
  }
  if (upstream_) {
    upstream_->close();
  }
  client_.close();
}

// The Session lives in this frame, of internal linkage, not in run_session's (GCC warns
// -Wsubobject-linkage of an anonymous namespace's type there). References, not values: a
// temporary in a co_await expression may be destroyed twice by GCC 12.
awaitable<void> serve(tcp_socket& client, const std::shared_ptr<ProxyState>& state,
                      WorkerInbox& inbox, Metrics& metrics, ClientTransport transport) {
  auto session = std::make_shared<Session>(std::move(client), state, inbox, metrics, transport);
  co_await session->run();
}

}  // namespace

awaitable<void> run_session(tcp_socket client, std::shared_ptr<ProxyState> state,
                            WorkerInbox& inbox, Metrics& metrics, ClientTransport transport) {
  error_code ignored;
  client.set_option(tcp::no_delay(true), ignored);
  // A client whose host vanished, or that half-closed and went away while the relay waited
  // for it without reading (proxy/drained_read.hpp), is found by the kernel's keepalive probes
  // (net.ipv4.tcp_keepalive_time) rather than holding its session and upstream forever.
  client.set_option(tcp_socket::keep_alive(true), ignored);
  metrics.connections_total.fetch_add(1, std::memory_order_relaxed);
  metrics.connections_active.fetch_add(1, std::memory_order_relaxed);
  try {
    co_await serve(client, state, inbox, metrics, transport);
  } catch (const std::exception& e) {
    spdlog::error("event=session_failed error={}", log_value(e.what()));
  }
  metrics.connections_active.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace switchyard::proxy
