#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/ready_for_query.hpp"
#include "proxy/asio.hpp"
#include "proxy/catalog_cache.hpp"
#include "proxy/proxy_state.hpp"
#include "proxy/recent_results.hpp"
#include "proxy/worker_inbox.hpp"
#include "rewrite/client_encoding.hpp"
#include "rewrite/literal_shape.hpp"
#include "rewrite/result.hpp"
#include "rewrite/search_path_setting.hpp"
#include "rewrite/shape_recipe.hpp"
#include "rewrite/transaction_steps.hpp"

namespace switchyard::proxy {

/// One text's rewrite. `result` may be shared (with the caches, with other texts); a text
/// served from its literal shape has the shape's result, whose `sql` holds placeholders, and
/// its own text in `shape_sql`, which views the buffer passed to SessionRewrite::rewrite: no
/// per-text copy of the rest of the result is made.
struct TextRewrite {
  std::shared_ptr<const rewrite::RewriteResult> result;
  std::optional<std::string_view> shape_sql;

  explicit operator bool() const { return result != nullptr; }
  const rewrite::RewriteResult* operator->() const { return result.get(); }
  const rewrite::RewriteResult& operator*() const { return *result; }
  /// The text to send for Outcome::rewritten.
  std::string_view sql() const { return shape_sql ? *shape_sql : result->sql; }
};

/// The part of the rewrite caches' key that makes two sessions' texts rewrite alike: the
/// database whose rules apply, the user ("$user") and the search_path.
std::string rewrite_context_key(std::string_view database, const rewrite::SessionContext& context);

/// One session's access to the rewrite engine under the config generation it has adopted.
/// Generations change only through adopt(), which the relay calls at transaction boundaries.
class SessionRewrite {
 public:
  SessionRewrite(ProxyState& state, Metrics& metrics, OffThread off_thread, std::string user,
                 std::string database, std::vector<std::string> search_path);

  /// Switches to the latest published generation if it is newer. Returns true if it changed.
  bool adopt_latest();
  const Snapshot& snapshot() const { return *snapshot_; }
  std::uint64_t generation() const { return snapshot_->generation; }
  /// Moves whenever a text may rewrite otherwise: a generation adopted, the search_path changed.
  /// Postgres analyzes a prepared statement again when the search_path changed since it was
  /// prepared, so a statement rewritten under another epoch is looked at again before it runs.
  /// A counter: compared at every Bind, where comparing paths would cost.
  std::uint64_t epoch() const { return epoch_; }
  /// At a transaction boundary: when the catalog forgot relations since (DDL through any
  /// session, or found by the catalog check), moves the epoch, so that a statement prepared
  /// before is rewritten again at its next Bind (and prepared again if that reads otherwise: a
  /// bare name in a sub-select over a table that gained or lost a column named like O).
  void follow_catalog() {
    if (rules_ != nullptr && rules_->catalog->version() != catalog_version_) [[unlikely]] {
      catalog_version_ = rules_->catalog->version();
      ++epoch_;
      recent_shapes_.clear();
      recent_texts_.clear();
    }
  }
  /// True when migrations apply to this session's database.
  bool active() const { return rules_ != nullptr; }
  /// The database the session connected to.
  const std::string& database() const { return database_; }
  void set_snapshot(std::shared_ptr<const Snapshot> snapshot);

  /// The rewrite of one Query/Parse text, or null when it is forwarded as is (no migration
  /// for this database, or no mapped table name in the text: DESIGN §7's fast path).
  /// An Outcome::needs_catalog result means: co_await fetch_missing(result), then call again.
  /// `from_query`: a simple-protocol text, which usually carries its values as literals, so
  /// its literal shape is looked up before the text itself. A text served from its shape is
  /// written to `filled` (whose buffer is reused from call to call).
  TextRewrite rewrite(std::string_view sql, bool from_query, std::string& filled);

  /// Loads the relations a needs_catalog result named into the shared catalog, off-thread.
  awaitable<void> fetch_missing(const rewrite::RewriteResult& result);
  /// Why the last fetch_missing failed, once: the refusal of the statement that needed it.
  struct CatalogFailure {
    std::string sqlstate;
    std::string message;
  };
  std::unique_ptr<CatalogFailure> take_catalog_failure() { return std::move(catalog_failure_); }

  /// DDL on a mapped table passed through: after it commits, the catalog must be re-read, and
  /// the rules built again when it added or removed a partition or child of one.
  void note_ddl(const rewrite::RewriteResult& result) {
    ddl_pending_ = true;
    for (const std::string& name : result.columns_changed) {
      rewrite::add_name(columns_changed_, name);
    }
    descendants_pending_ = descendants_pending_ || result.descendants_changed;
    new_descendants_.insert(new_descendants_.end(), result.new_descendants.begin(),
                            result.new_descendants.end());
  }
  /// DDL of this session committed, and its snapshot's catalog forgot those tables: the latest
  /// snapshot forgets them too (ProxyState::ddl_committed).
  void ddl_committed(const std::vector<std::string>& tables, bool all) {
    state_.ddl_committed(tables, all, rules_ != nullptr ? rules_->catalog.get() : nullptr);
  }
  /// COMMIT PREPARED passed through: whatever DDL the prepared transaction made (in any
  /// session, through the proxy or not) takes effect now, while the rules were last built when
  /// it was still uncommitted. Once it is answered the rules are built again, as after a
  /// partition change, and this session's next statement waits for them.
  void note_prepared_commit() {
    ddl_pending_ = true;
    prepared_committed_ = true;
  }
  /// Called at a transaction boundary: refreshes the catalog if DDL passed through (and asks
  /// for the rules again after a partition change), and ends a SET LOCAL search_path.
  void after_transaction();
  /// A partition change committed here and the rules are being built again: the session's
  /// next statement waits for them (await_rebuild), so that one naming the new partition is
  /// rewritten.
  bool rebuild_awaited() const { return rebuild_ticket_ != 0; }
  awaitable<void> await_rebuild();

  /// Follows a SET/RESET of search_path sent by the client, so unqualified names resolve as
  /// the server resolves them. `answers_before` is how many ReadyForQuery the server still
  /// owes for earlier requests: the one after them tells whether the change's transaction
  /// ended, and how.
  void apply(const rewrite::SearchPathChange& change, std::size_t answers_before);
  /// Follows a SET ROLE or SET SESSION AUTHORIZATION, which change what "$user" in the path
  /// stands for; undone with its transaction as a SET search_path is.
  void apply(const rewrite::RoleChange& change, std::size_t answers_before);
  /// Follows a SAVEPOINT, RELEASE or ROLLBACK TO (or a path change between them in the text):
  /// a rollback to a savepoint brings the path and the role back to what they were when it was
  /// taken, as the server does. And COMMIT/ROLLBACK AND CHAIN, which end the transaction while
  /// the ReadyForQuery after them says another is open. `failed`: the transaction is known to
  /// have failed already, so a SAVEPOINT fails and a COMMIT AND CHAIN rolls it back.
  void apply(const rewrite::TransactionStep& step, std::size_t answers_before, bool failed);
  /// Follows the steps of a simple Query's text and its role changes as the server answers
  /// it, each at its statement's CommandComplete (on_complete): after an error the rest of the
  /// text never runs, so neither does its COMMIT AND CHAIN, SAVEPOINT or SET ROLE; and a COMMIT
  /// AND CHAIN's tag tells whether it committed. `answers_before` is how many ReadyForQuery the
  /// server owes for earlier requests; `failed`: the transaction is known to have failed.
  /// Called with no text awaiting its answer (settle_answered_steps() first).
  void follow_as_answered(std::vector<rewrite::TransactionStep> steps,
                          std::vector<rewrite::RoleChange> roles, std::size_t answers_before,
                          bool failed);
  /// A CommandComplete the client sees (its tag), while follows_completes(). `resolved`:
  /// protocol::ExtendedState::answers_resolved() after it.
  void on_complete(std::string_view tag, std::uint64_t resolved) {
    if (answered_ && answered_->readies_before == 0) [[unlikely]] {
      follow_answered(tag);
    }
    if (kept_) [[unlikely]] {
      follow_points(tag, resolved);
    }
  }
  /// An ErrorResponse: the statements of the text followed as answered stop there, and a
  /// COMMIT or ROLLBACK not answered yet before it never ran. `resolved` as for on_complete.
  void on_answer_error(std::uint64_t resolved) {
    if (answered_ && answered_->readies_before == 0) [[unlikely]] {
      answered_->error = true;
    }
    if (kept_) [[unlikely]] {
      drop_points_skipped(resolved);
    }
  }
  /// A SET search_path or role may still be undone by its transaction's end.
  bool settings_uncommitted() const { return uncommitted_; }
  /// A transaction end would change the path or role in force: a SET may be undone, or a SET
  /// LOCAL ends.
  bool transaction_end_changes_settings() const {
    return uncommitted_ || local_search_path_ || (roles_ && roles_->local);
  }
  /// Whether `sql` names a table a rule covers, in any schema: which one it means, and so its
  /// rewrite, depends on the path.
  bool names_mapped_table(std::string_view sql) const {
    return rules_ != nullptr && rules_->rewriter->may_touch(sql);
  }
  /// A COMMIT or END (or DISCARD ALL, which commits at once), or a ROLLBACK or ABORT, bound in
  /// the extended protocol while a SET may still be undone: once its Execute is answered, the
  /// SETs sent before it are kept (or undone) though the ReadyForQuery after the batch would
  /// say otherwise (a later statement failed, or a SET after it ran). `bind_answer`:
  /// protocol::ExtendedState::next_answer() for the Bind; `answers_before`: ReadyForQuery owed
  /// for earlier requests.
  void note_end_bound(bool rollback, std::uint64_t bind_answer, std::size_t answers_before);
  /// Before another request is rewritten or followed while a text's steps await their answer
  /// (a client that does not wait for it): they are taken as run, as when followed when sent.
  void settle_answered_steps() {
    if (answered_) [[unlikely]] {
      settle_answered();
    }
  }
  /// Whether the session needs the CommandCompletes (on_complete, and a ROLLBACK's tag for
  /// on_ready).
  bool follows_completes() const {
    return uncommitted_ || answered_ != nullptr || kept_ != nullptr;
  }
  /// Whether a savepoint of the open transaction is followed: a RELEASE or ROLLBACK TO is then
  /// worth a parse.
  bool savepoints_held() const { return savepoints_ != nullptr && !savepoints_->taken.empty(); }
  /// Called for every ReadyForQuery. `rolled_back`: the last answer before it was an error or
  /// a ROLLBACK, so a transaction ending here undid its SETs, as the server does.
  void on_ready(protocol::TransactionStatus status, bool rolled_back);
  /// The refusal of a text of several statements that changes the role while "$user" is in
  /// the path, when it may name a mapped table; null when there is none.
  TextRewrite refuse_role_change_beside(std::string_view sql) const;
  /// The refusal of a text that changes the search_path or the role and EXECUTEs a statement
  /// prepared earlier as `prepared`, when that may name a mapped table; null when there is none.
  TextRewrite refuse_path_change_beside_execute(std::string_view prepared) const;
  /// Follows the server's standard_conforming_strings (its ParameterStatus).
  void set_standard_strings(bool on) {
    reading_.standard_strings = on;
    reading_usual_ = reading_.usual();
  }
  /// The database's encoding (reported once, at startup): before set_client_encoding.
  void set_server_encoding(std::string_view name) { server_encoding_.assign(name); }
  const std::string& server_encoding() const { return server_encoding_; }
  /// Follows the session's client_encoding (its ParameterStatus).
  void set_client_encoding(std::string_view name) {
    reading_.encoding = rewrite::classify_encoding(name, server_encoding_);
    reading_.encoding_name.assign(name);
    reading_usual_ = reading_.usual();
  }
  /// A text that may change standard_conforming_strings or client_encoding is sent:
  /// `answers_before` is how many ReadyForQuery the server owes for earlier requests; until the
  /// one after them both settings are unknown.
  void reading_may_change(std::size_t answers_before) {
    reading_readies_ = std::max(reading_readies_, answers_before + 1);
    reading_.settings_in_flight = true;
    reading_usual_ = false;
    reading_changed_in_transaction_ = true;
  }
  /// A text that may have changed either setting was sent and no ReadyForQuery has shown the
  /// session idle since: the transaction's end (COMMIT, ROLLBACK, a failed block's end) may
  /// undo a SET LOCAL or SET in it, so any text may change the reading too.
  bool reading_changed_in_transaction() const { return reading_changed_in_transaction_; }

 private:
  /// Stands in the shape cache for a literal shape whose rewrite did not reproduce a text's.
  static const std::shared_ptr<const rewrite::RewriteResult>& not_reusable();
  /// Stands for the rewrite of a long text (long_rewrite.hpp) while it is made off-thread.
  static const std::shared_ptr<const rewrite::RewriteResult>& long_rewrite_pending();
  /// The rewrite made off-thread for `sql`, under this key and path; else null, and `sql` is
  /// the one fetch_missing(*long_rewrite_pending()) rewrites next.
  std::shared_ptr<const rewrite::RewriteResult> take_long_rewrite(std::uint64_t key,
                                                                  std::string_view sql);
  awaitable<void> rewrite_long();
  /// Logs a failed catalog look-up and keeps the refusal take_catalog_failure() gives.
  void note_catalog_failure(const CatalogWants& wants, std::string error, bool connect_failed);
  struct LongText {
    std::uint64_t key;
    std::string context_key;
    std::string sql;
    std::shared_ptr<const rewrite::RewriteResult> result;  // null until rewritten
  };
  std::unique_ptr<LongText> long_text_;              // a pointer: idle sessions keep none
  std::unique_ptr<CatalogFailure> catalog_failure_;  // a pointer: idle sessions keep none

  /// rewrite()'s work but the refusal after DDL earlier in the transaction.
  TextRewrite rewrite_text(std::string_view sql, bool from_query, std::string& filled);
  /// The refusal of a text that names a table new_descendants_ holds, if it does.
  TextRewrite refuse_new_descendant(std::string_view sql) const;
  /// The refusal of a text that names either relation of an ambiguous migration's table.
  TextRewrite refuse_ambiguous_table(std::string_view sql) const;
  /// The refusal of a text the rewrite may not read as the server does (its client_encoding,
  /// standard_conforming_strings off, or either changing): rewrite::unreadable_text.
  TextRewrite refuse_unreadable(std::string_view sql) const;
  /// The refusal of a rewrite that is wrong in the session's encoding:
  /// rewrite::unsplicable_rewrite.
  TextRewrite refuse_unsplicable(std::string_view sql, const rewrite::RewriteResult& result) const;
  /// A refusal of `sql`, `why`, under the policy of the migrations whose tables it names.
  TextRewrite refusal_naming_tables(std::string_view sql, std::string_view why) const;
  /// A refusal, `why`, under the policy of the migrations `pick` chooses by name.
  template <typename Pick>
  TextRewrite refusal_naming(Pick pick, std::string_view why) const;
  /// A text's rewrite from its literal shape's, from this session's recent shapes or the
  /// shared shape cache, its text written to `filled`; null when the shape has none that can
  /// be reused.
  TextRewrite from_shape(std::uint64_t key, const rewrite::LiteralShape& shape,
                         std::string& filled);

  /// A shape's rewrite as this session keeps it: the result, and its text cut at the
  /// placeholders once.
  struct RecentShape {
    std::shared_ptr<const rewrite::RewriteResult> result;
    rewrite::LiteralTemplate filler;
  };

  ProxyState& state_;
  Metrics& metrics_;  // the worker's own block
  OffThread off_thread_;
  std::string database_;
  /// Shape rewrites this session reused lately, by shape key.
  Recent<RecentShape> recent_shapes_;
  /// How the texts of those shapes were made, so that the next text of one is recognised
  /// without a scan. Facts about texts alone: nothing a generation or search_path changes.
  rewrite::RecentRecipes recipes_;
  /// Extended-protocol texts this session rewrote lately (a client without prepared statements
  /// parses the same text for every query), each with a copy of its result so that the copy's
  /// reference count is this thread's alone.
  RecentResults recent_texts_;
  void set_search_path(const std::vector<std::string>& schemas);
  /// The first SET of the path or the role since the transaction began: what a rollback
  /// returns to is kept.
  void change_uncommitted(std::size_t answers_before);
  /// Makes "$user" the role now in force, if it is another.
  void follow_roles();
  /// The transaction ends: SET LOCAL ends, and with `rolled_back` its SETs are undone.
  void end_transaction(bool rolled_back);
  /// A SET LOCAL of the path or the role ends with its transaction.
  void end_local();

  rewrite::SessionContext context_;
  std::string context_key_;
  // Shared, not copied: most sessions keep the default path all their life, and these are kept
  // per idle session.
  using SearchPath = std::shared_ptr<const std::vector<std::string>>;
  SearchPath startup_search_path_;
  SearchPath session_search_path_;    // without SET LOCAL
  SearchPath committed_search_path_;  // what a rollback returns to
  std::size_t readies_to_skip_ = 0;   // answers to requests sent before the change
  /// current_user: `role`, or `session_user` while no SET ROLE holds.
  struct Roles {
    std::string session_user;
    std::string role;
    const std::string& current() const { return role.empty() ? session_user : role; }
  };
  // Made at the first SET ROLE / SESSION AUTHORIZATION: until then current_user is the login
  // user (context_.user), and an idle session keeps none of this.
  struct RoleState {
    explicit RoleState(const std::string& login_user)
        : login(login_user), now{login_user, {}}, session(now), committed(now) {}
    std::string login;
    Roles now;        // in force
    Roles session;    // without SET LOCAL
    Roles committed;  // what a rollback returns to
    bool local = false;
  };
  std::unique_ptr<RoleState> roles_;
  // What a ROLLBACK TO brings back, per savepoint of the open transaction, oldest first. Made
  // at the first SAVEPOINT: an idle session keeps none of this.
  struct Savepoint {
    std::string name;
    SearchPath session;  // session_search_path_
    SearchPath now;      // the path in force, SET LOCAL included
    bool local = false;
    std::optional<RoleState> roles;  // none: no role had changed yet
    std::size_t readies = 0;         // answers to requests sent before the one that took it
  };
  struct Savepoints {
    std::vector<Savepoint> taken;
  };
  std::unique_ptr<Savepoints> savepoints_;
  // The steps of a text followed as the server answers it (follow_as_answered), until its
  // ReadyForQuery.
  struct AnsweredSteps {
    std::vector<rewrite::TransactionStep> steps;
    std::vector<rewrite::RoleChange> roles;
    std::size_t next = 0;            // the first step not followed yet
    std::size_t next_role = 0;       // the first of roles not followed yet
    std::size_t completes = 0;       // statements of the text answered so far
    std::size_t readies_before = 0;  // answers to earlier requests still to come
    bool failed_before = false;
    bool error = false;
    enum class Next { none, role, step };
    /// Which of the steps and role changes not followed yet comes next in the text, among
    /// those of statements up to `last`: a step before a role change of its own statement.
    Next next_due(std::size_t last) const {
      const bool step_due = next < steps.size() && steps[next].statement <= last;
      const bool role_due = next_role < roles.size() && roles[next_role].statement <= last;
      if (role_due && (!step_due || roles[next_role].statement < steps[next].statement)) {
        return Next::role;
      }
      return step_due ? Next::step : Next::none;
    }
  };
  std::unique_ptr<AnsweredSteps> answered_;
  // Where the server ends a transaction before the ReadyForQuery that would tell: a COMMIT (or
  // DISCARD ALL) bound in an extended batch and answered before a later statement of the batch
  // fails; a plain COMMIT or ROLLBACK with statements after it in a text whose answer was not
  // read before the next request was sent (settle_answered); or the end of a request with a SET,
  // when a SET of a later request was sent before its answer came (the ReadyForQuery of the
  // later request would decide for both). Oldest first.
  // Changes not made LOCAL of the path, of the role (SET ROLE, and SET SESSION AUTHORIZATION,
  // which ends it) and of the session user, counted (wrapping) so that a point tells which a
  // later request changed (undo_before).
  struct ChangeCounts {
    std::uint32_t path = 0;
    std::uint32_t role = 0;
    std::uint32_t session_user = 0;
  };
  struct KeptPoint {
    enum class Until : std::uint8_t {
      request_end,
      bound_commit,
      bound_rollback,
      text_commit,
      text_rollback
    };
    SearchPath session;          // session_search_path_ then
    std::optional<Roles> roles;  // roles_->session then; none: the login user
    ChangeCounts counts;         // changes_ then
    std::size_t readies;         // ReadyForQuery owed before the one that ends its request
    Until until;
    std::uint64_t bind_answer = 0;  // bound_*: its Bind's position (next_answer())
    std::size_t completes = 0;      // text_*: the text's CommandCompletes before its step's
    // request_end: requests sent after its own and before the later SET's, whose answers end
    // its transaction when it goes on past its request (`BEGIN; SET ...` then a ROLLBACK).
    std::size_t requests_between = 0;
  };
  std::unique_ptr<std::vector<KeptPoint>> kept_;  // a pointer: idle sessions keep none
  void add_point(std::size_t readies, KeptPoint::Until until, std::uint64_t bind_answer = 0,
                 std::size_t completes = 0);
  /// The transaction commits what it had at `point`: a rollback now returns there.
  void keep(const KeptPoint& point);
  /// A transaction rolled back whose last changes were counted `at`: what nothing sent later
  /// changed goes back to the last committed value, in force and in the points that took it.
  void undo_before(const ChangeCounts& at);
  /// `roles`, counted `now`, with what nothing changed since `at` back to the committed roles.
  Roles undone_roles(Roles roles, const ChangeCounts& now, const ChangeCounts& at) const;
  void undo_in_points(const ChangeCounts& at);
  /// Keeps or undoes the point at `index` of kept_, and forgets it.
  void resolve_point(std::size_t index, bool kept);
  void follow_points(std::string_view tag, std::uint64_t resolved);
  void drop_points_skipped(std::uint64_t resolved);
  void kept_on_ready(protocol::TransactionStatus status, bool rolled_back);
  // What is left of answered_ once its answer ends or another request must see its outcome: the
  // steps not answered are taken as run, unless an error stopped the text.
  void settle_answered();
  void follow_answered(std::string_view tag);
  std::shared_ptr<const Snapshot> snapshot_;
  std::uint64_t epoch_ = 0;
  std::uint64_t catalog_version_ = 0;  // the catalog's version the epoch last moved for
  const DatabaseRewrite* rules_ = nullptr;
  // The migrations whose table DDL that may change its columns named in the open transaction: a
  // text whose rewrite takes one of those tables' column list from the catalog is refused until
  // it ends.
  std::vector<std::string> columns_changed_;
  // The rewrite reads texts as Postgres does in UTF-8 with standard_conforming_strings on (as
  // the parser it uses does): otherwise a backslash, or a character's byte, can end a string
  // elsewhere. reading_usual_ is reading_.usual(), the one check the common case pays.
  rewrite::TextReading reading_;
  std::size_t reading_readies_ = 0;  // ReadyForQuery until settings_in_flight ends
  // ReadyForQuery owed for requests sent before the latest SET LOCAL (path or role): the first
  // idle one after them ends it.
  std::size_t local_readies_ = 0;
  ChangeCounts changes_;
  std::string server_encoding_ = "UTF8";
  // Tables made partitions or children of a mapped table in the open transaction: the rules
  // cover them once it ends, and a text naming one before is refused (refuse_new_descendant).
  std::vector<rewrite::NewDescendant> new_descendants_;
  std::uint64_t rebuild_ticket_ = 0;  // a rebuild this session asked for and waits on
  // The flags last, side by side: each between wider members took eight bytes of every session.
  bool local_search_path_ = false;  // a SET LOCAL search_path is in force
  bool uncommitted_ = false;        // a SET search_path or role may still be undone
  bool ddl_pending_ = false;
  bool descendants_pending_ = false;
  bool prepared_committed_ = false;
  bool reading_usual_ = true;
  bool reading_changed_in_transaction_ = false;
  bool non_ascii_names_ = false;  // a migration of the database has a non-ASCII name
};

}  // namespace switchyard::proxy
