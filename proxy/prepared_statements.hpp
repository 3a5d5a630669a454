#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "protocol/fifo.hpp"
#include "rewrite/session_change.hpp"

namespace switchyard::rewrite {
struct RewriteResult;
}  // namespace switchyard::rewrite

namespace switchyard::proxy {

/// An epoch no session reaches: the statement is prepared again at its next Bind or Describe
/// (the server may still have the text of an older one).
inline constexpr std::uint64_t kPrepareAgain = UINT64_MAX;

/// Result types of a prepared statement that a re-prepare changed. On the heap: rare, and a
/// session may keep hundreds of statements.
struct ResultChange {
  /// The types the client may still decode by: those before the first re-prepare that changed
  /// them since the client last described or prepared the statement.
  std::vector<std::uint32_t> told;
  /// Result columns (from 0) whose type differs from `told`: a client that decodes them in
  /// binary by the types it was told would misread them.
  std::vector<std::uint32_t> changed;
  /// The result has another number of columns than `told` (a `*` over a table whose hidden new
  /// column a flip shows or hides): a client that cached the description misreads every row,
  /// whatever the format.
  bool width_changed = false;
};

/// A statement prepared through the protocol, as the client wrote it and as the server has it.
struct PreparedStatement {
  std::string sql;
  std::vector<std::byte> param_types;  ///< as on the wire (protocol::ParamTypes)
  /// The SessionRewrite::epoch (config generation and search_path) it was rewritten under.
  std::uint64_t epoch = 0;
  /// The text the server has when it is not `sql`; empty when it is (most statements, and an
  /// extended-protocol client parses one for every query).
  std::string rewritten;
  /// Set while a re-prepare has changed the result types the client was told.
  std::unique_ptr<ResultChange> result_change;
  /// A rewritten COPY FROM STDIN: its result, whose plan transforms the data rows of each run
  /// (from the Execute of a portal bound to the statement).
  std::shared_ptr<const rewrite::RewriteResult> copy;
  /// The rewrite whose migration uses each Bind counts (the runbook's gates count executions,
  /// not Parses); null for a statement without any, nearly all of them.
  std::shared_ptr<const rewrite::RewriteResult> uses;
  /// A SET of the search_path or role, a RESET, DISCARD or DEALLOCATE: followed at each Bind of
  /// it (when the server runs it, and every time it does), not at its Parse.
  bool changes_session = false;
  /// It may change client_encoding or standard_conforming_strings (a SET, set_config): judged
  /// once at its Parse, as each Bind of it (the unnamed statement's too) asks.
  bool changes_reading = false;
  /// A plain COMMIT, END, ROLLBACK or ABORT, or DISCARD ALL (rewrite::transaction_end): each
  /// Bind of it may keep or undo the session's SETs before its batch ends
  /// (SessionRewrite::note_end_bound).
  rewrite::TransactionEnd ends = rewrite::TransactionEnd::none;

  /// The client learns the statement's result types as the server has them now.
  void results_told() { result_change.reset(); }
  std::string_view sent() const { return rewritten.empty() ? std::string_view(sql) : rewritten; }
};

/// One session's statements prepared through the protocol, by name. The unnamed statement is
/// kept beside the map: a client of the extended protocol without prepared statements parses
/// and binds it for every query, and each of those would hash and look up the empty name.
class PreparedStatements {
 public:
  /// The statement a message sent now finds under `name`, or null: that of the latest Parse
  /// or Close of the name not answered yet (a later message of its batch runs only if it
  /// succeeds), else the one the server has.
  PreparedStatement* find(std::string_view name) {
    if (name.empty()) {
      return unnamed_ ? &*unnamed_ : nullptr;
    }
    for (auto op = pending_.rbegin(); op != pending_.rend(); ++op) {
      if (op->name == name && op->voided_by == kNotVoided && !op->refusal_expected) {
        return op->closes ? nullptr : &op->stmt;
      }
    }
    auto it = named_.find(name);
    return it == named_.end() ? nullptr : &it->second;
  }

  /// The entry for `name`, made empty if there was none. An existing entry keeps its buffers,
  /// for the caller to assign in place.
  PreparedStatement& record(std::string_view name) {
    if (name.empty()) {
      return unnamed_ ? *unnamed_ : unnamed_.emplace();
    }
    auto it = named_.find(name);
    if (it == named_.end()) {
      it = named_.emplace(std::string(name), PreparedStatement{}).first;
    }
    return it->second;
  }

  /// A named Parse sent upstream: its entry, for the caller to fill, takes the name's place only
  /// once the server accepts it (settle). A Parse of a name that is there fails (42P05) and
  /// leaves the statement the server has, so until then later messages find that one.
  PreparedStatement& parse_sent(std::string_view name) {
    const bool there = find(name) != nullptr;
    Pending& op = pending_.emplace_back();
    op.name.assign(name);
    op.refusal_expected = there;
    return op.stmt;
  }

  /// A Close of named statement `name` sent upstream: it is gone once the server did it.
  void close_sent(std::string_view name) {
    Pending& op = pending_.emplace_back();
    op.name.assign(name);
    op.closes = true;
  }

  /// The server answered the oldest Parse or Close sent: `done` when it did it (ParseComplete,
  /// CloseComplete), not when it failed or skipped it after an error. Returns the name a Close
  /// the server did drops.
  std::optional<std::string> settle(bool done) {
    if (pending_.empty()) {
      return std::nullopt;
    }
    Pending op = std::move(pending_.front());
    pending_.erase(pending_.begin());
    if (!done || op.voided_by == kVoidedForGood) {
      return std::nullopt;
    }
    if (op.voided_by != kNotVoided) {
      settle_set_aside(std::move(op));
      return std::nullopt;
    }
    if (op.closes) {
      erase_named(op.name);
      return std::move(op.name);
    }
    named_.insert_or_assign(std::move(op.name), std::move(op.stmt));
    return std::nullopt;
  }

  /// Parses and Closes sent and not answered yet.
  bool pending() const { return !pending_.empty(); }

  /// A Close of `name` sent while replies are not paired: the name is gone, after every Parse or
  /// Close of it sent so far.
  void erase(std::string_view name) {
    if (name.empty()) {
      unnamed_.reset();
      return;
    }
    erase_named(name);
    for (Pending& op : pending_) {
      if (op.name == name) {
        op.voided_by = kVoidedForGood;
      }
    }
  }

  /// A DEALLOCATE of `name`, or a DEALLOCATE ALL or DISCARD ALL (`name` empty), sent upstream:
  /// what it names is gone for the messages sent after it, Parses sent before it included, and
  /// set aside until the server answers it (deallocation_answered).
  void deallocation_sent(std::string_view name);
  /// The server answered the oldest deallocation sent: `ran` when it ran it. One the server
  /// skipped after an error, or refused, leaves its statements: they are the names' again (or
  /// a later deallocation's, which names them too).
  void deallocation_answered(bool ran);

  bool empty() const {
    return !unnamed_ && named_.empty() && pending_.empty() && (!aside_ || aside_->empty());
  }

 private:
  // Looks names up by string_view, so a Bind or Describe builds no string to find one.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const {
      return std::hash<std::string_view>{}(name);
    }
  };

  // A named Parse or a Close sent and not answered yet, in the order sent.
  struct Pending {
    std::string name;
    PreparedStatement stmt;  // a Parse's
    bool closes = false;
    // The name was there when it was sent: the server refuses it unless a Close goes first.
    bool refusal_expected = false;
    // A Close sent unpaired after it dropped the name (kVoidedForGood), or the deallocation
    // of this number did: its answer changes nothing, or only what that deallocation set
    // aside.
    std::uint32_t voided_by = kNotVoided;
  };

  // Statements a deallocation sent set aside until its answer, by name.
  struct SetAside {
    std::uint32_t number = 0;
    std::string name;  // empty: all
    std::vector<std::pair<std::string, PreparedStatement>> statements;

    bool covers(std::string_view named) const { return name.empty() || name == named; }
  };
  struct Aside {
    protocol::Fifo<SetAside> sent;
    std::uint32_t next_number = kVoidedForGood + 1;

    bool empty() const { return sent.empty(); }
    // The oldest deallocation still unanswered that drops `name`.
    SetAside* covering(std::string_view name);
    SetAside* numbered(std::uint32_t number);
  };
  static constexpr std::uint32_t kNotVoided = 0;
  static constexpr std::uint32_t kVoidedForGood = 1;

  // A Parse or Close answered that a deallocation sent after it had voided.
  void settle_set_aside(Pending op);

  void erase_named(std::string_view name) {
    if (auto it = named_.find(name); it != named_.end()) {
      named_.erase(it);
    }
  }

  std::optional<PreparedStatement> unnamed_;
  std::unordered_map<std::string, PreparedStatement, NameHash, std::equal_to<>> named_;
  // Few at a time (a driver's batch): a vector keeps its buffer from batch to batch.
  std::vector<Pending> pending_;
  // Made at the first deallocation: most sessions never send one.
  std::unique_ptr<Aside> aside_;
};

}  // namespace switchyard::proxy
