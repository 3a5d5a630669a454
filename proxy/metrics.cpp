#include "proxy/metrics.hpp"

#include <algorithm>
#include <optional>

namespace switchyard::proxy {
namespace {

// ASCII only, as the SQL lexer is, and inline: every statement passes through these, and the
// <cctype> functions are calls that consult the locale.
constexpr bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool is_ident_start(char c) {
  return is_alpha(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c) || c == '$'; }

bool keyword_is(std::string_view word, std::string_view keyword) {
  return word.size() == keyword.size() &&
         std::equal(word.begin(), word.end(), keyword.begin(),
                    [](char a, char b) { return to_lower(a) == b; });
}

// A forward-only scanner that knows just enough of the SQL lexer to skip what cannot hold a
// statement's verb: whitespace, both comment styles (block comments nest in Postgres),
// string literals, quoted identifiers and dollar-quoted bodies.
class Scanner {
 public:
  explicit Scanner(std::string_view sql) : sql_(sql) {}

  // Skips whitespace and comments. False at the end of the text.
  bool skip_blanks() {
    while (pos_ < sql_.size()) {
      char c = sql_[pos_];
      if (is_space(c)) {
        ++pos_;
      } else if (c == '-' && peek(1) == '-') {
        auto end = sql_.find('\n', pos_);
        pos_ = end == std::string_view::npos ? sql_.size() : end + 1;
      } else if (c == '/' && peek(1) == '*') {
        skip_block_comment();
      } else {
        return true;
      }
    }
    return false;
  }

  char current() const { return pos_ < sql_.size() ? sql_[pos_] : '\0'; }
  void advance() { ++pos_; }

  std::string_view read_word() {
    auto start = pos_;
    while (pos_ < sql_.size() && is_ident_char(sql_[pos_])) {
      ++pos_;
    }
    return sql_.substr(start, pos_ - start);
  }

  // Skips one token that is not a word: a literal, a quoted identifier, a dollar-quoted body,
  // or a single character.
  void skip_other(bool escape_string) {
    char c = current();
    if (c == '\'') {
      skip_quoted('\'', escape_string);
    } else if (c == '"') {
      skip_quoted('"', false);
    } else if (c == '$' && !skip_dollar_quoted()) {
      ++pos_;
    } else if (c != '$') {
      ++pos_;
    }
  }

 private:
  char peek(std::size_t ahead) const {
    return pos_ + ahead < sql_.size() ? sql_[pos_ + ahead] : '\0';
  }

  void skip_block_comment() {
    int depth = 0;
    while (pos_ < sql_.size()) {
      if (sql_[pos_] == '/' && peek(1) == '*') {
        ++depth;
        pos_ += 2;
      } else if (sql_[pos_] == '*' && peek(1) == '/') {
        pos_ += 2;
        if (--depth == 0) {
          return;
        }
      } else {
        ++pos_;
      }
    }
  }

  // 'it''s' and "a""b" double the quote; E'..\'..' also escapes it with a backslash.
  void skip_quoted(char quote, bool backslash_escapes) {
    ++pos_;
    while (pos_ < sql_.size()) {
      char c = sql_[pos_];
      if (backslash_escapes && c == '\\') {
        pos_ += 2;
      } else if (c == quote && peek(1) == quote) {
        pos_ += 2;
      } else if (c == quote) {
        ++pos_;
        return;
      } else {
        ++pos_;
      }
    }
    pos_ = std::min(pos_, sql_.size());
  }

  // $tag$ ... $tag$; false (nothing consumed) when the '$' does not open one, as in $1.
  bool skip_dollar_quoted() {
    auto end = pos_ + 1;
    if (end < sql_.size() && is_ident_start(sql_[end])) {
      while (end < sql_.size() && is_ident_char(sql_[end]) && sql_[end] != '$') {
        ++end;
      }
    }
    if (end >= sql_.size() || sql_[end] != '$') {
      return false;
    }
    auto tag = sql_.substr(pos_, end - pos_ + 1);
    auto close = sql_.find(tag, end + 1);
    pos_ = close == std::string_view::npos ? sql_.size() : close + tag.size();
    return true;
  }

  std::string_view sql_;
  std::size_t pos_ = 0;
};

// The class of a verb, or nullopt when `word` is not one.
std::optional<StatementClass> verb_class(std::string_view word) {
  if (keyword_is(word, "select") || keyword_is(word, "values") || keyword_is(word, "table")) {
    return StatementClass::select;
  }
  if (keyword_is(word, "insert")) {
    return StatementClass::insert;
  }
  if (keyword_is(word, "update")) {
    return StatementClass::update;
  }
  if (keyword_is(word, "delete")) {
    return StatementClass::delete_;
  }
  if (keyword_is(word, "merge")) {
    return StatementClass::other;
  }
  return std::nullopt;
}

// After WITH: the first verb outside parentheses is the statement's.
StatementClass classify_with(Scanner& scanner) {
  int depth = 0;
  while (scanner.skip_blanks()) {
    char c = scanner.current();
    if (is_ident_start(c)) {
      auto word = scanner.read_word();
      bool escape_string = scanner.current() == '\'' && (word == "e" || word == "E");
      if (escape_string) {
        scanner.skip_other(true);
        continue;
      }
      if (depth == 0) {
        if (auto kind = verb_class(word)) {
          return *kind;
        }
      }
      continue;
    }
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      depth = std::max(0, depth - 1);
    } else if (c == ';' && depth == 0) {
      return StatementClass::other;
    }
    scanner.skip_other(false);
  }
  return StatementClass::other;
}

}  // namespace

std::string_view to_string(StatementClass kind) {
  switch (kind) {
    case StatementClass::select:
      return "select";
    case StatementClass::insert:
      return "insert";
    case StatementClass::update:
      return "update";
    case StatementClass::delete_:
      return "delete";
    case StatementClass::other:
      break;
  }
  return "other";
}

std::string_view to_string(rewrite::StatementKind kind) {
  switch (kind) {
    case rewrite::StatementKind::select:
      return "select";
    case rewrite::StatementKind::insert:
      return "insert";
    case rewrite::StatementKind::update:
      return "update";
    case rewrite::StatementKind::delete_:
      return "delete";
    case rewrite::StatementKind::merge:
      return "merge";
    case rewrite::StatementKind::copy:
      return "copy";
    case rewrite::StatementKind::ddl:
      return "ddl";
    case rewrite::StatementKind::other:
      break;
  }
  return "other";
}

StatementClass classify_statement(std::string_view sql) {
  Scanner scanner(sql);
  // Most texts start with their verb: nothing to skip before it.
  if (!is_alpha(scanner.current())) {
    while (scanner.skip_blanks() && scanner.current() == '(') {
      scanner.advance();
    }
    if (!is_ident_start(scanner.current())) {
      return StatementClass::other;
    }
  }
  auto word = scanner.read_word();
  if (keyword_is(word, "with")) {
    return classify_with(scanner);
  }
  return verb_class(word).value_or(StatementClass::other);
}

const MigrationCounters* MigrationCounterTable::find(std::string_view name, std::size_t from,
                                                     std::size_t to) const {
  for (std::size_t i = from; i < to; ++i) {
    const MigrationCounters* entry = slots_[i].load(std::memory_order_acquire);
    if (entry != nullptr && entry->name == name) {
      return entry;
    }
  }
  return nullptr;
}

MigrationCounters& MigrationCounterTable::get(std::string_view name) {
  // A config holds a handful of migrations: a linear scan of published entries beats hashing.
  auto size = size_.load(std::memory_order_acquire);
  if (const auto* found = find(name, 0, size)) {
    return const_cast<MigrationCounters&>(*found);
  }
  std::lock_guard lock(insert_mutex_);
  auto now = size_.load(std::memory_order_relaxed);
  if (const auto* found = find(name, size, now)) {
    return const_cast<MigrationCounters&>(*found);
  }
  if (now == kCapacity) {
    overflow_used_.store(true, std::memory_order_relaxed);
    return overflow_;
  }
  owned_.push_back(std::make_unique<MigrationCounters>(std::string(name)));
  slots_[now].store(owned_.back().get(), std::memory_order_release);
  size_.store(now + 1, std::memory_order_release);
  return *owned_.back();
}

std::vector<const MigrationCounters*> MigrationCounterTable::entries() const {
  std::vector<const MigrationCounters*> out;
  auto size = size_.load(std::memory_order_acquire);
  out.reserve(size + 1);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(slots_[i].load(std::memory_order_acquire));
  }
  if (overflow_used_.load(std::memory_order_relaxed)) {
    out.push_back(&overflow_);
  }
  return out;
}

void LatencyHistogram::observe(double seconds) {
  if (!(seconds >= 0)) {
    seconds = 0;  // NaN or a clock that went backwards
  }
  auto bucket = static_cast<std::size_t>(std::lower_bound(kBounds.begin(), kBounds.end(), seconds) -
                                         kBounds.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  constexpr double kMaxNanoseconds = 1e15;  // 11 days: far beyond any query worth timing
  sum_nanoseconds_.fetch_add(static_cast<std::uint64_t>(std::min(seconds * 1e9, kMaxNanoseconds)),
                             std::memory_order_relaxed);
}

LatencyHistogram::Sample LatencyHistogram::sample() const {
  Sample out;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    out.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    out.count += out.buckets[i];
  }
  out.sum_seconds = static_cast<double>(sum_nanoseconds_.load(std::memory_order_relaxed)) / 1e9;
  return out;
}

void LatencyHistogram::add_to(LatencyHistogram& total) const {
  constexpr auto relaxed = std::memory_order_relaxed;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    total.buckets_[i].fetch_add(buckets_[i].load(relaxed), relaxed);
  }
  total.sum_nanoseconds_.fetch_add(sum_nanoseconds_.load(relaxed), relaxed);
}

void Metrics::count_error_sqlstate(std::string_view sqlstate) {
  if (sqlstate.empty()) {
    return;
  }
  count_error_class(sqlstate[0]);
  if (sqlstate.size() < 2) {
    return;
  }
  int first = sqlstate_char_index(sqlstate[0]);
  int second = sqlstate_char_index(sqlstate[1]);
  if (first >= 0 && second >= 0) {
    upstream_errors_by_sqlstate_class[static_cast<std::size_t>(first * 36 + second)].fetch_add(
        1, std::memory_order_relaxed);
  }
}

void Metrics::record_rewrite(const rewrite::RewriteResult& result, bool uses) {
  if (result.outcome == rewrite::Outcome::needs_catalog) {
    return;
  }
  for (auto kind : result.kinds) {
    auto index = static_cast<std::size_t>(kind);
    if (index < analyzed_by_kind.size()) {
      analyzed_by_kind[index].fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (uses) {
    record_uses(result);
  }
}

void Metrics::record_uses(const rewrite::RewriteResult& result) {
  constexpr auto relaxed = std::memory_order_relaxed;
  for (const auto& use : result.uses) {
    auto& counters = migrations.get(use.migration);
    auto add = [](Counter& counter, int n) {
      if (n > 0) {
        counter.fetch_add(static_cast<std::uint64_t>(n), relaxed);
      }
    };
    add(counters.reads_of_old, use.reads_of_old);
    add(counters.writes_of_old, use.writes_of_old);
    add(counters.reads_of_new, use.reads_of_new);
    add(counters.writes_of_new, use.writes_of_new);
    switch (result.outcome) {
      case rewrite::Outcome::rewritten:
        if (use.rewritten) {
          counters.statements_rewritten.fetch_add(1, relaxed);
        }
        break;
      case rewrite::Outcome::rejected:
        counters.statements_rejected.fetch_add(1, relaxed);
        break;
      case rewrite::Outcome::passthrough_unsupported:
        counters.statements_passthrough.fetch_add(1, relaxed);
        break;
      case rewrite::Outcome::unchanged:
      case rewrite::Outcome::needs_catalog:
        break;
    }
  }
}

namespace {

template <class T, std::size_t N>
void add_all(const std::array<T, N>& from, std::array<T, N>& into) {
  for (std::size_t i = 0; i < N; ++i) {
    into[i].fetch_add(from[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
}

}  // namespace

void Metrics::add_to(Metrics& total) const {
  constexpr auto relaxed = std::memory_order_relaxed;
  for (auto member : {&Metrics::connections_total,
                      &Metrics::connections_rejected,
                      &Metrics::upstream_connect_failures,
                      &Metrics::upstream_reconnects,
                      &Metrics::cancel_requests,
                      &Metrics::bytes_from_clients,
                      &Metrics::bytes_from_upstream,
                      &Metrics::queries_simple,
                      &Metrics::queries_extended,
                      &Metrics::transactions,
                      &Metrics::statements_rewritten,
                      &Metrics::rewrites_from_shape,
                      &Metrics::rewrite_cache_hits_kept,
                      &Metrics::statements_rejected,
                      &Metrics::statements_reprepared,
                      &Metrics::result_type_refusals,
                      &Metrics::settle_waits,
                      &Metrics::statements_passthrough,
                      &Metrics::reloads_ok,
                      &Metrics::reloads_failed,
                      &Metrics::catalog_changes}) {
    (total.*member).fetch_add((this->*member).load(relaxed), relaxed);
  }
  total.connections_active.fetch_add(connections_active.load(relaxed), relaxed);
  const std::uint64_t generation = config_generation.load(relaxed);
  if (generation > total.config_generation.load(relaxed)) {
    total.config_generation.store(generation, relaxed);
  }
  add_all(upstream_errors_by_class, total.upstream_errors_by_class);
  add_all(upstream_errors_by_sqlstate_class, total.upstream_errors_by_sqlstate_class);
  add_all(statements_by_kind, total.statements_by_kind);
  add_all(analyzed_by_kind, total.analyzed_by_kind);
  for (const MigrationCounters* from : migrations.entries()) {
    MigrationCounters& into = total.migrations.get(from->name);
    for (auto member :
         {&MigrationCounters::statements_rewritten, &MigrationCounters::statements_rejected,
          &MigrationCounters::statements_passthrough, &MigrationCounters::reads_of_old,
          &MigrationCounters::writes_of_old, &MigrationCounters::reads_of_new,
          &MigrationCounters::writes_of_new}) {
      (into.*member).fetch_add((from->*member).load(relaxed), relaxed);
    }
  }
  query_seconds.add_to(total.query_seconds);
  open_transactions.add_to(total.open_transactions);
}

}  // namespace switchyard::proxy
