#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/message_types.hpp"
#include "proxy/metrics.hpp"
#include "proxy/prepared_statements.hpp"
#include "proxy/pump.hpp"
#include "proxy/relay_state.hpp"
#include "proxy/session_rewrite.hpp"
#include "proxy/sql_prepared_statements.hpp"
#include "rewrite/copy_transform.hpp"
#include "rewrite/sql_prepared.hpp"
#include "rewrite/sql_text.hpp"
#include "rewrite/table_ddl.hpp"

namespace switchyard::proxy {

/// Client -> upstream: rewrites Query and Parse texts per the adopted migrations, turns
/// rejections into server-raised errors, transforms COPY data for rewritten COPY FROM STDIN,
/// and adopts new config generations at transaction boundaries.
class FrontendHandler {
 public:
  FrontendHandler(RelayState& state, Metrics& metrics, SessionRewrite& rewrite,
                  std::uint64_t session_id)
      : state_(state), metrics_(metrics), rewrite_(rewrite), session_id_(session_id) {}

  /// After a Query or a Sync the client waits for the server's answer before it sends again
  /// (unless it pipelines, and then its next bytes raise an edge of their own).
  static bool quiet_after(char type) {
    return type == protocol::frontend::kQuery || type == protocol::frontend::kSync;
  }

  bool wants(char type) const;
  FrameAction on_frame(const protocol::Frame& frame, protocol::MessageWriter& out);
  void on_streamed(char type);
  void on_bytes(std::size_t n) {
    metrics_.bytes_from_clients.fetch_add(n, std::memory_order_relaxed);
  }
  // Stops after a Terminate, when a drain finds the session between transactions, and when
  // the other direction has ended.
  bool on_written() {
    return !state_.terminate_sent && !state_.relay_over &&
           !(state_.close_at_boundary && state_.at_boundary());
  }
  /// Finishes what a `suspend` asked for (a catalog look-up, or the answers to the Describes
  /// of a re-prepare); the pump then offers the frame again.
  awaitable<void> complete();

 private:
  /// The rewrite decision for one statement text. `rewritten` and `rejected` leave the text to
  /// send in replacement_. `verb`: the text's sole_statement_verb(), which each statement's
  /// checks share (one scan of its start).
  enum class Decision { forward, rewritten, rejected, suspend };
  Decision decide(std::string_view sql, rewrite::detail::SoleVerb verb, bool from_query = false);
  /// decide() but for noting the text's DDL.
  Decision decide_rewrite(std::string_view sql, rewrite::detail::SoleVerb verb, bool from_query);
  /// Puts in front of a simple Query's refusal the statements before the refused one, as the
  /// session's flags rewrite them: Postgres runs a text's statements up to its error, so a BEGIN
  /// among them leaves the session in a failed block (and a COMMIT keeps what it committed).
  void run_statements_before(std::string_view sql, std::size_t refused);
  /// A staged COPY's text sent with Parse, as unsupported: refused, or forwarded as written
  /// under passthrough. Out of line: rare.
  static TextRewrite staged_outside_query(const rewrite::RewriteResult& staged);
  /// At a transaction boundary: adopts the latest config generation, starts or stops reply
  /// tracking. Called for most messages; inline, as most are not at a boundary.
  void at_boundary_housekeeping() {
    if (state_.at_boundary()) {
      housekeeping_at_boundary();
    }
  }
  void housekeeping_at_boundary();
  /// Notes the relations a DDL text may change the columns of, unmapped ones too.
  void note_table_ddl(std::string_view sql);
  /// The refusal of a text naming a mapped table and, beside it, a table whose columns DDL of
  /// this transaction changed (the catalog sees them once it ends); null when there is none.
  TextRewrite refuse_after_table_ddl(std::string_view sql, rewrite::detail::SoleVerb verb,
                                     const rewrite::RewriteResult& result) const;
  /// Forgets them in the catalog, their DDL's transaction over.
  void forget_ddl_tables();
  FrameAction on_query(const protocol::Frame& frame, protocol::MessageWriter& out);
  /// Tells the reply tracker which CommandCompletes of the Query just sent, a staged COPY's
  /// text (armed_staging_), to hide and to tell as a COPY's. Out of line: rare.
  void watch_staged_completes();
  /// Tells the reply tracker that the Query or Parse just sent is the rewrite decide() made, so
  /// that an error answering it has its position told in the client's text.
  void arm_positions();
  FrameAction on_parse(const protocol::Frame& frame, protocol::MessageWriter& out);
  FrameAction on_copy(const protocol::Frame& frame, protocol::MessageWriter& out);
  /// Starts transforming the data rows of a COPY FROM STDIN sent rewritten.
  void arm_copy(const rewrite::CopyPlan& plan);
  /// Records that `portal` holds a run of `stmt` (null: of no COPY the proxy transforms).
  void bound_to_portal(std::string_view portal, const PreparedStatement* stmt);
  /// An Execute of a portal bound to a rewritten COPY starts its transform: the server asks
  /// for the data of that run.
  void arm_copy_portal(const protocol::Frame& frame);
  FrameAction on_close(const protocol::Frame& frame);
  /// A Bind: prepares its statement again if the flags or the search_path changed since, and
  /// refuses it (as Postgres does) when it asks for a result column in binary whose type has
  /// changed since.
  FrameAction on_bind(const protocol::Frame& frame, protocol::MessageWriter& out);
  FrameAction on_describe(const protocol::Frame& frame, protocol::MessageWriter& out);
  /// True (logged and counted) when a Bind asks in binary for a column whose type changed.
  bool asks_changed_in_binary(const protocol::Frame& frame, std::string_view statement,
                              const PreparedStatement& stmt);
  /// For a Bind or Describe of `statement`: finds it in `stmt` (null when the proxy does not
  /// know it) and prepares it again if it is stale. Returns the action when the client's
  /// message must wait or is replaced, nullopt when it goes on.
  std::optional<FrameAction> prepare_if_stale(std::string_view statement, PreparedStatement*& stmt,
                                              protocol::MessageWriter& out);
  /// Prepares a statement whose generation is stale again under the same name (replies
  /// hidden), in two steps the pump waits for (send_then_suspend) before it offers the
  /// client's message again: a Describe of it as it was, then the new Parse, which keeps the
  /// parameter types that Describe gave where the client left them to the server, and a
  /// Describe of it as it is. nullopt when the server's text stays as it is.
  std::optional<FrameAction> prepare_again(std::string_view statement, PreparedStatement& stmt,
                                           protocol::MessageWriter& out);
  /// Records which result columns changed type, from the two Describes' answers.
  void settle_result_types(std::string_view statement, PreparedStatement& stmt);
  /// The second step of prepare_again, once the server described the statement as it was.
  FrameAction send_prepared_again(std::string_view statement, PreparedStatement& stmt,
                                  protocol::MessageWriter& out);
  /// Records a message sent upstream with the two trackers.
  /// `settles`: a client's named Parse or Close whose answer settles prepared_ (pair_replies).
  void sent(char type, bool hidden = false, bool settles = false);
  /// Whether the answer to a message sent now is paired with it; starts the pairing when
  /// nothing sent waits for an answer.
  bool pair_replies();
  /// Whether a Query's or Parse's text (`sql`), or a Bind or Describe of a statement (`stmt`,
  /// null when the name is not known), must wait until the requests sent earlier that may
  /// change the path, role or prepared statements are answered: it names a mapped table, so
  /// the table it means is what they leave; or its statement may be one a deallocation not
  /// answered yet set aside. Sets awaiting_settle_ when it must (the pump then sends what came
  /// before it, and complete() waits).
  bool hold_until_settled(std::string_view sql);
  bool hold_until_settled(const PreparedStatement* stmt);
  awaitable<void> wait_until_settled();
  /// The request being handled may change them (see RelayState::settle_readies).
  void request_settles(bool from_query) { (from_query ? query_settles_ : batch_settles_) = true; }
  /// Applies the answers to the named Parses and Closes sent (the reply tracker's outcomes).
  void settle_statements();
  /// Applies the server's answers to the deallocations sent: what one did not run comes back.
  void settle_deallocations();
  /// Keeps the session's search_path, current_user and the prepared-statement registry in step
  /// with the SET/RESET/DEALLOCATE/DISCARD statements the client sends. `from_query`: sent
  /// as a simple Query (else run by a Bind).
  void follow_session_statements(std::string_view sql,
                                 const std::vector<rewrite::RoleChange>& roles, bool from_query);
  /// A text sent that may change standard_conforming_strings or client_encoding: the rewrite
  /// treats both as unknown until its answer. `text_changes_reading`: may_change_reading() of it.
  /// COMMIT PREPARED: the rules are built again once it is answered (note_prepared_commit).
  void note_prepared_commit(std::string_view sql, rewrite::detail::SoleVerb verb);
  void note_reading_change(std::string_view sql, rewrite::detail::SoleVerb verb, Decision decision,
                           bool text_changes_reading);
  /// The text EXECUTEs a statement prepared earlier whose text may change either setting.
  bool executes_reading_change(std::string_view sql, rewrite::detail::SoleVerb verb);
  /// The statement prepared as `name` (protocol or SQL PREPARE) may change either setting.
  bool prepared_changes_reading(std::string_view name);
  /// A text of several statements that changes the role while "$user" is in the path and may
  /// name a mapped table: the rewrite resolved its names under the role before. Refused (turns
  /// `decision` into rejected) or, under passthrough, logged and counted.
  void refuse_role_change_beside(std::string_view sql, Decision& decision);
  /// A text that changes the search_path or the role and EXECUTEs a statement it did not
  /// prepare, which may name a mapped table: its rewrite was checked under the path before the
  /// text, and the server analyzes it again under the new one. Refused as above.
  void refuse_path_change_beside_execute(const rewrite::SqlPrepared& found, Decision& decision);
  /// Turns `decision` into rejected for a refusal, or logs and counts it under passthrough.
  void apply_refusal(const TextRewrite& refusal, Decision& decision);
  void reject_batch(const std::string& rejection, protocol::MessageWriter& out);
  /// For a text that may change the session (rewrite::may_change_session): when it EXECUTEs in
  /// SQL a statement whose rewrite has changed since its PREPARE (the server would run the
  /// rewrite of the old flags: a write to one column only while both must be written), puts
  /// statements that prepare it again in front of a simple Query's text, or refuses the text
  /// (turns `decision` into rejected); follows its SET/DEALLOCATE/DISCARD; records the
  /// statements it PREPAREs with the text sent for them.
  void follow_sql_statements(std::string_view sql, Decision& decision, bool from_query);
  /// The refusal of a text that EXECUTEs stale statements; nullopt when it may run, with the
  /// statements that prepare them again appended to `again` (null: none may be prepared again).
  std::optional<std::string> stale_sql_execute(const rewrite::SqlPrepared& found,
                                               std::string* again);
  /// Whether a run of `name` (SQL EXECUTE or Bind), if prepared with SQL PREPARE, runs what the
  /// flags now make of it.
  bool sql_prepared_runs(const std::string& name);
  /// DEALLOCATE and PREPARE of stale `name` as the flags now rewrite it, recorded as re-prepare
  /// number `reprepare`; nullopt when the proxy cannot (its PREPARE is not known for sure, the
  /// flags now refuse it, or the name is also a protocol-level statement's).
  std::optional<std::string> prepare_sql_again(const std::string& name, std::uint32_t reprepare);
  /// Applies the re-prepares the server has answered (RelayState::sql_reprepared).
  void apply_sql_reprepares();
  /// The refusal for a Bind of `name` prepared with SQL PREPARE whose rewrite changed since;
  /// nullopt when it is not one, or runs as it is.
  std::optional<std::string> stale_sql_prepared(const std::string& name);
  /// The refusal for an SQL EXECUTE of `name` prepared through the protocol whose rewrite
  /// changed since (its re-prepare happens only before a Bind or Describe).
  std::optional<std::string> stale_protocol_statement(const std::string& name);
  /// Logs and counts the refusal of a stale prepared statement's run; returns its message.
  std::string stale_refusal(const std::string& name, std::string_view how, const std::string& fix);
  /// Whether `text` is rewritten under the session's flags now into `sent`, the text the
  /// server has for it.
  bool rewrite_still(std::string_view text, bool from_query, std::string_view sent);
  /// The text the session's flags now send for `text`; nullopt when they refuse it or the
  /// catalog cannot tell (then awaiting_catalog_ is set while a look-up may help).
  std::optional<std::string> rewritten_now(
      std::string_view text, bool from_query,
      std::shared_ptr<const rewrite::RewriteResult>* result = nullptr);
  void record_sql_prepared(const rewrite::SqlPrepared& found, std::string_view sql,
                           std::string_view sent);
  /// Counts the migration uses of the statements a text EXECUTEs that were PREPAREd alone.
  void count_sql_executions(const rewrite::SqlPrepared& found);
  /// Whether the text is one PREPARE, whose statement counts its uses at each EXECUTE.
  static bool prepares_only(rewrite::detail::SoleVerb verb);
  /// Whether the server may have, under `name`, a statement prepared under older flags (a
  /// Parse of the name then fails there and leaves that one).
  bool older_under_name(std::string_view name);
  /// The same for a statement prepared in SQL under `name`.
  bool older_sql_under_name(std::string_view name);

  RelayState& state_;
  Metrics& metrics_;
  SessionRewrite& rewrite_;
  std::uint64_t session_id_;
  // Relations whose columns DDL sent in the open transaction may change: the catalog keeps an
  // unmapped table's columns otherwise until its check, and a bare name in a sub-select over it
  // would resolve to the outer mapped table meanwhile. Forgotten at the next boundary, when the
  // catalog's connection sees the change.
  std::unique_ptr<rewrite::TableDdl> ddl_tables_;  // null until a DDL text: most sessions
  // The text decide() chose; its buffer is reused from statement to statement.
  std::string replacement_;
  std::shared_ptr<const rewrite::RewriteResult> awaiting_catalog_;
  int catalog_attempts_ = 0;
  // The same for the look at a prepared statement's text after a flip (rewritten_now).
  int stale_catalog_attempts_ = 0;
  // The result of a rewritten COPY statement, its plan in `copy`: shared with the cache rather
  // than a copy of the plan held by every session.
  std::shared_ptr<const rewrite::RewriteResult> armed_copy_;
  // The result decide() left for the prepared statement to count at each execution.
  std::shared_ptr<const rewrite::RewriteResult> armed_uses_;
  // Set by a text with a staged COPY: its statements' CommandCompletes to hide or retag.
  std::shared_ptr<const rewrite::RewriteResult> armed_staging_;
  // Set by a rewritten text, for the position of an error answering it (ReplyTracker::rewritten).
  RewrittenText armed_text_;
  // Portals bound to a rewritten COPY FROM STDIN and not yet executed, by name (few: one
  // each until its Execute).
  using CopyPortal = std::pair<std::string, std::shared_ptr<const rewrite::RewriteResult>>;
  std::vector<CopyPortal> copy_portals_;
  // Active while copy data flows; on the heap, as every idle session holds this object.
  std::unique_ptr<rewrite::CopyRowTransformer> copy_;
  PreparedStatements prepared_;
  SqlPreparedStatements sql_prepared_;
  /// Names one text may have prepared again (two hidden CommandCompletes each).
  static constexpr std::size_t kMaxNamesAgain = 64;
  // Set for the Query about to be sent when statements were put in front of its text.
  std::uint8_t leading_completes_ = 0;
  std::uint32_t leading_confirms_ = 0;
  std::uint32_t leading_shift_ = 0;
  // The flags last, side by side: each between wider members took eight bytes of every session.
  // The statement waits for the rules a partition change of this session asked for.
  bool awaiting_rebuild_ = false;
  bool copy_failed_ = false;
  // The statement waits for the answers RelayState::settle_readies counts.
  bool awaiting_settle_ = false;
  // The Query being handled, or the extended batch until its Sync, may change what names
  // resolve to (RelayState::settle_readies); apart, as a Query may come inside a batch.
  bool query_settles_ = false;
  bool batch_settles_ = false;
  // A Bind or Describe waits while its statement is prepared again: until the server has
  // described it as it was (describing), then as prepared again (comparing).
  enum class Reprepare : std::uint8_t { none, describing, comparing };
  Reprepare reprepare_ = Reprepare::none;
};

}  // namespace switchyard::proxy
