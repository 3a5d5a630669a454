// Every decoder fed deterministic random bytes: nothing may crash (run under
// SWITCHYARD_SANITIZE to catch out-of-bounds reads), and whatever a strict
// decoder accepts must re-encode to exactly the bytes it came from.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "protocol/authentication.hpp"
#include "protocol/backend_key_data.hpp"
#include "protocol/bind.hpp"
#include "protocol/copy_response.hpp"
#include "protocol/describe_close.hpp"
#include "protocol/error_response.hpp"
#include "protocol/execute.hpp"
#include "protocol/parameter_status.hpp"
#include "protocol/parse.hpp"
#include "protocol/query.hpp"
#include "protocol/ready_for_query.hpp"
#include "protocol/startup.hpp"
#include "protocol/transaction_state.hpp"
#include "test_bytes.hpp"

namespace switchyard::protocol {
namespace {

using test::as_string;

// Random bodies drawn from a small alphabet rich in NULs and format bytes, so
// that well-formed bodies turn up often enough to exercise the re-encoding.
std::vector<std::vector<std::byte>> random_bodies() {
  std::mt19937 rng(424242);  // fixed seed: the same bodies on every run
  const unsigned char alphabet[] = {0, 0, 0, 1, 2, 'S', 'P', 'I', 'a', 0xff, 0x80, 0x0a};
  std::vector<std::vector<std::byte>> out;
  for (int i = 0; i < 5000; ++i) {
    std::vector<std::byte> body(rng() % 24);
    for (auto& b : body) {
      b = static_cast<std::byte>(i % 2 == 0 ? alphabet[rng() % sizeof alphabet] : rng() & 0xff);
    }
    out.push_back(std::move(body));
  }
  return out;
}

// The body of the one message `w` holds.
std::string body_of(const MessageWriter& w) { return as_string(w.data().subspan(5)); }

TEST(RandomBytesTest, StrictDecodersReencodeWhatTheyAccept) {
  int accepted = 0;
  for (const auto& body : random_bodies()) {
    const std::string original = as_string(body);
    MessageWriter w;
    if (auto q = decode_query(body)) {
      encode_query(w, q->sql);
      EXPECT_EQ(body_of(w), original);
      ++accepted;
      w.clear();
    }
    if (auto p = decode_parse(body)) {
      encode_parse(w, p->statement, p->query, p->param_types);
      EXPECT_EQ(body_of(w), original);
      ++accepted;
      w.clear();
    }
    if (auto d = decode_describe_or_close(body)) {
      encode_describe(w, d->kind, d->name);
      EXPECT_EQ(body_of(w), original);
      ++accepted;
      w.clear();
    }
    if (auto e = decode_execute(body)) {
      encode_execute(w, e->portal, e->max_rows);
      EXPECT_EQ(body_of(w), original);
      ++accepted;
      w.clear();
    }
    if (auto p = decode_parameter_status(body)) {
      encode_parameter_status(w, p->name, p->value);
      EXPECT_EQ(body_of(w), original);
      ++accepted;
      w.clear();
    }
    if (auto c = decode_copy_response(body)) {
      encode_copy_response(w, 'G', *c);
      EXPECT_EQ(body_of(w), original);
      ++accepted;
      w.clear();
    }
    if (auto s = decode_ready_for_query(body)) {
      encode_ready_for_query(w, *s);
      EXPECT_EQ(body_of(w), original);
      ++accepted;
      w.clear();
    }
    if (auto k = decode_backend_key_data(body)) {
      encode_backend_key_data(w, *k);
      EXPECT_EQ(body_of(w), original);
      ++accepted;
      w.clear();
    }
  }
  EXPECT_GT(accepted, 100) << "the generator should produce some well-formed bodies";
}

TEST(RandomBytesTest, LenientDecodersNeverCrash) {
  ExtendedState state;
  for (const auto& body : random_bodies()) {
    (void)decode_bind_target(body);
    (void)decode_auth_code(body);
    (void)decode_sasl_mechanisms(body);
    (void)encode_sasl_without_plus(body);
    if (auto n = decode_notice(body)) {
      MessageWriter w;
      encode_error_response(w, *n);
      EXPECT_EQ(decode_notice(w.data().subspan(5)), n) << "a decoded notice survives re-encoding";
    }
    StartupPacket p = decode_startup(body);
    if (const auto* m = std::get_if<StartupMessage>(&p)) {
      MessageWriter w;
      encode_startup(w, *m);
      EXPECT_EQ(as_string(w.data().subspan(4)), as_string(body));
    }
    if (!body.empty()) {
      state.on_frontend(static_cast<char>(body[0]));
      state.on_backend(static_cast<char>(body[body.size() - 1]), std::span(body).subspan(1));
    }
  }
}

}  // namespace
}  // namespace switchyard::protocol
