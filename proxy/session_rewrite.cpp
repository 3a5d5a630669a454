#include "proxy/session_rewrite.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "proxy/logging.hpp"
#include "proxy/long_buffers.hpp"
#include "proxy/long_rewrite.hpp"
#include "rewrite/literal_shape.hpp"
#include "rewrite/new_descendant.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::proxy {

std::string rewrite_context_key(std::string_view database, const rewrite::SessionContext& context) {
  // The caches are the process's, and each database has rules of its own: two databases with
  // a table of one name, under one user and path, would otherwise share a text's rewrite.
  std::string key(database);
  key.push_back('\0');
  key += context.user;
  for (const auto& schema : context.search_path) {
    key.push_back('\0');
    key += schema;
  }
  return key;
}

SessionRewrite::SessionRewrite(ProxyState& state, Metrics& metrics, OffThread off_thread,
                               std::string user, std::string database,
                               std::vector<std::string> search_path)
    : state_(state), metrics_(metrics), off_thread_(off_thread), database_(std::move(database)) {
  context_.user = std::move(user);
  static const SearchPath kDefault =
      std::make_shared<const std::vector<std::string>>(rewrite::SessionContext{}.search_path);
  // The server reports the default for nearly every session: those share one.
  startup_search_path_ =
      search_path.empty() || search_path == *kDefault
          ? kDefault
          : std::make_shared<const std::vector<std::string>>(std::move(search_path));
  session_search_path_ = startup_search_path_;
  set_search_path(*startup_search_path_);
  set_snapshot(state_.snapshot());
}

void SessionRewrite::set_search_path(const std::vector<std::string>& schemas) {
  context_.search_path = schemas;
  ++epoch_;
  recent_shapes_.clear();  // names may resolve otherwise now
  recent_texts_.clear();
  context_key_ = rewrite_context_key(database_, context_);
}

void SessionRewrite::set_snapshot(std::shared_ptr<const Snapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  ++epoch_;
  rules_ = snapshot_->for_database(database_);
  catalog_version_ = rules_ != nullptr ? rules_->catalog->version() : 0;
  non_ascii_names_ = rules_ != nullptr &&
                     std::any_of(rules_->rewriter->migrations().begin(),
                                 rules_->rewriter->migrations().end(), rewrite::has_non_ascii_name);
}

bool SessionRewrite::adopt_latest() {
  if (state_.generation() == snapshot_->generation) {
    return false;
  }
  auto latest = state_.snapshot();
  if (latest->generation == snapshot_->generation) {
    return false;
  }
  set_snapshot(std::move(latest));
  return true;
}

namespace {

// The statement's literal shape is taken here, in a buffer each worker thread reuses, rather
// than in one allocated per statement or held by every session. rewrite() runs to its end
// without suspending, so no other statement of the thread can take it meanwhile.
thread_local rewrite::LiteralShape shape_buffer;

// release_if_long for the shape at the end of the scope; its literals go with its key.
struct ReleaseShapeIfLong {
  rewrite::LiteralShape& shape;
  ~ReleaseShapeIfLong() {
    if (release_if_long(shape.key)) {
      shape.literals.clear();
      shape.literals.shrink_to_fit();
    }
  }
};

}  // namespace

TextRewrite SessionRewrite::refuse_new_descendant(std::string_view sql) const {
  for (const rewrite::NewDescendant& table : new_descendants_) {
    if (!rewrite::may_touch_new_descendant(sql, table.name)) {
      continue;
    }
    rewrite::RewriteResult refusal;
    refusal.outcome =
        table.reject ? rewrite::Outcome::rejected : rewrite::Outcome::passthrough_unsupported;
    refusal.reason = rewrite::new_descendant_refusal(table);
    refusal.uses.push_back(rewrite::MigrationUse{table.migration});
    return {std::make_shared<const rewrite::RewriteResult>(std::move(refusal)), std::nullopt};
  }
  return {};
}

TextRewrite SessionRewrite::refuse_ambiguous_table(std::string_view sql) const {
  for (const AmbiguousTable& table : rules_->ambiguous_tables) {
    if (std::none_of(table.names.begin(), table.names.end(), [&](const std::string& name) {
          return rewrite::may_touch_new_descendant(sql, name);
        })) {
      continue;
    }
    rewrite::RewriteResult refusal;
    refusal.outcome =
        table.reject ? rewrite::Outcome::rejected : rewrite::Outcome::passthrough_unsupported;
    refusal.reason = table.reason;
    refusal.uses.push_back(rewrite::MigrationUse{table.migration});
    return {std::make_shared<const rewrite::RewriteResult>(std::move(refusal)), std::nullopt};
  }
  return {};
}

template <typename Pick>
TextRewrite SessionRewrite::refusal_naming(Pick pick, std::string_view why) const {
  rewrite::RewriteResult refusal;
  bool reject = false;
  std::string names;
  for (const rewrite::Migration& m : rules_->rewriter->migrations()) {
    if (!pick(m) ||
        std::any_of(refusal.uses.begin(), refusal.uses.end(),
                    [&](const rewrite::MigrationUse& u) { return u.migration == m.name; })) {
      continue;
    }
    reject = reject || m.reject_unsupported;
    names += (names.empty() ? "\"" : ", \"") + m.name + "\"";
    refusal.uses.push_back(rewrite::MigrationUse{m.name});
  }
  refusal.outcome = reject ? rewrite::Outcome::rejected : rewrite::Outcome::passthrough_unsupported;
  refusal.reason = "migration " + names + ": " + std::string(why);
  return {std::make_shared<const rewrite::RewriteResult>(std::move(refusal)), std::nullopt};
}

TextRewrite SessionRewrite::refusal_naming_tables(std::string_view sql,
                                                  std::string_view why) const {
  return refusal_naming(
      [&](const rewrite::Migration& m) {
        return rewrite::detail::icontains(sql, rewrite::detail::lower_ascii(m.table));
      },
      why);
}

TextRewrite SessionRewrite::refuse_unreadable(std::string_view sql) const {
  const bool touch = rules_->rewriter->may_touch(sql);
  const auto why = rewrite::unreadable_text(reading_, sql, touch, non_ascii_names_);
  if (!why) {
    return {};
  }
  const bool names_unseen = non_ascii_names_ && reading_.encoding != rewrite::ClientEncoding::utf8;
  return refusal_naming(
      [&](const rewrite::Migration& m) {
        return (names_unseen && rewrite::has_non_ascii_name(m)) ||
               rewrite::detail::icontains(sql, rewrite::detail::lower_ascii(m.table));
      },
      *why);
}

TextRewrite SessionRewrite::refuse_unsplicable(std::string_view sql,
                                               const rewrite::RewriteResult& result) const {
  const auto why =
      rewrite::unsplicable_rewrite(reading_, sql, result, rules_->rewriter->migrations());
  if (!why) {
    return {};
  }
  return refusal_naming_tables(sql, *why);
}

TextRewrite SessionRewrite::refuse_role_change_beside(std::string_view sql) const {
  const auto& path = context_.search_path;
  if (rules_ == nullptr || std::find(path.begin(), path.end(), "$user") == path.end() ||
      !rules_->rewriter->may_touch(sql)) {
    return {};
  }
  // The rewrite resolves the whole text under the role before it; the server resolves the
  // statements after the change under the new one.
  return refusal_naming_tables(
      sql,
      "the text changes the role (SET ROLE or SET SESSION AUTHORIZATION), and so what \"$user\" "
      "in the search_path stands for, beside a statement that may name the table: send the "
      "role change in a query of its own");
}

TextRewrite SessionRewrite::refuse_path_change_beside_execute(std::string_view prepared) const {
  if (rules_ == nullptr || !rules_->rewriter->may_touch(prepared)) {
    return {};
  }
  // Postgres analyzes the statement again under the path in force at the EXECUTE; the proxy
  // checked its rewrite under the path before the text.
  return refusal_naming_tables(
      prepared,
      "the text changes the search_path or the role and EXECUTEs a statement prepared before, "
      "which the server analyzes again under the new path: send the SET in a query of its own");
}

TextRewrite SessionRewrite::rewrite(std::string_view sql, bool from_query, std::string& filled) {
  TextRewrite result = rewrite_text(sql, from_query, filled);
  // A COPY on the data stream is asked even so: a SET before it in its text changes how its
  // data is read.
  if (result && (!reading_usual_ || result->copy) &&
      (result->outcome == rewrite::Outcome::rewritten ||
       result->outcome == rewrite::Outcome::unchanged)) [[unlikely]] {
    if (TextRewrite refusal = refuse_unsplicable(sql, *result)) {
      return refusal;
    }
  }
  // The catalog connection sees this transaction's DDL only once it commits: a column list
  // taken from it now may lack a column just added, or name one just dropped.
  if (columns_changed_.empty() || rules_ == nullptr || !result ||
      (result->outcome != rewrite::Outcome::rewritten &&
       result->outcome != rewrite::Outcome::unchanged)) [[likely]] {
    return result;
  }
  auto changed = [&](const rewrite::Migration& m) {
    const auto& used = result->column_lists_used;
    return std::find(used.begin(), used.end(), m.name) != used.end() &&
           std::find(columns_changed_.begin(), columns_changed_.end(), m.name) !=
               columns_changed_.end();
  };
  const auto& migrations = rules_->rewriter->migrations();
  if (std::none_of(migrations.begin(), migrations.end(), changed)) {
    return result;
  }
  return refusal_naming(changed, rewrite::kColumnsChangedInTransaction);
}

TextRewrite SessionRewrite::rewrite_text(std::string_view sql, bool from_query,
                                         std::string& filled) {
  if (!new_descendants_.empty()) [[unlikely]] {
    if (TextRewrite refusal = refuse_new_descendant(sql)) {
      return refusal;
    }
  }
  if (rules_ == nullptr) {
    return {};
  }
  if (!rules_->ambiguous_tables.empty()) [[unlikely]] {
    if (TextRewrite refusal = refuse_ambiguous_table(sql)) {
      return refusal;
    }
  }
  // Before the name match: in another encoding than UTF-8 it cannot see a non-ASCII name.
  if (!reading_usual_) [[unlikely]] {
    if (TextRewrite refusal = refuse_unreadable(sql)) {
      return refusal;
    }
  }
  if (!rules_->rewriter->may_touch(sql)) {
    return {};
  }
  // The catalog version is part of the key: a result computed from dropped catalog content
  // must not be served again.
  std::uint64_t key = (snapshot_->generation << 32) | (rules_->catalog->version() & 0xffffffffu);
  rewrite::LiteralShape& shape = shape_buffer;
  const ReleaseShapeIfLong release{shape};
  bool shaped = false;
  auto reuse_shape = [&]() -> TextRewrite {
    const bool recognised = recipes_.match(sql, shape);
    shaped = recognised || rewrite::take_literal_shape(sql, shape);
    if (!shaped) {
      return {};
    }
    TextRewrite result = from_shape(key, shape, filled);
    if (result && !recognised) {
      recipes_.remember(sql, shape);
    }
    return result;
  };
  if (from_query) {
    if (auto result = reuse_shape()) {
      return result;
    }
  }
  auto& cache = state_.rewrite_cache;
  if (!from_query) {
    if (const auto* recent = recent_texts_.find(key, sql)) {
      metrics_.rewrite_cache_hits_kept.fetch_add(1, std::memory_order_relaxed);
      return {*recent, std::nullopt};
    }
  }
  if (auto hit = cache.find(key, context_key_, sql)) {
    if (!from_query) {
      recent_texts_.remember(key, sql, std::make_shared<const rewrite::RewriteResult>(*hit));
    }
    return {std::move(hit), std::nullopt};
  }
  if (!from_query) {
    if (auto result = reuse_shape()) {
      return result;
    }
  }
  std::shared_ptr<const rewrite::RewriteResult> result;
  if (sql.size() > kOffThreadRewriteBytes) [[unlikely]] {
    result = take_long_rewrite(key, sql);
    if (!result) {
      return {long_rewrite_pending(), std::nullopt};
    }
  } else {
    result = std::make_shared<const rewrite::RewriteResult>(
        rules_->rewriter->rewrite(sql, context_, *rules_->catalog));
  }
  if (result->outcome == rewrite::Outcome::needs_catalog) {
    return {std::move(result), std::nullopt};
  }
  cache.insert(key, context_key_, sql, result);
  if (!from_query) {
    recent_texts_.remember(key, sql, std::make_shared<const rewrite::RewriteResult>(*result));
  }
  if (shaped) {
    // The shape's rewrite serves later texts only if, filled with this text's literals, it is
    // exactly this text's rewrite; otherwise the shape is remembered as not reusable.
    auto tmpl = std::make_shared<const rewrite::RewriteResult>(
        rules_->rewriter->rewrite(shape.key, context_, *rules_->catalog));
    auto filled_result = rewrite::instantiate(*tmpl, shape);
    bool reusable = filled_result && rewrite::same_result(*filled_result, *result);
    if (!reusable && tmpl->outcome != rewrite::Outcome::needs_catalog) {
      spdlog::debug("event=literal_shape_not_reusable database={}", log_value(database_));
    }
    if (tmpl->outcome != rewrite::Outcome::needs_catalog) {
      state_.shape_cache.insert(key, context_key_, shape.key, reusable ? tmpl : not_reusable());
    }
  }
  return {std::move(result), std::nullopt};
}

TextRewrite SessionRewrite::from_shape(std::uint64_t key, const rewrite::LiteralShape& shape,
                                       std::string& filled) {
  const RecentShape* recent = recent_shapes_.find(key, shape.key);
  if (recent == nullptr) {
    auto shared = state_.shape_cache.find(key, context_key_, shape.key);
    if (!shared || shared == not_reusable()) {
      return {};
    }
    auto filler = rewrite::LiteralTemplate::of(*shared);
    if (!filler) {
      return {};
    }
    // A copy of the session's own, as for recent_texts_: each hit copies the pointer into its
    // TextRewrite, and the shared one's count would bounce between the worker threads.
    recent = &recent_shapes_.remember(
        key, shape.key,
        RecentShape{std::make_shared<const rewrite::RewriteResult>(*shared), std::move(*filler)});
  }
  if (recent->filler.unchanged()) {
    metrics_.rewrites_from_shape.fetch_add(1, std::memory_order_relaxed);
    return {recent->result, std::nullopt};
  }
  if (!recent->filler.fill(shape.literals, filled)) {
    return {};
  }
  metrics_.rewrites_from_shape.fetch_add(1, std::memory_order_relaxed);
  return {recent->result, std::string_view(filled)};
}

std::shared_ptr<const rewrite::RewriteResult> SessionRewrite::take_long_rewrite(
    std::uint64_t key, std::string_view sql) {
  if (long_text_ && long_text_->result && long_text_->key == key &&
      long_text_->context_key == context_key_ && long_text_->sql == sql) {
    auto result = std::move(long_text_->result);
    long_text_.reset();
    return result;
  }
  long_text_ = std::make_unique<LongText>(LongText{key, context_key_, std::string(sql), nullptr});
  return nullptr;
}

const std::shared_ptr<const rewrite::RewriteResult>& SessionRewrite::long_rewrite_pending() {
  // A needs_catalog result with nothing missing: the session suspends for it as for a catalog
  // look-up (fetch_missing), and offers the text again once its rewrite is done.
  static const auto marker = [] {
    auto pending = std::make_shared<rewrite::RewriteResult>();
    pending->outcome = rewrite::Outcome::needs_catalog;
    return std::shared_ptr<const rewrite::RewriteResult>(std::move(pending));
  }();
  return marker;
}

const std::shared_ptr<const rewrite::RewriteResult>& SessionRewrite::not_reusable() {
  static const auto marker = std::make_shared<const rewrite::RewriteResult>();
  return marker;
}

// The jobs a session hands to the blocking pool. Named types, not lambdas: they sit in the
// frames of member coroutines, which have external linkage (GCC warns -Wsubobject-linkage of a
// type without linkage there).
namespace session_rewrite_detail {

struct CatalogFetched {
  std::string error;  // empty when the look-up worked
  bool connect_failed = false;
};

struct CatalogFetch {
  std::shared_ptr<const Snapshot> snapshot;
  std::shared_ptr<CatalogCache> catalog;
  std::string database;
  CatalogWants wants;
  CatalogFetched operator()() const {
    CatalogFetched fetched;
    fetched.error = catalog->fetch(*snapshot->config, database, wants, &fetched.connect_failed);
    return fetched;
  }
};

struct RebuildWait {
  ProxyState* state;
  std::uint64_t ticket;
  std::chrono::milliseconds timeout;
  bool operator()() const { return state->wait_rebuilt(ticket, timeout); }
};

}  // namespace session_rewrite_detail

awaitable<void> SessionRewrite::fetch_missing(const rewrite::RewriteResult& result) {
  if (&result == long_rewrite_pending().get()) {
    co_await rewrite_long();
    co_return;
  }
  // libpq blocks, so the look-up runs on the pool and the session resumes on its worker with
  // the answer.
  session_rewrite_detail::CatalogFetch job{snapshot_, rules_->catalog, database_,
                                           CatalogWants::of(result)};
  CatalogWants wants = job.wants;
  const auto fetched = co_await off_thread_.run(std::move(job));
  if (!fetched.error.empty()) {
    note_catalog_failure(wants, fetched.error, fetched.connect_failed);
  }
}

void SessionRewrite::note_catalog_failure(const CatalogWants& wants, std::string error,
                                          bool connect_failed) {
  spdlog::error("event=catalog_fetch_failed database={} error={}", log_value(database_),
                log_value(error));
  // The statement is refused for the failure itself, not as a relation the catalog lacks: the
  // cause is often passing (a server at max_connections), and the names are the statement's
  // own, unqualified, as the look-up is by name in every schema.
  std::string listed;
  for (const std::string& name : wants.tables) {
    listed += (listed.empty() ? "" : ", ") + name;
  }
  for (const std::string& name : wants.functions) {
    listed += (listed.empty() ? "" : ", ") + name + "()";
  }
  while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) {
    error.pop_back();
  }
  catalog_failure_ = std::make_unique<CatalogFailure>(
      CatalogFailure{connect_failed ? "08001" : "58000",
                     "switchyard: cannot rewrite this statement: the catalog look-up of " + listed +
                         " failed, so nothing was run: " + error +
                         " (retry the statement once the cause is gone)"});
}

awaitable<void> SessionRewrite::rewrite_long() {
  if (!long_text_ || rules_ == nullptr) {
    co_return;
  }
  LongRewrite job{snapshot_, rules_, context_, database_, std::move(long_text_->sql)};
  LongRewriteDone done = co_await off_thread_.on(state_.long_rewrite_pool).run(std::move(job));
  if (long_text_) {
    long_text_->sql = std::move(done.sql);
    long_text_->result = std::move(done.result);
  }
  if (!done.catalog_error.empty()) {
    note_catalog_failure(done.catalog_wants, std::move(done.catalog_error),
                         done.catalog_connect_failed);
  }
}

awaitable<void> SessionRewrite::await_rebuild() {
  // Bounded: a reload that cannot reach the catalog fails within the connect timeout, and this
  // session goes on with the rules it has rather than hang.
  static constexpr std::chrono::seconds kRebuildWait{10};
  session_rewrite_detail::RebuildWait job{&state_, rebuild_ticket_, kRebuildWait};
  rebuild_ticket_ = 0;
  const bool rebuilt = co_await off_thread_.run(std::move(job));
  if (!rebuilt) {
    spdlog::warn("event=rebuild_not_awaited database={} reason={}", log_value(database_),
                 log_value("the config was not built again in time after a partition change"));
  }
}

void SessionRewrite::after_transaction() {
  end_local();
  new_descendants_.clear();
  columns_changed_.clear();
  if (!ddl_pending_ || rules_ == nullptr) {
    return;
  }
  ddl_pending_ = false;
  rules_->catalog->invalidate(rules_->mapped_tables);
  ddl_committed(rules_->mapped_tables, false);
  spdlog::info("event=catalog_invalidated database={} reason=ddl_on_mapped_table",
               log_value(database_));
  if (prepared_committed_) {
    prepared_committed_ = false;
    descendants_pending_ = false;
    rebuild_ticket_ = state_.request_rebuild("prepared transaction committed");
  } else if (descendants_pending_) {
    descendants_pending_ = false;
    rebuild_ticket_ = state_.request_rebuild("partition change");
  }
}

}  // namespace switchyard::proxy
