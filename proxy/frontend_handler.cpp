#include "proxy/frontend_handler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "protocol/bind.hpp"
#include "protocol/describe_close.hpp"
#include "protocol/execute.hpp"
#include "protocol/message_types.hpp"
#include "protocol/parse.hpp"
#include "protocol/query.hpp"
#include "proxy/logging.hpp"
#include "proxy/long_buffers.hpp"
#include "rewrite/client_encoding.hpp"
#include "rewrite/deallocation.hpp"
#include "rewrite/rewriter.hpp"
#include "rewrite/search_path_setting.hpp"
#include "rewrite/session_change.hpp"
#include "rewrite/sql_prepared.hpp"
#include "rewrite/sql_text.hpp"
#include "rewrite/transaction_steps.hpp"

namespace switchyard::proxy {
namespace {

namespace fe = protocol::frontend;

// After this many look-ups for one statement the catalog is not going to know more.
constexpr int kMaxCatalogAttempts = 2;

// How long a statement waits for the answers that settle the path it is rewritten under.
constexpr std::chrono::seconds kSettleWaitLimit{30};

// Whether what `sql` changes of the session is at most its savepoints and transactions.
bool changes_only_transactions(std::string_view sql) {
  return !rewrite::search_path_change(sql) && rewrite::role_changes(sql).empty() &&
         !rewrite::sql_prepared(sql) && !rewrite::deallocation(sql);
}

void encode_copy_data(protocol::MessageWriter& out, std::string_view data) {
  out.begin_message(fe::kCopyData);
  out.bytes(data);
  out.finish_message();
}

}  // namespace

bool FrontendHandler::wants(char type) const {
  if (state_.rejecting || copy_) {
    return true;  // every message is dropped or transformed, so each must be seen whole
  }
  if (type == fe::kQuery || type == fe::kParse || type == fe::kTerminate) {
    return true;
  }
  // Statement names are needed only while some statement may have to be prepared again (or,
  // prepared in SQL, refused). A Bind is seen even before reply tracking starts: handling it
  // is what starts the tracking at the boundary, for a statement prepared while no migration
  // applied.
  return ((!prepared_.empty() || !sql_prepared_.empty()) &&
          (type == fe::kBind || type == fe::kDescribe || type == fe::kClose)) ||
         (type == fe::kExecute && !copy_portals_.empty()) ||
         // After a change of how the server reads texts in this transaction, any Bind or
         // Execute may undo it or make another (on_bind, on_frame).
         ((type == fe::kExecute || type == fe::kBind) && rewrite_.reading_changed_in_transaction());
}

void FrontendHandler::on_streamed(char type) { sent(type); }

void FrontendHandler::sent(char type, bool hidden, bool settles) {
  if ((type == fe::kQuery && query_settles_) || (type == fe::kSync && batch_settles_))
      [[unlikely]] {
    (type == fe::kQuery ? query_settles_ : batch_settles_) = false;
    // A Query sent while the server skips after an error changes nothing, and gets no
    // ReadyForQuery; a Sync then still gets one, which tells what the error undid.
    if (type == fe::kSync || !state_.tracker.skipping()) {
      state_.settle_readies = std::max(state_.settle_readies, state_.tracker.outstanding() + 1);
    }
  }
  state_.tracker.on_frontend(type);
  if (state_.block_generation == 0) [[unlikely]] {
    // Work under these flags from now until the next boundary: a backfill started meanwhile
    // must know it (docs/operations.md, step 3), whether or not it is in a BEGIN block.
    state_.block_generation = rewrite_.snapshot().flags_generation;
    metrics_.open_transactions.began(state_.block_generation);
  }
  if ((type == fe::kQuery || type == fe::kSync) && !state_.request_started) {
    state_.request_started = std::chrono::steady_clock::now();
  }
  if (!state_.track_replies) {
    return;
  }
  switch (type) {
    case fe::kParse:
      state_.replies.on_sent(ReplyTracker::Sent::parse, hidden, settles);
      break;
    case fe::kClose:
      state_.replies.on_sent(ReplyTracker::Sent::close, hidden, settles);
      break;
    case fe::kDescribe:
      state_.replies.on_sent(ReplyTracker::Sent::describe, hidden);
      break;
    case fe::kSync:
      state_.replies.on_sent(ReplyTracker::Sent::sync);
      break;
    case fe::kQuery:
    case fe::kFunctionCall:
      state_.replies.on_sent(ReplyTracker::Sent::query);
      if (state_.tracker.skipping()) [[unlikely]] {
        state_.replies.query_not_run();
      }
      break;
    default:
      break;
  }
}

void FrontendHandler::reject_batch(const std::string& rejection, protocol::MessageWriter& out) {
  // The server raises the rejection itself (so a transaction block fails as it would for a
  // real error); its ReadyForQuery is hidden and the client's batch is dropped up to its Sync,
  // which then earns the ReadyForQuery the client expects, after those of its earlier Syncs.
  // Sent while the server skips to a Sync after an error, it is skipped too, unanswered; an
  // error in its batch's messages before it that is still to come is followed by the
  // BackendHandler (queries_skipped).
  if (!state_.tracker.skipping()) {
    state_.readies_to_drop.drop_after(state_.tracker.outstanding());
    ++state_.rejections_pending;
  }
  protocol::encode_query(out, rejection);
  sent(fe::kQuery);
  state_.rejecting = true;
}

void FrontendHandler::follow_sql_statements(std::string_view sql, Decision& decision,
                                            bool from_query) {
  const std::vector<rewrite::RoleChange> roles =
      rewrite_.active() ? rewrite::role_changes(sql) : std::vector<rewrite::RoleChange>{};
  if (!roles.empty() && (decision == Decision::forward || decision == Decision::rewritten) &&
      !rewrite::detail::sole_statement_verb(sql)) {
    refuse_role_change_beside(sql, decision);
  }
  std::optional<rewrite::SqlPrepared> named;
  if (decision == Decision::forward || decision == Decision::rewritten) {
    named = rewrite::sql_prepared(sql);
  }
  if (named && !named->executed.empty() && rewrite_.active() &&
      (!roles.empty() || rewrite::search_path_change(sql))) {
    refuse_path_change_beside_execute(*named, decision);
    if (decision == Decision::rejected) {
      named.reset();
    }
  }
  std::string again;  // statements that prepare stale names again, in front of the text
  if (named) {
    auto refusal = stale_sql_execute(*named, from_query ? &again : nullptr);
    if (awaiting_catalog_) {
      decision = Decision::suspend;  // the text is offered again once the catalog knows more
      return;
    }
    stale_catalog_attempts_ = 0;
    if (refusal) {
      replacement_ = rewrite::rejection_sql(*refusal);
      armed_copy_.reset();
      armed_staging_.reset();
      decision = Decision::rejected;
      named.reset();
    }
  }
  // DEALLOCATE before PREPARE: the order in which a text drops a name and prepares it again.
  // A Parse's statement changes the session when a Bind runs it (on_bind), maybe many times.
  if (from_query) {
    follow_session_statements(sql, roles, /*from_query=*/true);
  }
  if (named) {
    record_sql_prepared(*named, sql,
                        decision == Decision::rewritten ? std::string_view(replacement_) : sql);
    count_sql_executions(*named);
  }
  if (!again.empty() && decision != Decision::rejected) {
    if (decision == Decision::forward) {
      replacement_.assign(sql);
    }
    replacement_.insert(rewrite::front_of_statements(replacement_), again);
    decision = Decision::rewritten;
    // An error's position counts characters (UTF-8: bytes that do not continue one).
    leading_shift_ =
        static_cast<std::uint32_t>(std::count_if(again.begin(), again.end(), [](char c) {
          return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        }));
  }
}

void FrontendHandler::note_prepared_commit(std::string_view sql, rewrite::detail::SoleVerb verb) {
  // A statement of its own: Postgres refuses it inside a transaction block, implicit ones too.
  if (verb && verb->size() == 6 && rewrite_.active() && rewrite::detail::iequals(*verb, "commit") &&
      rewrite::detail::icontains(sql, "prepared")) [[unlikely]] {
    rewrite_.note_prepared_commit();
  }
}

void FrontendHandler::note_reading_change(std::string_view sql, rewrite::detail::SoleVerb verb,
                                          Decision decision, bool text_changes_reading) {
  // The server reports the new setting only with the answer: texts sent before it arrives (a
  // pipeline, a Query sent before the ReadyForQuery) are read under a setting not known yet.
  if (decision != Decision::rejected && rewrite_.active() &&
      (rewrite_.reading_changed_in_transaction() || text_changes_reading ||
       ((!verb || (verb->front() | 0x20) == 'e' || (verb->front() | 0x20) == 'c') &&
        executes_reading_change(sql, verb)))) [[unlikely]] {
    rewrite_.reading_may_change(state_.tracker.outstanding());
  }
}

bool FrontendHandler::executes_reading_change(std::string_view sql,
                                              rewrite::detail::SoleVerb verb) {
  using rewrite::detail::iequals;
  // One statement runs another only as EXECUTE, under EXPLAIN or CREATE TABLE AS.
  if (verb && !iequals(*verb, "execute") && !iequals(*verb, "explain") &&
      !iequals(*verb, "create")) {
    return false;
  }
  if (!rewrite::detail::icontains(sql, "execute")) {
    return false;
  }
  const auto named = rewrite::sql_prepared(sql);
  return named &&
         std::any_of(named->executed.begin(), named->executed.end(),
                     [&](const std::string& name) { return prepared_changes_reading(name); });
}

bool FrontendHandler::prepared_changes_reading(std::string_view name) {
  if (const PreparedStatement* stmt = prepared_.find(name);
      stmt != nullptr && stmt->changes_reading) {
    return true;
  }
  if (sql_prepared_.empty()) {
    return false;
  }
  const auto* known = sql_prepared_.find(std::string(name));
  return known != nullptr &&
         std::any_of(known->begin(), known->end(), [](const SqlPreparedStatements::Text& text) {
           return rewrite::may_change_reading(text.text);
         });
}

void FrontendHandler::refuse_role_change_beside(std::string_view sql, Decision& decision) {
  apply_refusal(rewrite_.refuse_role_change_beside(sql), decision);
}

void FrontendHandler::refuse_path_change_beside_execute(const rewrite::SqlPrepared& found,
                                                        Decision& decision) {
  for (const std::string& name : found.executed) {
    if (std::find(found.prepared.begin(), found.prepared.end(), name) != found.prepared.end()) {
      continue;  // prepared in the text, under the path it holds there
    }
    std::vector<std::string_view> texts;
    if (const PreparedStatement* stmt = prepared_.find(name)) {
      texts.emplace_back(stmt->sql);
    }
    if (const auto* known = sql_prepared_.find(name)) {
      for (const SqlPreparedStatements::Text& text : *known) {
        texts.emplace_back(text.text);
      }
    }
    for (std::string_view text : texts) {
      apply_refusal(rewrite_.refuse_path_change_beside_execute(text), decision);
      if (decision == Decision::rejected) {
        return;
      }
    }
  }
}

void FrontendHandler::apply_refusal(const TextRewrite& refusal, Decision& decision) {
  if (!refusal) {
    return;
  }
  if (refusal->outcome == rewrite::Outcome::passthrough_unsupported) {
    metrics_.statements_passthrough.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("event=unsupported_passthrough session={} reason={}", session_id_,
                 log_value(refusal->reason));
    return;
  }
  metrics_.statements_rejected.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("event=statement_rejected session={} reason={}", session_id_,
               log_value(refusal->reason));
  replacement_ = rewrite::rejection_sql(refusal->reason);
  armed_copy_.reset();
  armed_staging_.reset();
  decision = Decision::rejected;
}

void FrontendHandler::follow_session_statements(std::string_view sql,
                                                const std::vector<rewrite::RoleChange>& roles,
                                                bool from_query) {
  const bool follow_search_path = rewrite_.active();  // else no names to resolve
  const bool follow_prepared = !prepared_.empty() || !sql_prepared_.empty();
  if (!follow_prepared && !follow_search_path) {
    return;
  }
  if (follow_prepared) {
    if (auto gone = rewrite::deallocation(sql)) {
      // Set aside until the server answers: it may skip or refuse them (settle_deallocations).
      request_settles(from_query);
      if (!state_.deallocations) {
        state_.deallocations = std::make_unique<DeallocationAnswers>();
      }
      for (const std::string& name : gone->names) {
        prepared_.deallocation_sent(name);
        sql_prepared_.deallocation_sent(name);
        state_.deallocations->sent(state_.tracker.outstanding());
      }
    }
  }
  if (!follow_search_path) {
    return;
  }
  rewrite_.settle_answered_steps();  // a Bind's, after a text still unanswered
  // A ROLLBACK TO restores the path the savepoint was taken with, and AND CHAIN ends the
  // transaction, so such a text is followed step by step; a RELEASE or ROLLBACK TO is parsed
  // only while a savepoint is held.
  // So does a COMMIT or ROLLBACK with statements after it in a Query's text: which SETs it
  // kept or undid shows only in the answers.
  std::vector<rewrite::TransactionStep> steps;
  if (rewrite_.savepoints_held() || rewrite::detail::icontains(sql, "savepoint") ||
      rewrite::detail::icontains(sql, "chain") ||
      (from_query && !rewrite::detail::sole_statement_verb(sql))) [[unlikely]] {
    steps = rewrite::transaction_steps(sql);
  }
  // Only a change of the path or role: a SET of another setting holds nothing back.
  if (!steps.empty() || !roles.empty()) {
    request_settles(from_query);
  }
  if (!steps.empty()) [[unlikely]] {
    const bool failed = state_.tracker.outstanding() == 0 &&
                        state_.tracker.status() == protocol::TransactionStatus::failed;
    if (from_query && !state_.tracker.unsynced_answers_due()) {
      // Followed as the server runs them (unless the CommandCompletes of Executes sent before
      // it without a Sync are still to come, and would be taken for its statements').
      rewrite_.follow_as_answered(std::move(steps), roles, state_.tracker.outstanding(), failed);
      return;
    }
    for (const rewrite::TransactionStep& step : steps) {
      if (!rewrite::ends_plainly(step.kind)) {
        rewrite_.apply(step, state_.tracker.outstanding(), failed);  // else on_ready tells
      }
    }
  } else {
    for (const rewrite::SearchPathChange& change : rewrite::search_path_changes(sql)) {
      request_settles(from_query);
      rewrite_.apply(change, state_.tracker.outstanding());
    }
  }
  for (const rewrite::RoleChange& change : roles) {
    rewrite_.apply(change, state_.tracker.outstanding());
  }
}

std::optional<std::string> FrontendHandler::stale_sql_execute(const rewrite::SqlPrepared& found,
                                                              std::string* again) {
  std::uint32_t reprepare = 0;
  std::size_t names_again = 0;
  for (auto name = found.executed.begin(); name != found.executed.end(); ++name) {
    if (std::find(found.prepared.begin(), found.prepared.end(), *name) != found.prepared.end() ||
        std::find(found.executed.begin(), name, *name) != name) {
      continue;  // a text that prepares and executes a name runs what it just prepared
    }
    if (!sql_prepared_runs(*name)) {
      std::optional<std::string> statements;
      // Each name adds two CommandCompletes to hide, counted in a byte.
      if (!awaiting_catalog_ && again != nullptr && names_again < kMaxNamesAgain) {
        if (reprepare == 0) {
          reprepare = sql_prepared_.next_reprepare();
        }
        statements = prepare_sql_again(*name, reprepare);
      }
      if (awaiting_catalog_) {
        return std::nullopt;  // asked again once the catalog knows more
      }
      if (!statements) {
        return stale_refusal(*name, "with PREPARE",
                             "run DEALLOCATE " + *name +
                                 " and PREPARE it again (Switchyard prepares it again itself only "
                                 "in front of an EXECUTE sent as a simple query, and only when "
                                 "it knows which PREPARE the server has)");
      }
      again->append(*statements);
      ++names_again;
      continue;
    }
    if (auto refusal = stale_protocol_statement(*name)) {
      return refusal;
    }
  }
  if (names_again > 0) {
    leading_completes_ = static_cast<std::uint8_t>(2 * names_again);
    leading_confirms_ = reprepare;
  }
  return std::nullopt;
}

std::optional<std::string> FrontendHandler::rewritten_now(
    std::string_view text, bool from_query, std::shared_ptr<const rewrite::RewriteResult>* result) {
  std::string filled;
  TextRewrite now = rewrite_.rewrite(text, from_query, filled);
  if (result != nullptr) {
    *result = now.result;
  }
  if (!now) {
    return std::string(text);
  }
  using rewrite::Outcome;
  switch (now->outcome) {
    case Outcome::unchanged:
    case Outcome::passthrough_unsupported:
      return std::string(text);
    case Outcome::rewritten:
      return std::string(now.sql());
    case Outcome::needs_catalog:
      // The caller suspends for it (awaiting_catalog_) and is asked again; past a few rounds
      // the catalog is not going to know more.
      if (stale_catalog_attempts_ < kMaxCatalogAttempts) {
        ++stale_catalog_attempts_;
        awaiting_catalog_ = now.result;
      }
      break;
    case Outcome::rejected:
      break;
  }
  return std::nullopt;
}

bool FrontendHandler::rewrite_still(std::string_view text, bool from_query, std::string_view sent) {
  const std::optional<std::string> now = rewritten_now(text, from_query);
  return now && *now == sent;
}

bool FrontendHandler::sql_prepared_runs(const std::string& name) {
  apply_sql_reprepares();
  std::vector<SqlPreparedStatements::Text>* texts = sql_prepared_.find(name);
  if (texts == nullptr) {
    return true;
  }
  // Whichever of the texts the server has must run as the flags now rewrite it.
  for (SqlPreparedStatements::Text& prepared : *texts) {
    if (prepared.epoch == rewrite_.epoch()) {
      continue;
    }
    if (prepared.text.empty() ||
        !rewrite_still(prepared.text, /*from_query=*/true, prepared.sent)) {
      return false;
    }
    prepared.epoch = rewrite_.epoch();  // the change of flags or path does not touch it
  }
  return true;
}

std::optional<std::string> FrontendHandler::prepare_sql_again(const std::string& name,
                                                              std::uint32_t reprepare) {
  // Only a statement whose PREPARE is known for sure, and whose hidden answers can be told.
  const std::string* prepare = sql_prepared_.sole_prepare(name);
  if (prepare == nullptr || !state_.track_replies || prepared_.find(name) != nullptr) {
    return std::nullopt;
  }
  std::shared_ptr<const rewrite::RewriteResult> uses;
  std::optional<std::string> now = rewritten_now(*prepare, /*from_query=*/true, &uses);
  if (!now) {
    return std::nullopt;  // the flags now refuse it, or the catalog cannot tell
  }
  std::string statements = rewrite::sql_prepare_again(name, *now);
  // Its EXECUTEs count as the text does now: unchanged after a flip back.
  sql_prepared_.reprepare_sent(name, *prepare, std::move(*now), rewrite_.epoch(), reprepare,
                               uses && !uses->uses.empty() ? std::move(uses) : nullptr);
  spdlog::debug("event=sql_reprepare session={} statement={} generation={}", session_id_,
                log_value(name), rewrite_.generation());
  metrics_.statements_reprepared.fetch_add(1, std::memory_order_relaxed);
  return statements;
}

void FrontendHandler::apply_sql_reprepares() {
  for (std::uint32_t answered : state_.sql_reprepared) {
    sql_prepared_.reprepare_answered(answered);
  }
  state_.sql_reprepared.clear();
}

std::optional<std::string> FrontendHandler::stale_sql_prepared(const std::string& name) {
  if (sql_prepared_runs(name) || awaiting_catalog_) {
    return std::nullopt;
  }
  return stale_refusal(name, "with PREPARE",
                       "run DEALLOCATE " + name +
                           " and PREPARE it again (Switchyard prepares a statement of SQL PREPARE "
                           "again in front of an EXECUTE, not before a Bind)");
}

std::optional<std::string> FrontendHandler::stale_protocol_statement(const std::string& name) {
  PreparedStatement* stmt = prepared_.find(name);
  if (stmt == nullptr || stmt->epoch == rewrite_.epoch()) {
    return std::nullopt;
  }
  if (stmt->epoch != kPrepareAgain &&
      rewrite_still(stmt->sql, /*from_query=*/false, stmt->sent())) {
    stmt->epoch = rewrite_.epoch();
    return std::nullopt;
  }
  if (awaiting_catalog_) {
    return std::nullopt;
  }
  return stale_refusal(name, "through the protocol",
                       "Switchyard prepares it again before a Bind or Describe but not before an "
                       "EXECUTE in SQL: run it through the protocol, or DEALLOCATE " +
                           name + " and prepare it again");
}

std::string FrontendHandler::stale_refusal(const std::string& name, std::string_view how,
                                           const std::string& fix) {
  spdlog::warn("event=sql_prepared_stale session={} statement={}", session_id_, log_value(name));
  metrics_.statements_rejected.fetch_add(1, std::memory_order_relaxed);
  return "switchyard: prepared statement \"" + name + "\" was prepared " + std::string(how) +
         " before the migrations' flags or the session's search_path changed, and its rewrite "
         "changed since; " +
         fix;
}

void FrontendHandler::record_sql_prepared(const rewrite::SqlPrepared& found, std::string_view sql,
                                          std::string_view sent) {
  for (std::size_t i = 0; i < found.prepared.size(); ++i) {
    sql_prepared_.prepared(found.prepared[i], sql, sent, found.prepare_statements[i],
                           rewrite_.epoch(), armed_uses_);
  }
}

void FrontendHandler::count_sql_executions(const rewrite::SqlPrepared& found) {
  for (const std::string& name : found.executed) {
    if (const auto* texts = sql_prepared_.find(name);
        texts && !texts->empty() && texts->back().uses) {
      metrics_.record_uses(*texts->back().uses);
    }
  }
}

bool FrontendHandler::prepares_only(rewrite::detail::SoleVerb verb) {
  return verb && rewrite::detail::iequals(*verb, "prepare");
}

bool FrontendHandler::older_under_name(std::string_view name) {
  const PreparedStatement* stmt = prepared_.find(name);
  return (stmt != nullptr && stmt->epoch != rewrite_.epoch()) || older_sql_under_name(name);
}

bool FrontendHandler::older_sql_under_name(std::string_view name) {
  if (sql_prepared_.empty()) {
    return false;
  }
  apply_sql_reprepares();
  return sql_prepared_.older_than(std::string(name), rewrite_.epoch());
}

bool FrontendHandler::pair_replies() {
  // Pairing starts where nothing sent waits for an answer (it stops only at a boundary).
  if (!state_.track_replies && state_.tracker.all_answered()) {
    state_.track_replies = true;
  }
  return state_.track_replies;
}

void FrontendHandler::settle_statements() {
  while (state_.replies.has_settled()) {
    if (auto closed = prepared_.settle(state_.replies.take_settled());
        closed && !sql_prepared_.empty()) {
      sql_prepared_.erase(*closed);  // the server's Close drops either kind
    }
  }
}

bool FrontendHandler::hold_until_settled(std::string_view sql) {
  // An EXECUTE of a name a deallocation set aside: whether the server still has it, and so
  // whether it must be prepared again, shows in that deallocation's answer.
  awaiting_settle_ = rewrite_.names_mapped_table(sql) ||
                     (state_.deallocations && state_.deallocations->waiting() &&
                      rewrite::detail::icontains(sql, "execute"));
  return awaiting_settle_;
}

bool FrontendHandler::hold_until_settled(const PreparedStatement* stmt) {
  awaiting_settle_ = stmt != nullptr ? rewrite_.names_mapped_table(stmt->sql)
                                     : state_.deallocations && state_.deallocations->waiting();
  return awaiting_settle_;
}

awaitable<void> FrontendHandler::wait_until_settled() {
  // Bounded all the same: a request whose answer never comes (a client that breaks the
  // protocol, a count gone out of step) must not stall the session; the statement then goes
  // on as the path stands, as it did before it waited.
  steady_timer wake(co_await net::this_coro::executor, kSettleWaitLimit);
  state_.settle_wake = &wake;
  while (state_.settle_readies > 0 && !state_.relay_over) {
    co_await wake.async_wait(use_nothrow);
    if (steady_timer::clock_type::now() >= wake.expiry()) {
      spdlog::warn(
          "event=settle_wait_timeout session={} answers_owed={} reason=\"a statement "
          "naming a mapped table waited {} s for the answers to earlier requests that "
          "change the search_path or role; it goes on under the path as sent\"",
          session_id_, state_.settle_readies,
          std::chrono::duration_cast<std::chrono::seconds>(kSettleWaitLimit).count());
      state_.settle_readies = 0;
      break;
    }
  }
  state_.settle_wake = nullptr;
  metrics_.settle_waits.fetch_add(1, std::memory_order_relaxed);
}

void FrontendHandler::settle_deallocations() {
  while (state_.deallocations->has_outcome()) {
    const bool ran = state_.deallocations->take_outcome();
    prepared_.deallocation_answered(ran);
    sql_prepared_.deallocation_answered(ran);
  }
}

void FrontendHandler::housekeeping_at_boundary() {
  // The catalog refresh and SET LOCAL's end happened at the ReadyForQuery (BackendHandler).
  auto before = rewrite_.generation();
  if (rewrite_.adopt_latest()) {
    spdlog::debug("event=generation_adopted session={} from={} to={}", session_id_, before,
                  rewrite_.generation());
  }
  // Nothing is pending at a boundary, so reply tracking can start or stop here.
  state_.track_replies = rewrite_.active() || !prepared_.empty() || !sql_prepared_.empty();
  if (ddl_tables_) [[unlikely]] {
    forget_ddl_tables();
  }
  rewrite_.follow_catalog();
}

void FrontendHandler::note_table_ddl(std::string_view sql) {
  rewrite::TableDdl ddl = rewrite::table_ddl(sql);
  if (!ddl.any && ddl.tables.empty() && ddl.created.empty()) {
    return;  // an index, a function: no column list changes
  }
  if (!ddl_tables_) {
    ddl_tables_ = std::make_unique<rewrite::TableDdl>();
  }
  ddl_tables_->any = ddl_tables_->any || ddl.any;
  for (const std::string& table : ddl.tables) {
    rewrite::add_name(ddl_tables_->tables, table);
  }
  for (const std::string& table : ddl.created) {
    rewrite::add_name(ddl_tables_->created, table);
  }
}

namespace {

constexpr std::string_view kTableChangedInTransaction =
    "another table it names had its columns changed earlier in this transaction (DDL on it), and "
    "the catalog the rewrite resolves column names from sees that only once the transaction "
    "ends: send it after COMMIT, or run the DDL in a transaction of its own";

// One statement of DDL that resolves no column of another table: the rest of a script that
// changed a table (an index on it, a comment, a rename) is not refused. CREATE ... AS, a view's
// or a table's query, still is.
bool resolves_no_columns(std::string_view sql, rewrite::detail::SoleVerb verb) {
  if (!verb) {
    return false;
  }
  using rewrite::detail::iequals;
  static constexpr std::array<std::string_view, 11> kVerbs = {
      "alter",   "drop",   "comment", "grant",   "revoke", "truncate",
      "analyze", "vacuum", "reindex", "cluster", "lock"};
  return std::any_of(kVerbs.begin(), kVerbs.end(),
                     [&](std::string_view v) { return iequals(*verb, v); }) ||
         (iequals(*verb, "create") && !rewrite::detail::icontains_name(sql, "as"));
}

}  // namespace

TextRewrite FrontendHandler::refuse_after_table_ddl(std::string_view sql,
                                                    rewrite::detail::SoleVerb verb,
                                                    const rewrite::RewriteResult& result) const {
  const DatabaseRewrite* rules = rewrite_.snapshot().for_database(rewrite_.database());
  if (rules == nullptr ||
      (result.outcome != rewrite::Outcome::rewritten &&
       result.outcome != rewrite::Outcome::unchanged) ||
      resolves_no_columns(sql, verb)) {
    return {};
  }
  // A mapped table's DDL has its own, narrower check (SessionRewrite, columns_changed).
  const auto& mapped = rules->mapped_tables;
  auto named = [&](const std::string& table) {
    return std::find(mapped.begin(), mapped.end(), table) == mapped.end() &&
           rewrite::detail::icontains_name(sql, rewrite::detail::lower_ascii(table));
  };
  // A table created in the transaction is not in the catalog (its columns are unknown to the
  // rewrite, which is safe) unless another relation of its name is, in another schema of the
  // path: then the rewrite may have read that one's columns for it.
  const bool names_changed =
      std::any_of(ddl_tables_->tables.begin(), ddl_tables_->tables.end(), named) ||
      std::any_of(ddl_tables_->created.begin(), ddl_tables_->created.end(),
                  [&](const std::string& table) {
                    return named(table) && rules->catalog->names_relation(table);
                  });
  if (!names_changed) {
    return {};
  }
  rewrite::RewriteResult refusal;
  bool reject = false;
  std::string names;
  for (const rewrite::Migration& m : rules->rewriter->migrations()) {
    if (rewrite::detail::icontains_name(sql, rewrite::detail::lower_ascii(m.table))) {
      reject = reject || m.reject_unsupported;
      names += (names.empty() ? "\"" : ", \"") + m.name + "\"";
      refusal.uses.push_back(rewrite::MigrationUse{m.name});
    }
  }
  if (names.empty()) {
    return {};
  }
  refusal.outcome = reject ? rewrite::Outcome::rejected : rewrite::Outcome::passthrough_unsupported;
  refusal.reason = "migration " + names + ": " + std::string(kTableChangedInTransaction);
  return {std::make_shared<const rewrite::RewriteResult>(std::move(refusal)), std::nullopt};
}

void FrontendHandler::forget_ddl_tables() {
  if (const DatabaseRewrite* rules = rewrite_.snapshot().for_database(rewrite_.database())) {
    std::vector<std::string> tables = std::move(ddl_tables_->tables);
    tables.insert(tables.end(), ddl_tables_->created.begin(), ddl_tables_->created.end());
    std::string names = ddl_tables_->any ? "*" : "";
    for (const std::string& table : tables) {
      names += (names.empty() ? "" : ",") + table;
    }
    rules->catalog->invalidate(ddl_tables_->any ? rules->catalog->known_tables() : tables);
    rewrite_.ddl_committed(tables, ddl_tables_->any);
    spdlog::info("event=catalog_invalidated session={} database={} reason=ddl tables={}",
                 session_id_, log_value(rewrite_.database()), log_value(names));
  }
  ddl_tables_.reset();
}

FrontendHandler::Decision FrontendHandler::decide(std::string_view sql,
                                                  rewrite::detail::SoleVerb verb, bool from_query) {
  const bool ddl = rewrite_.active() && rewrite::may_change_columns(sql, verb);
  const Decision decision = decide_rewrite(sql, verb, from_query);
  // Noted once the text goes on: a suspended text is offered again after the catalog fetched
  // what it names, and noting its DDL the first time would have the boundary before that
  // second offer forget the fetch (and the text wait for it again, until refused).
  if (ddl && decision != Decision::suspend) [[unlikely]] {
    note_table_ddl(sql);
  }
  return decision;
}

FrontendHandler::Decision FrontendHandler::decide_rewrite(std::string_view sql,
                                                          rewrite::detail::SoleVerb verb,
                                                          bool from_query) {
  if (rewrite_.rebuild_awaited()) [[unlikely]] {
    awaiting_rebuild_ = true;  // offered again once the rules cover the new partition
    return Decision::suspend;
  }
  armed_uses_.reset();
  armed_text_.rewrite.reset();
  armed_text_.shaped_original.clear();  // its buffer is reused
  const bool ddl_before = ddl_tables_ != nullptr;
  TextRewrite result = rewrite_.rewrite(sql, from_query, replacement_);
  if (!result) {
    return Decision::forward;
  }
  if (ddl_before) [[unlikely]] {
    if (TextRewrite refusal = refuse_after_table_ddl(sql, verb, *result)) {
      result = std::move(refusal);
    }
  }
  using rewrite::Outcome;
  if (!from_query && !result->hidden_statements.empty()) [[unlikely]] {
    result = staged_outside_query(*result);
  }
  // A prepared statement counts its migration uses at each execution: a pool that prepared
  // its statements long ago still runs them, and the runbook's gates must see that.
  const bool per_execution =
      !result->uses.empty() && result->outcome != Outcome::rejected &&
      (!from_query || (result->outcome != Outcome::needs_catalog && prepares_only(verb)));
  metrics_.record_rewrite(*result, /*uses=*/!per_execution);
  if (per_execution) {
    armed_uses_ = result.result;
  }
  if (auto failure = rewrite_.take_catalog_failure();
      failure && result->outcome == Outcome::needs_catalog) {
    catalog_attempts_ = 0;
    replacement_ = rewrite::rejection_sql(failure->message, {}, failure->sqlstate);
    metrics_.statements_rejected.fetch_add(1, std::memory_order_relaxed);
    return Decision::rejected;
  }
  if (result->outcome == Outcome::needs_catalog) {
    if (catalog_attempts_ < kMaxCatalogAttempts) {
      ++catalog_attempts_;
      awaiting_catalog_ = result.result;
      return Decision::suspend;
    }
    // The catalog could not tell: refuse rather than guess (DESIGN §3).
    catalog_attempts_ = 0;
    replacement_ = rewrite::rejection_sql(
        "switchyard: cannot rewrite this statement: the catalog does not describe " +
        rewrite::catalog_needs(*result));
    metrics_.statements_rejected.fetch_add(1, std::memory_order_relaxed);
    return Decision::rejected;
  }
  catalog_attempts_ = 0;
  if (result->ddl_on_mapped_table) {
    rewrite_.note_ddl(*result);
  }
  switch (result->outcome) {
    case Outcome::unchanged:
      return Decision::forward;
    case Outcome::passthrough_unsupported:
      metrics_.statements_passthrough.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("event=unsupported_passthrough session={} reason={}", session_id_,
                   log_value(result->reason));
      spdlog::debug("event=unsupported_passthrough session={} sql={}", session_id_, log_value(sql));
      return Decision::forward;
    case Outcome::rejected:
      metrics_.statements_rejected.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("event=statement_rejected session={} reason={}", session_id_,
                   log_value(result->reason));
      replacement_ = rewrite::rejection_sql(result->reason);
      if (from_query && result->refused_statement > 0) {
        run_statements_before(sql, result->refused_statement);
      }
      return Decision::rejected;
    case Outcome::rewritten:
      metrics_.statements_rewritten.fetch_add(1, std::memory_order_relaxed);
      if (spdlog::should_log(spdlog::level::debug)) {  // log_value copies both texts
        spdlog::debug("event=statement_rewritten session={} generation={} sql={} rewritten={}",
                      session_id_, rewrite_.generation(), log_value(sql), log_value(result.sql()));
      }
      if (!result->hidden_statements.empty()) {
        armed_staging_ = result.result;
      }
      if (!result.shape_sql) {
        replacement_.assign(result->sql);  // a shape's text is in it already
      } else {
        armed_text_.shaped_original.assign(sql);  // the key's map: the text is needed too
      }
      armed_text_.rewrite = result.result;
      armed_copy_ = result->copy ? result.result : nullptr;
      return Decision::rewritten;
    case Outcome::needs_catalog:
      break;
  }
  return Decision::forward;
}

void FrontendHandler::run_statements_before(std::string_view sql, std::size_t refused) {
  const auto start = rewrite::statement_start(sql, refused);
  // The session changes the proxy follows are taken from the text as a whole, so statements
  // that change one do not run in front of the refusal; savepoints and AND CHAIN do, as the
  // proxy follows them up to the error as the server runs them.
  if (!start || (rewrite::may_change_session(sql.substr(0, *start)) &&
                 !changes_only_transactions(sql.substr(0, *start)))) {
    return;
  }
  std::string before;
  const TextRewrite result = rewrite_.rewrite(sql.substr(0, *start), true, before);
  if (!result || result->outcome == rewrite::Outcome::unchanged) {
    replacement_.insert(0, sql.substr(0, *start));
  } else if (result->outcome == rewrite::Outcome::rewritten && !result->copy &&
             result->hidden_statements.empty()) {
    replacement_.insert(0, result.sql());
  }
  // Otherwise (a COPY transformed or staged, a look-up in the catalog) the text is refused whole.
}

TextRewrite FrontendHandler::staged_outside_query(const rewrite::RewriteResult& staged) {
  // One Parse carries one statement; a staged COPY takes four (rewrite/copy_staging.cpp). The
  // statement is told as unsupported, under its migrations' on_unsupported.
  auto told = std::make_shared<rewrite::RewriteResult>(staged);
  told->outcome = staged.staged_passthrough ? rewrite::Outcome::passthrough_unsupported
                                            : rewrite::Outcome::rejected;
  told->reason = staged.staged_because +
                 " goes through a staging table, which takes statements of Switchyard's own "
                 "around it: send this COPY as a simple query (the extended protocol's Parse "
                 "holds one statement)";
  return {std::move(told), std::nullopt};
}

awaitable<void> FrontendHandler::complete() {
  if (auto pending = std::move(awaiting_catalog_)) {
    co_await rewrite_.fetch_missing(*pending);
  }
  if (awaiting_rebuild_) {
    awaiting_rebuild_ = false;
    co_await rewrite_.await_rebuild();
  }
  if (awaiting_settle_) {
    awaiting_settle_ = false;
    co_await wait_until_settled();
  }
  if (reprepare_ != Reprepare::none && state_.check->waiting && !state_.relay_over) {
    // Woken by the server direction once the Describes sent are answered (or skipped), or by
    // the end of the relay.
    steady_timer wake(co_await net::this_coro::executor, steady_timer::time_point::max());
    state_.check->wake = &wake;
    while (state_.check->waiting && !state_.relay_over) {
      co_await wake.async_wait(use_nothrow);
    }
    state_.check->wake = nullptr;
  }
}

FrameAction FrontendHandler::on_frame(const protocol::Frame& frame, protocol::MessageWriter& out) {
  const ReleaseIfLong release{replacement_};
  if (prepared_.pending()) {
    settle_statements();
  }
  // After the Parses and Closes: those sent before a deallocation are answered before it.
  if (state_.deallocations && state_.deallocations->has_outcome()) [[unlikely]] {
    settle_deallocations();
  }
  if (copy_) {
    return on_copy(frame, out);
  }
  if (state_.rejecting) {
    // Postgres skips everything after an error until Sync; so do we, for our own error.
    if (frame.type == fe::kSync) {
      state_.rejecting = false;
      sent(frame.type);
      return FrameAction::forward;
    }
    if (frame.type == fe::kTerminate) {
      state_.terminate_sent = true;
      sent(frame.type);
      return FrameAction::forward;
    }
    return FrameAction::drop;
  }
  switch (frame.type) {
    case fe::kQuery:
      return on_query(frame, out);
    case fe::kParse:
      return on_parse(frame, out);
    case fe::kClose:
      return on_close(frame);
    case fe::kBind:
      return on_bind(frame, out);
    case fe::kDescribe:
      return on_describe(frame, out);
    case fe::kExecute:
      arm_copy_portal(frame);
      if (rewrite_.active() && rewrite_.reading_changed_in_transaction()) [[unlikely]] {
        // A suspended portal's next rows may call set_config again.
        rewrite_.reading_may_change(state_.tracker.outstanding());
      }
      break;
    case fe::kTerminate:
      state_.terminate_sent = true;
      // A migration tool's connection runs its DDL and closes: other sessions read the
      // relations again now rather than at the catalog check.
      if (ddl_tables_) [[unlikely]] {
        forget_ddl_tables();
      }
      break;
    default:
      break;
  }
  sent(frame.type);
  return FrameAction::forward;
}

FrameAction FrontendHandler::on_query(const protocol::Frame& frame, protocol::MessageWriter& out) {
  if (state_.settle_readies > 0) [[unlikely]] {
    // Before the earlier text's steps are taken as run (settle_answered_steps).
    if (auto query = protocol::decode_query(frame.body); query && hold_until_settled(query->sql)) {
      return FrameAction::send_then_suspend;
    }
  }
  at_boundary_housekeeping();
  rewrite_.settle_answered_steps();
  auto query = protocol::decode_query(frame.body);
  if (!query) {
    sent(frame.type);
    return FrameAction::forward;  // malformed: let the server say so
  }
  armed_copy_.reset();
  if (armed_staging_) {
    armed_staging_.reset();
  }
  // One look at the statement's first word for all the per-statement checks.
  const rewrite::detail::SoleVerb verb = rewrite::detail::sole_statement_verb(query->sql);
  Decision decision = decide(query->sql, verb, /*from_query=*/true);
  note_prepared_commit(query->sql, verb);
  // A text of several statements may end a transaction whose SETs are followed, and go on.
  if (decision != Decision::suspend &&
      (rewrite::may_change_session(query->sql, verb) || (!verb && rewrite_.follows_completes()))) {
    follow_sql_statements(query->sql, decision, /*from_query=*/true);
  }
  if (decision != Decision::suspend && rewrite_.transaction_end_changes_settings() &&
      (!verb || rewrite::transaction_end(query->sql, verb) != rewrite::TransactionEnd::none))
      [[unlikely]] {
    request_settles(/*from_query=*/true);
  }
  if (decision != Decision::suspend) {
    note_reading_change(query->sql, verb, decision,
                        rewrite_.active() && rewrite::may_change_reading(query->sql, verb));
    metrics_.queries_simple.fetch_add(1, std::memory_order_relaxed);
    metrics_.count_statement(query->sql);
  }
  switch (decision) {
    case Decision::suspend:
      return FrameAction::suspend;
    case Decision::forward:
      sent(frame.type);
      return FrameAction::forward;
    case Decision::rejected:
      // Its ReadyForQuery is the client's; it is followed only in case the server skips it.
      if (!state_.tracker.skipping()) {
        state_.readies_to_drop.pass_after(state_.tracker.outstanding());
        ++state_.rejections_pending;
      }
      break;
    case Decision::rewritten:
      break;
  }
  protocol::encode_query(out, replacement_);
  sent(frame.type);
  if (decision == Decision::rewritten) {
    arm_positions();
  }
  if (leading_completes_ > 0) {
    state_.replies.hide_first_completes(leading_completes_, leading_confirms_, leading_shift_);
    leading_completes_ = 0;
  }
  if (armed_staging_ && decision == Decision::rewritten) {
    watch_staged_completes();
  }
  if (armed_copy_) {
    arm_copy(*std::exchange(armed_copy_, nullptr)->copy);
  }
  return FrameAction::replace;
}

void FrontendHandler::arm_positions() {
  if (armed_text_.rewrite && state_.track_replies) {
    state_.replies.rewritten(armed_text_);
  }
  armed_text_.rewrite.reset();
  armed_text_.shaped_original.clear();
}

void FrontendHandler::arm_copy(const rewrite::CopyPlan& plan) {
  copy_ = std::make_unique<rewrite::CopyRowTransformer>(plan);
  copy_failed_ = false;
  state_.copy_in_columns = plan.input_columns;
}

void FrontendHandler::bound_to_portal(std::string_view portal, const PreparedStatement* stmt) {
  auto it = std::find_if(copy_portals_.begin(), copy_portals_.end(),
                         [portal](const CopyPortal& p) { return p.first == portal; });
  if (stmt != nullptr && stmt->copy) {
    if (it == copy_portals_.end()) {
      copy_portals_.emplace_back(std::string(portal), stmt->copy);
    } else {
      it->second = stmt->copy;
    }
  } else if (it != copy_portals_.end()) {
    copy_portals_.erase(it);  // the name now holds another statement's portal
  }
}

void FrontendHandler::arm_copy_portal(const protocol::Frame& frame) {
  auto execute = protocol::decode_execute(frame.body);
  if (!execute) {
    return;  // malformed: the server says so
  }
  auto it = std::find_if(copy_portals_.begin(), copy_portals_.end(),
                         [&](const CopyPortal& p) { return p.first == execute->portal; });
  if (it == copy_portals_.end()) {
    return;
  }
  // Postgres runs a COPY's portal once: a second Execute of it copies nothing.
  const auto copy = std::move(it->second);
  copy_portals_.erase(it);
  arm_copy(*copy->copy);
}

void FrontendHandler::watch_staged_completes() {
  // The engine stages a COPY only among a text's first 64 statements (copy_staging.cpp).
  auto mask = [](const std::vector<int>& statements) {
    std::uint64_t bits = 0;
    for (int statement : statements) {
      if (statement >= 0 && statement < 64) {
        bits |= std::uint64_t{1} << statement;
      }
    }
    return bits;
  };
  // Replies are paired whenever a migration applies to the session's database, which a
  // staged COPY needs.
  if (state_.track_replies) {
    state_.replies.watch_completes(mask(armed_staging_->hidden_statements),
                                   mask(armed_staging_->copy_count_statements),
                                   {armed_staging_, &armed_staging_->staged_because});
  }
  armed_staging_.reset();
}

FrameAction FrontendHandler::on_parse(const protocol::Frame& frame, protocol::MessageWriter& out) {
  if (state_.settle_readies > 0) [[unlikely]] {
    if (auto parse = protocol::decode_parse(frame.body);
        parse && hold_until_settled(parse->query)) {
      return FrameAction::send_then_suspend;
    }
  }
  at_boundary_housekeeping();
  rewrite_.settle_answered_steps();
  auto parse = protocol::decode_parse(frame.body);
  if (!parse) {
    sent(frame.type);
    return FrameAction::forward;
  }
  armed_copy_.reset();
  // One look at the statement's first word for all the per-statement checks.
  const rewrite::detail::SoleVerb verb = rewrite::detail::sole_statement_verb(parse->query);
  Decision decision = decide(parse->query, verb);
  note_prepared_commit(parse->query, verb);
  const bool changes_session =
      decision != Decision::suspend && rewrite::may_change_session(parse->query, verb);
  if (changes_session) {
    follow_sql_statements(parse->query, decision, /*from_query=*/false);
  }
  if (decision == Decision::suspend) {
    return FrameAction::suspend;
  }
  // Asked once: of the text now, and of each Bind of the statement later.
  const bool changes_reading = rewrite::may_change_reading(parse->query, verb);
  note_reading_change(parse->query, verb, decision, changes_reading);
  metrics_.queries_extended.fetch_add(1, std::memory_order_relaxed);
  metrics_.count_statement(parse->query);
  if (decision == Decision::rejected) {
    reject_batch(replacement_, out);
    return FrameAction::replace;
  }
  // A Parse of a name the server has fails there (42P05) and leaves the statement it has, and
  // one after an error in its batch is skipped: a named Parse replaces the record of its name
  // only at its ParseComplete, so that after a flip the name is prepared again from the text
  // the server has. A name prepared in SQL under older flags is prepared again from this text
  // at its next Bind, as is a name parsed before replies could be paired, when the text the
  // server has under the name may be of older flags.
  const bool named = !parse->statement.empty();
  const bool sql_kept = named && older_sql_under_name(parse->statement);
  const bool settles = named && !sql_kept && pair_replies();
  const bool older_kept = sql_kept || (named && !settles && older_under_name(parse->statement));
  // Recorded even while no migration applies to this database: a reload may add one, and
  // then this statement must be prepared again before its next Bind (DESIGN §4). Assigned in
  // place: a client that parses its unnamed statement for every query (extended protocol
  // without prepared statements) reuses the entry's buffers instead of allocating anew.
  PreparedStatement& prepared =
      settles ? prepared_.parse_sent(parse->statement) : prepared_.record(parse->statement);
  prepared.sql.assign(parse->query);
  const auto types = parse->param_types.wire();
  prepared.param_types.assign(types.begin(), types.end());
  prepared.epoch = older_kept ? kPrepareAgain : rewrite_.epoch();
  prepared.results_told();
  if (decision == Decision::rewritten) {
    prepared.rewritten.assign(replacement_);
  } else {
    prepared.rewritten.clear();
  }
  prepared.copy = std::move(armed_copy_);
  // A PREPARE's statement counts at each EXECUTE of it (count_sql_executions), not here.
  if (!changes_session || !prepares_only(verb)) {
    prepared.uses = std::move(armed_uses_);
  } else {
    prepared.uses.reset();
  }
  prepared.changes_session = changes_session;
  prepared.changes_reading = changes_reading;
  prepared.ends = rewrite::transaction_end(parse->query, verb);
  sent(frame.type, false, settles);
  if (decision == Decision::forward) {
    return FrameAction::forward;
  }
  arm_positions();
  protocol::encode_parse(out, parse->statement, replacement_, parse->param_types);
  return FrameAction::replace;
}

FrameAction FrontendHandler::on_close(const protocol::Frame& frame) {
  auto close = protocol::decode_describe_or_close(frame.body);
  if (close && close->kind == 'P' && !copy_portals_.empty()) {
    bound_to_portal(close->name, nullptr);
  } else if (close && close->kind == 'S') {
    // Skipped after an error in its batch, a Close leaves the statement: the name is dropped
    // at the CloseComplete (settle_statements).
    if (!close->name.empty() && pair_replies()) {
      prepared_.close_sent(close->name);
      sent(frame.type, false, true);
      return FrameAction::forward;
    }
    prepared_.erase(close->name);
    if (!sql_prepared_.empty()) {
      sql_prepared_.erase(std::string(close->name));  // the server's Close drops either kind
    }
  }
  sent(frame.type);
  return FrameAction::forward;
}

FrameAction FrontendHandler::on_bind(const protocol::Frame& frame, protocol::MessageWriter& out) {
  auto bind = protocol::decode_bind_target(frame.body);
  if (!bind) {
    at_boundary_housekeeping();
    sent(frame.type);
    return FrameAction::forward;
  }
  PreparedStatement* stmt = nullptr;
  if (auto action = prepare_if_stale(bind->statement, stmt, out)) {
    return *action;
  }
  if (stmt == nullptr && !sql_prepared_.empty()) {
    // A statement of SQL PREPARE bound through the protocol (libpq's PQexecPrepared may name
    // one): the proxy cannot prepare it again either.
    auto refusal = stale_sql_prepared(std::string(bind->statement));
    if (awaiting_catalog_) {
      return FrameAction::suspend;  // offered again once the catalog knows more
    }
    stale_catalog_attempts_ = 0;
    if (refusal) {
      reject_batch(rewrite::rejection_sql(*refusal), out);
      return FrameAction::replace;
    }
  }
  if (stmt != nullptr && stmt->result_change &&
      (stmt->result_change->width_changed ||
       (!stmt->result_change->changed.empty() &&
        asks_changed_in_binary(frame, bind->statement, *stmt)))) {
    if (stmt->result_change->width_changed) {
      spdlog::info("event=result_type_changed session={} statement={} columns={}", session_id_,
                   log_value(bind->statement), stmt->result_change->told.size());
      metrics_.result_type_refusals.fetch_add(1, std::memory_order_relaxed);
    }
    reject_batch(rewrite::rejection_sql(
                     kResultTypeChanged,
                     "Switchyard prepared statement \"" + std::string(bind->statement) +
                         "\" again after a migration flip, and its result now has " +
                         (stmt->result_change->width_changed
                              ? std::string("another number of columns")
                              : std::string("a column of another type, which this Bind asks for in "
                                            "binary")) +
                         ". Prepare or describe the statement again."),
                 out);
    return FrameAction::replace;
  }
  if (!copy_portals_.empty() || (stmt != nullptr && stmt->copy)) {
    bound_to_portal(bind->portal, stmt);
  }
  if (stmt != nullptr && stmt->uses) {
    metrics_.record_uses(*stmt->uses);
  }
  // Read before the statement is followed: a DEALLOCATE or DISCARD ALL drops its own entry.
  const rewrite::TransactionEnd ends = stmt != nullptr ? stmt->ends : rewrite::TransactionEnd::none;
  const bool known = stmt != nullptr;
  const bool changes_reading = known && stmt->changes_reading;
  if (stmt != nullptr && stmt->changes_session) {
    // In the order the server runs it: a SET only parsed changes nothing, one prepared once and
    // bound for every request (psycopg's and pgbench's prepared SET search_path) each time.
    const std::string sql = stmt->sql;
    stmt = nullptr;
    follow_session_statements(
        sql, rewrite_.active() ? rewrite::role_changes(sql) : std::vector<rewrite::RoleChange>{},
        /*from_query=*/false);
  }
  if (ends != rewrite::TransactionEnd::none) [[unlikely]] {
    if (rewrite_.transaction_end_changes_settings()) {
      request_settles(/*from_query=*/false);
    }
    if (rewrite_.settings_uncommitted() && !state_.tracker.skipping()) {
      rewrite_.note_end_bound(ends == rewrite::TransactionEnd::rollback,
                              state_.tracker.next_answer(), state_.tracker.outstanding());
    }
  }
  // Its SET or set_config runs now, not at its Parse; and after one in this transaction, any
  // statement may end it and undo a SET LOCAL.
  if (rewrite_.active() &&
      (rewrite_.reading_changed_in_transaction() ||
       (known ? changes_reading
              : !bind->statement.empty() && prepared_changes_reading(bind->statement))))
      [[unlikely]] {
    rewrite_.reading_may_change(state_.tracker.outstanding());
  }
  sent(frame.type);
  return FrameAction::forward;
}

bool FrontendHandler::asks_changed_in_binary(const protocol::Frame& frame,
                                             std::string_view statement,
                                             const PreparedStatement& stmt) {
  auto formats = protocol::decode_bind_result_formats(frame.body);
  if (!formats) {
    return false;  // malformed: the server says so
  }
  for (std::uint32_t column : stmt.result_change->changed) {
    if (formats->binary(column)) {
      // What Postgres answers when a column of a prepared statement changed type under it
      // (drivers know it by its routine: asyncpg prepares the statement again). Raised through
      // the server so that a transaction block fails as it would there.
      spdlog::info("event=result_type_changed session={} statement={} column={}", session_id_,
                   log_value(statement), column + 1);
      metrics_.result_type_refusals.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

FrameAction FrontendHandler::on_describe(const protocol::Frame& frame,
                                         protocol::MessageWriter& out) {
  auto describe = protocol::decode_describe_or_close(frame.body);
  if (!describe || describe->kind != 'S') {
    at_boundary_housekeeping();
    sent(frame.type);
    return FrameAction::forward;
  }
  PreparedStatement* stmt = nullptr;
  if (auto action = prepare_if_stale(describe->name, stmt, out)) {
    return *action;
  }
  if (stmt != nullptr) {
    stmt->results_told();
  }
  sent(frame.type);
  return FrameAction::forward;
}

std::optional<FrameAction> FrontendHandler::prepare_if_stale(std::string_view statement,
                                                             PreparedStatement*& stmt,
                                                             protocol::MessageWriter& out) {
  if (reprepare_ != Reprepare::none) {
    // Offered again once the server described the statement before its re-prepare, and again
    // once after. Flags are not adopted here: the statement is prepared for the generation
    // adopted then.
    const Reprepare step = std::exchange(reprepare_, Reprepare::none);
    stmt = prepared_.find(statement);
    if (state_.check->waiting) {
      return FrameAction::drop;  // woken because the session is ending
    }
    if (stmt != nullptr && step == Reprepare::describing && state_.check->answers == 1) {
      return send_prepared_again(statement, *stmt, out);
    }
    if (stmt != nullptr) {
      settle_result_types(statement, *stmt);
    }
    return std::nullopt;
  }
  if (state_.settle_readies > 0 && hold_until_settled(prepared_.find(statement))) [[unlikely]] {
    return FrameAction::send_then_suspend;
  }
  // A transaction may start with a Bind or Describe of a statement prepared earlier: flags
  // adopted here apply to it.
  at_boundary_housekeeping();
  stmt = prepared_.find(statement);
  if (stmt == nullptr || stmt->epoch == rewrite_.epoch()) {
    return std::nullopt;
  }
  // Until the batch or the failed transaction ends the server answers nothing (skipping to
  // Sync) or only errors: a re-prepare would wait for answers that come after the Sync it
  // holds back, or lose the statement to a Close whose Parse fails (25P02). With nothing sent
  // that could end them first (no Sync, Query or ROLLBACK unanswered), the client's message
  // goes on as it is, to be skipped or refused as it would be without the proxy, and the
  // statement is prepared again at its next Bind or Describe.
  if (state_.tracker.outstanding() == 0 &&
      (state_.error_before_ready ||
       state_.tracker.status() == protocol::TransactionStatus::failed)) {
    return std::nullopt;
  }
  return prepare_again(statement, *stmt, out);
}

std::optional<FrameAction> FrontendHandler::prepare_again(std::string_view statement,
                                                          PreparedStatement& stmt,
                                                          protocol::MessageWriter& out) {
  Decision decision = decide(stmt.sql, rewrite::detail::sole_statement_verb(stmt.sql));
  if (decision == Decision::suspend) {
    return FrameAction::suspend;
  }
  if (decision == Decision::rejected) {
    // Under the new flags this statement cannot be served: fail the batch like a bad Parse.
    reject_batch(replacement_, out);
    return FrameAction::replace;
  }
  stmt.copy = std::move(armed_copy_);
  stmt.uses = std::move(armed_uses_);
  const bool rewritten = decision == Decision::rewritten;
  std::string_view text = rewritten ? std::string_view(replacement_) : stmt.sql;
  // After a re-prepare the server skipped, the text it has is not known.
  const bool server_text_known = stmt.epoch != kPrepareAgain;
  stmt.epoch = rewrite_.epoch();
  if (server_text_known && text == stmt.sent()) {
    return std::nullopt;
  }
  // Prepare it again under the same name, between two Describes: the client may decode results
  // by the types it was told before the flip, so the server describes the statement as it was
  // and as it is before the client's message goes on; and if an error made the server skip the
  // re-prepare, that is known. The first answer comes before the new Parse, which keeps the
  // parameter types it gives. The client never sees the extra replies.
  spdlog::debug("event=reprepare session={} statement={} generation={}", session_id_,
                log_value(statement), rewrite_.generation());
  metrics_.statements_reprepared.fetch_add(1, std::memory_order_relaxed);
  if (!state_.check) {
    state_.check = std::make_unique<ResultTypeCheck>();
  }
  *state_.check = ResultTypeCheck{};
  state_.check->text.assign(text);
  state_.check->rewritten = rewritten;
  protocol::encode_describe(out, 'S', statement);
  sent(fe::kDescribe, true);
  protocol::encode_flush(out);
  sent(fe::kFlush);
  state_.check->waiting = true;
  reprepare_ = Reprepare::describing;
  return FrameAction::send_then_suspend;
}

FrameAction FrontendHandler::send_prepared_again(std::string_view statement,
                                                 PreparedStatement& stmt,
                                                 protocol::MessageWriter& out) {
  ResultTypeCheck& check = *state_.check;
  // The client's types where it gave one, the statement's former types where it left it to
  // the server (0).
  const protocol::ParamTypes given(stmt.param_types);
  const std::size_t count = std::max(given.size(), check.params_before.size());
  std::vector<std::byte> types(count * 4);
  for (std::size_t i = 0; i < count; ++i) {
    std::uint32_t oid = i < given.size() ? static_cast<std::uint32_t>(given[i]) : 0;
    if (oid == 0 && i < check.params_before.size()) {
      oid = check.params_before[i];
    }
    protocol::put_i32(types.data() + i * 4, static_cast<std::int32_t>(oid));
  }
  protocol::encode_close(out, 'S', statement);
  sent(fe::kClose, true);
  protocol::encode_parse(out, statement, check.text, protocol::ParamTypes(types));
  sent(fe::kParse, true);
  if (check.rewritten) {
    stmt.rewritten.assign(check.text);
  } else {
    stmt.rewritten.clear();
  }
  protocol::encode_describe(out, 'S', statement);
  sent(fe::kDescribe, true);
  protocol::encode_flush(out);
  sent(fe::kFlush);
  check.waiting = true;
  reprepare_ = Reprepare::comparing;
  return FrameAction::send_then_suspend;
}

void FrontendHandler::settle_result_types(std::string_view statement, PreparedStatement& stmt) {
  const ResultTypeCheck& check = *state_.check;
  if (check.answers < 2) {
    // An error came first (the client sees it): the server may not have the new text.
    stmt.epoch = kPrepareAgain;
    return;
  }
  // Compared with what the client was told: after a flip and a flip back, a client that
  // never described the statement in between decodes by the types of before both.
  if (!stmt.result_change) {
    stmt.result_change = std::make_unique<ResultChange>();
    stmt.result_change->told = check.before;
  }
  ResultChange& change = *stmt.result_change;
  const auto& now = check.after;
  change.changed.clear();
  for (std::size_t i = 0; i < now.size(); ++i) {
    if (i >= change.told.size() || change.told[i] != now[i]) {
      change.changed.push_back(static_cast<std::uint32_t>(i));
    }
  }
  change.width_changed = now.size() != change.told.size();
  if (change.changed.empty() && !change.width_changed) {
    stmt.result_change.reset();  // the server's types are the client's again
  } else {
    spdlog::debug("event=result_types_compared session={} statement={} changed_columns={}",
                  session_id_, log_value(statement), change.changed.size());
  }
}

FrameAction FrontendHandler::on_copy(const protocol::Frame& frame, protocol::MessageWriter& out) {
  std::string rows;
  switch (frame.type) {
    case fe::kCopyData: {
      if (copy_failed_) {
        return FrameAction::drop;
      }
      std::string_view chunk(reinterpret_cast<const char*>(frame.body.data()), frame.body.size());
      bool ok = copy_->feed(chunk, rows);
      if (!rows.empty()) {
        encode_copy_data(out, rows);
      }
      if (!ok) {
        // Abort the COPY on the server with the reason; the client gets the server's error.
        copy_failed_ = true;
        out.begin_message(fe::kCopyFail);
        out.cstring("switchyard: " + copy_->error());
        out.finish_message();
        sent(fe::kCopyFail);
      }
      return FrameAction::replace;
    }
    case fe::kCopyDone: {
      bool ok = copy_failed_ || copy_->finish(rows);
      if (!rows.empty()) {
        encode_copy_data(out, rows);
      }
      if (copy_failed_) {
        copy_.reset();
        return FrameAction::drop;  // the server already ended the COPY
      }
      if (!ok) {
        out.begin_message(fe::kCopyFail);
        out.cstring("switchyard: " + copy_->error());
        out.finish_message();
        sent(fe::kCopyFail);
      } else {
        out.begin_message(fe::kCopyDone);
        out.finish_message();
        sent(fe::kCopyDone);
      }
      copy_.reset();
      return FrameAction::replace;
    }
    case fe::kCopyFail:
      copy_.reset();
      sent(frame.type);
      return copy_failed_ ? FrameAction::drop : FrameAction::forward;
    default:
      // Sync/Flush during COPY (or after the Execute that starts it), or a message that ends
      // it: the server aborts the COPY, or it never started (an error came first).
      if (frame.type == fe::kSync || frame.type == fe::kFlush) {
        sent(frame.type);
        return FrameAction::forward;
      }
      copy_.reset();
      state_.copy_in_columns = 0;
      return on_frame(frame, out);
  }
}

}  // namespace switchyard::proxy
