#include "backfill/options.hpp"

#include <charconv>
#include <functional>

#include "config/values.hpp"

namespace switchyard::backfill {
namespace {

using Setter = std::function<std::optional<std::string>(Options&, const std::string&)>;

struct OptionSpec {
  std::string_view name;
  std::string_view commands;  // which commands accept it, space-separated
  bool takes_value;
  Setter set;
};

std::optional<std::string> parse_count(const std::string& text, long long min, long long& out) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min) {
    return "expects an integer >= " + std::to_string(min) + ", got \"" + text + "\"";
  }
  out = value;
  return std::nullopt;
}

// verify counts both directions; backfill fills one column.
std::optional<std::string> parse_direction(const std::string& text, bool allow_both,
                                           Direction& out) {
  if (allow_both && text == "both") {
    out = Direction::both;
  } else if (text == "to-new") {
    out = Direction::to_new;
  } else if (text == "to-old") {
    out = Direction::to_old;
  } else {
    return std::string("expects ") + (allow_both ? "both, " : "") + "to-new or to-old, got \"" +
           text + "\"";
  }
  return std::nullopt;
}

std::optional<std::string> parse_ms(const std::string& text, std::chrono::milliseconds& out) {
  auto parsed = config::parse_duration(text);
  if (!parsed) {
    return parsed.error;
  }
  out = *parsed.value;
  return std::nullopt;
}

const std::vector<OptionSpec>& option_specs() {
  static const std::vector<OptionSpec> specs = {
      {"--help", "backfill verify status", false,
       [](Options& o, const std::string&) -> std::optional<std::string> {
         o.help = true;
         return std::nullopt;
       }},
      {"--config", "backfill verify status", true,
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         o.config_path = v;
         return std::nullopt;
       }},
      {"--migration", "backfill verify status", true,
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         o.migration = v;
         return std::nullopt;
       }},
      {"--key-index", "backfill verify", true,
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         o.key_index = v;
         return std::nullopt;
       }},
      {"--statement-timeout", "backfill verify", true,
       [](Options& o, const std::string& v) { return parse_ms(v, o.statement_timeout); }},
      {"--max-rate", "backfill verify", true,
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         long long rate = 0;
         if (auto error = parse_count(v, 1, rate)) {
           return error;
         }
         o.max_rate = static_cast<double>(rate);
         return std::nullopt;
       }},
      {"--log-interval", "backfill verify", true,
       [](Options& o, const std::string& v) { return parse_ms(v, o.log_interval); }},
      {"--progress", "backfill verify", true,
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         if (v == "auto") {
           o.progress = ProgressStyle::automatic;
         } else if (v == "bar") {
           o.progress = ProgressStyle::bar;
         } else if (v == "log") {
           o.progress = ProgressStyle::log;
         } else {
           return "expects auto, bar or log, got \"" + v + "\"";
         }
         return std::nullopt;
       }},
      {"--batch-size", "backfill", true,
       [](Options& o, const std::string& v) { return parse_count(v, 1, o.batch_size); }},
      {"--sleep", "backfill", true,
       [](Options& o, const std::string& v) { return parse_ms(v, o.sleep); }},
      {"--dry-run", "backfill", false,
       [](Options& o, const std::string&) -> std::optional<std::string> {
         o.dry_run = true;
         return std::nullopt;
       }},
      {"--restart", "backfill", false,
       [](Options& o, const std::string&) -> std::optional<std::string> {
         o.restart = true;
         return std::nullopt;
       }},
      {"--lock-timeout", "backfill", true,
       [](Options& o, const std::string& v) { return parse_ms(v, o.lock_timeout); }},
      {"--target-batch-time", "backfill", true,
       [](Options& o, const std::string& v) { return parse_ms(v, o.target_batch_time); }},
      {"--max-lag", "backfill", true,
       [](Options& o, const std::string& v) { return parse_ms(v, o.max_lag); }},
      {"--direction", "backfill", true,
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         Direction d{};
         auto error = parse_direction(v, false, d);
         o.fill = d;
         return error;
       }},
      {"--chunk-size", "verify", true,
       [](Options& o, const std::string& v) { return parse_count(v, 1, o.chunk_size); }},
      {"--samples", "verify", true,
       [](Options& o, const std::string& v) { return parse_count(v, 0, o.samples); }},
      {"--direction", "verify", true,
       [](Options& o, const std::string& v) { return parse_direction(v, true, o.direction); }},
  };
  return specs;
}

bool accepts(const OptionSpec& spec, std::string_view command) {
  std::string_view list = spec.commands;
  while (!list.empty()) {
    auto space = list.find(' ');
    if (list.substr(0, space) == command) {
      return true;
    }
    list = space == std::string_view::npos ? std::string_view{} : list.substr(space + 1);
  }
  return false;
}

}  // namespace

std::string_view to_string(Direction direction) {
  switch (direction) {
    case Direction::to_new:
      return "to-new";
    case Direction::to_old:
      return "to-old";
    case Direction::both:
      break;
  }
  return "both";
}

std::variant<Options, std::string> parse_options(const std::vector<std::string>& args) {
  Options options;
  if (args.empty()) {
    return std::string("no command");
  }
  options.command = args[0];
  const std::string see_help = " (see switchyard " + options.command + " --help)";
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); name.starts_with("--") && eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    const OptionSpec* found = nullptr;
    for (const auto& spec : option_specs()) {
      if (spec.name == name && accepts(spec, options.command)) {
        found = &spec;
      }
    }
    if (found == nullptr) {
      return "unknown option \"" + name + "\" for " + options.command + see_help;
    }
    std::string value;
    if (found->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return name + " needs a value" + see_help;
      }
    } else if (inline_value) {
      return name + " takes no value" + see_help;
    }
    if (auto error = found->set(options, value)) {
      return name + ": " + *error + see_help;
    }
  }
  if (options.help) {
    return options;
  }
  if (options.config_path.empty()) {
    return "--config FILE is required" + see_help;
  }
  if (options.migration.empty() && options.command != "status") {
    return "--migration NAME is required" + see_help;
  }
  return options;
}

std::string help_text(std::string_view command) {
  if (command == "backfill") {
    return R"(Usage: switchyard backfill --config FILE --migration NAME [options]

Copies old_column into new_column (through to_new) for the rows written before dual writes
began (DESIGN step 3). Rows are walked in primary-key order in short batches, each its own
transaction: UPDATE ... SET new = to_new(old) WHERE <key range> AND new IS DISTINCT FROM
to_new(old) AND old IS DISTINCT FROM to_old(new) (a pair where one column is what a
transform makes of the other is current, and is left alone). Progress is kept in the
database (schema "switchyard"), in the same transaction as each batch, so after Ctrl-C (or
SIGTERM, or SIGHUP unless run under nohup) or a crash the next run resumes after the last batch.
Connects straight to [upstream] with its user/password/database, never through the proxy.

Options:
  --batch-size N          rows per batch to start with and at most (default 1000)
  --max-rate N            walk at most N rows per second
  --sleep DURATION        pause between batches, e.g. 50ms (default 0)
  --dry-run               show the plan, check the transform on every row, change nothing;
                          it warns of sessions still on other flags as a run does
  --restart               forget saved progress and walk the whole table again
  --lock-timeout D        lock_timeout of each batch (default 1s); a batch that waits
                          longer is retried smaller, after a pause
  --statement-timeout D   statement_timeout of each batch (default 30s)
  --target-batch-time D   the batch size adapts to take about this long (default 500ms)
  --max-lag D             pause while a replica's replay lag exceeds D (default 10s; 0 = off)
  --key-index NAME        walk by this unique index instead of the primary key
  --direction to-new|to-old
                          which column to fill (default to-new; required while reads = "new")
  --progress auto|bar|log a progress line on a terminal, log lines otherwise (default auto)
  --log-interval D        time between log lines (default 10s)
  --help                  this text

While reads = "old", backfill fills the new column from the old one (step 3). While
reads = "new", say which: --direction to-old fills the old column from the new one, which is
how a rollback from writes = "new" makes the old column current again (after writes = "both",
before verify and reads = "old"); --direction to-new is for reads flipped before a backfill.
Under writes = "new" it refuses either way: copying into the new column would overwrite it
with stale values. Under writes = "old" it refuses too: apps write the old column alone, so
set writes = "both" and reload every instance first. The config file is read again between
batches: when its flags stop allowing the direction being filled, the run stops (exit 1,
progress kept).

Durations: 250ms, 2s, 1m, 1h. Exit status: 0 done (or nothing to do), 1 failed (the message
says why: a config that does not load, a transform that fails names the row's key), 2 bad
command line (an unknown migration too), 130 interrupted (progress kept).
)";
  }
  if (command == "verify") {
    return R"(Usage: switchyard verify --config FILE --migration NAME [options]

Counts the rows where the two columns disagree under the migration's transforms (DESIGN
step 4), in key-range chunks of short read-only statements (no long locks), prints a few
disagreeing keys and records the result in switchyard.verify_runs for `switchyard status`.

Both directions are checked by default, because each protects a later step:
  to-new   new IS DISTINCT FROM to_new(old): what the new column must hold (step 6 on)
  to-old   old IS DISTINCT FROM to_old(new): what reads = "new" will serve (step 5)
For a rename the two are the same check. A lossy transform (two old values mapping to one
new value) shows up as to-old disagreement: flipping reads would change what apps see, and
only other transforms fix it (backfill leaves rows that disagree one way alone). Both counts
are recorded whatever --direction says: status takes no verify with to-old disagreement as
the check for reads = "new", nor one run under writes = "old".

Options:
  --direction both|to-new|to-old   which disagreement to count (default both)
  --chunk-size N          rows per chunk (default 10000)
  --samples N             disagreeing keys to print (default 5)
  --max-rate N            check at most N rows per second
  --statement-timeout D   per chunk (default 30s)
  --key-index NAME        walk by this unique index instead of the primary key
  --progress auto|bar|log, --log-interval D   as for backfill
  --help                  this text

Exit status: 0 the columns agree on every row, 1 they disagree (or the check failed: a config
that does not load, a transform error names the row's key), 2 bad command line (an unknown
migration too), 130 interrupted (nothing recorded).
)";
  }
  return R"(Usage: switchyard status --config FILE [--migration NAME]

For each migration of the config (or just NAME): its flags, the backfill progress and the
last verify result kept in the migration's database, and the next safe step of the
expand/migrate/contract recipe (DESIGN section 1).

Exit status: 0, or 1 when a migration needs attention now (a failed backfill, columns that
disagree, reads from the new column without a passing verify, ...), its database could not
be read or the config does not load, 2 bad command line (an unknown migration too).
)";
}

}  // namespace switchyard::backfill
