#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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

  /// The client learns the statement's result types as the server has them now.
  void results_told() { result_change.reset(); }
  std::string_view sent() const { return rewritten.empty() ? std::string_view(sql) : rewritten; }
};

/// One session's statements prepared through the protocol, by name. The unnamed statement is
/// kept beside the map: a client of the extended protocol without prepared statements parses
/// and binds it for every query, and each of those would hash and look up the empty name.
class PreparedStatements {
 public:
  /// The statement named `name`, or null.
  PreparedStatement* find(std::string_view name) {
    if (name.empty()) {
      return unnamed_ ? &*unnamed_ : nullptr;
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

  void erase(std::string_view name) {
    if (name.empty()) {
      unnamed_.reset();
    } else if (auto it = named_.find(name); it != named_.end()) {
      named_.erase(it);
    }
  }

  void clear() {
    unnamed_.reset();
    named_.clear();
  }

  bool empty() const { return !unnamed_ && named_.empty(); }

 private:
  // Looks names up by string_view, so a Bind or Describe builds no string to find one.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const {
      return std::hash<std::string_view>{}(name);
    }
  };

  std::optional<PreparedStatement> unnamed_;
  std::unordered_map<std::string, PreparedStatement, NameHash, std::equal_to<>> named_;
};

}  // namespace switchyard::proxy
