#include "proxy/snapshot_builder.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <map>

#include "backfill/ancestors.hpp"
#include "backfill/column_defaults.hpp"
#include "backfill/old_column_users.hpp"
#include "backfill/table_info.hpp"
#include "config/identifier.hpp"
#include "config/json_string.hpp"
#include "proxy/column_privileges.hpp"
#include "proxy/logging.hpp"
#include "proxy/nested_migrations.hpp"
#include "proxy/renamed_table.hpp"
#include "proxy/setting_warnings.hpp"
#include "proxy/tls_contexts.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::proxy {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// An error about `key` of the file ("tls.cert"; "" for none), at the line it was written on,
// in the form the loader gives its own (config::format_error): what only the catalog or the
// TLS files show then reads like what the file's syntax shows.
std::string file_error(const config::Config& config, std::string key, std::string message) {
  return config::format_error(config.error_at(std::move(key), std::move(message)));
}

// An error about `key` of migration `m` ("table", "to_new"; "" for the migration), naming it.
std::string migration_error(const config::Config& config, const config::Migration& m,
                            const std::string& key, const std::string& message) {
  return file_error(config, config.key_of(m) + (key.empty() ? "" : "." + key),
                    "migration \"" + m.name + "\": " + message);
}

// Checks one migration against the catalog: the table exists, the old column exists while it
// is still read or written, the new column exists once anything uses it.
void check_against_catalog(const config::Config& config, const config::Migration& m,
                           const CatalogCache& catalog, const std::string& database,
                           std::vector<std::string>& errors) {
  // The config keeps identifiers as written ("Order Status" quoted); the catalog has names.
  auto columns =
      catalog.columns({config::identifier_name(m.schema), config::identifier_name(m.table)});
  if (!columns) {
    errors.push_back(migration_error(
        config, m, "table",
        "table " + m.schema + "." + m.table + " does not exist in database \"" + database + "\""));
    return;
  }
  const bool old_needed =
      m.writes != config::Writes::new_column || m.reads != config::Reads::new_column;
  const bool new_needed =
      m.writes != config::Writes::old_column || m.reads != config::Reads::old_column;
  if (old_needed && !contains(*columns, config::identifier_name(m.old_column))) {
    errors.push_back(migration_error(
        config, m, "old_column",
        "old column \"" + m.old_column + "\" does not exist in " + m.schema + "." + m.table +
            " (it may be missing only once writes = \"new\" and reads = \"new\")"));
  }
  if (new_needed && !contains(*columns, config::identifier_name(m.new_column))) {
    errors.push_back(migration_error(
        config, m, "new_column",
        "new column \"" + m.new_column + "\" does not exist in " + m.schema + "." + m.table +
            "; add it (nullable) before writes = \"" + std::string(config::to_string(m.writes)) +
            "\" / reads = \"" + std::string(config::to_string(m.reads)) + "\""));
  }
}

// Defaults that disagree make every INSERT that names neither column drift once both columns
// are written (backfill/column_defaults.hpp). Not an error: the writers may all name the
// column, and a reload must stay possible; but the operator hears of it at once.
std::optional<ConfigWarning> defaults_warning(const config::Migration& m,
                                              backfill::PgConnection& connection) {
  if (m.writes == config::Writes::old_column) {
    return std::nullopt;
  }
  auto checked = backfill::check_defaults(connection, backfill::columns_spec(m));
  auto* finding = std::get_if<backfill::DefaultsFinding>(&checked);
  if (finding == nullptr || (finding->verdict != backfill::DefaultsVerdict::differ &&
                             finding->verdict != backfill::DefaultsVerdict::unmatched)) {
    return std::nullopt;
  }
  std::string line = finding->text;
  std::replace(line.begin(), line.end(), '\n', ' ');
  return ConfigWarning{m.name, "the columns' defaults: " + line};
}

// Under writes = "new" nothing writes the old column: views, functions and policies the server
// runs over it read stale values, a NOT NULL without a default fails every INSERT, and foreign
// and partition keys over it no longer hold for new rows. Under writes = "both" only a write
// through an updatable view that shows the old column goes wrong: it sets the old column alone.
std::optional<ConfigWarning> old_column_warning(const config::Migration& m,
                                                backfill::PgConnection& connection) {
  if (m.writes == config::Writes::old_column) {
    return std::nullopt;
  }
  const auto spec = backfill::columns_spec(m);
  auto found = backfill::find_old_column_users(connection, spec);
  auto* users = std::get_if<backfill::OldColumnUsers>(&found);
  if (users == nullptr || !users->any()) {
    return std::nullopt;
  }
  std::string line = m.writes == config::Writes::both
                         ? backfill::explain_writable_views(spec, *users, m.writes)
                         : backfill::explain_old_column_users(spec, *users, m.writes, false);
  if (line.empty()) {
    return std::nullopt;
  }
  std::replace(line.begin(), line.end(), '\n', ' ');
  return ConfigWarning{m.name, line};
}

// Writes through an ancestor of a table the migration covers are not rewritten. Only writes
// go wrong, so nothing is said while the old column alone is written.
std::vector<ConfigWarning> ancestor_warnings(const config::Migration& m,
                                             backfill::PgConnection& connection) {
  std::vector<ConfigWarning> out;
  if (m.writes == config::Writes::old_column) {
    return out;
  }
  const auto spec = backfill::columns_spec(m);
  auto found = backfill::find_uncovered_ancestors(connection, spec);
  if (auto* ancestors = std::get_if<std::vector<backfill::UncoveredAncestor>>(&found)) {
    for (auto& line : backfill::explain_uncovered_ancestors(spec, *ancestors)) {
      out.push_back({m.name, std::move(line)});
    }
  }
  return out;
}

// Once reads are served from N, a read of O is CAST(<to_old(N) or N> AS <O's type>) wherever
// it stands when the two could compare otherwise (Migration::casts_every_read), with O's
// collation when N's differs (collates_reads): an index on N no longer serves a WHERE on O. Said
// ahead, with the index named, while it can still be built.
std::optional<ConfigWarning> served_read_warning(const config::Migration& m,
                                                 const rewrite::Migration& rule,
                                                 backfill::PgConnection& connection) {
  if ((m.writes == config::Writes::old_column && m.reads == config::Reads::old_column) ||
      (!rule.casts_every_read() && !rule.collates_reads())) {
    return std::nullopt;
  }
  auto found = connection.exec(
      "SELECT i.indexrelid::pg_catalog.regclass::text "
      "FROM pg_catalog.pg_index i "
      "JOIN pg_catalog.pg_class c ON c.oid = i.indrelid "
      "JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace "
      "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = $3 "
      "WHERE s.nspname = $1 AND c.relname = $2 AND i.indkey[0] = a.attnum ORDER BY 1",
      {rule.schema, rule.table, rule.new_column});
  const auto* rows = std::get_if<backfill::PgResult>(&found);
  if (rows == nullptr || rows->rows() == 0) {
    return std::nullopt;
  }
  std::string indexes;
  for (int r = 0; r < rows->rows(); ++r) {
    indexes += (indexes.empty() ? "" : ", ") + rows->text(r, 0);
  }
  const std::string served =
      rewrite::detail::transformed(rule.to_old, rewrite::detail::quote_ident(rule.new_column));
  const std::string expression = rule.as_old_type(served);
  const std::string compared =
      (rule.old_type.empty() ? std::string("the old column") : rule.old_type) +
      (rule.collates_reads() ? " with collation " + rule.old_collation : "");
  return ConfigWarning{
      m.name, "under reads = \"new\" a read of " + rule.old_column + " is " + expression +
                  " wherever it stands, so that it compares as " + compared + " did; index " +
                  indexes + " on " + rule.new_column + " does not serve a WHERE or JOIN on " +
                  rule.old_column +
                  " then. Where such a lookup must stay indexed, create an index on (" +
                  expression + ") before reads = \"new\"."};
}

// Under writes = "new" the old column is the next thing to go (step 7), and with it the
// catalog's record of its type: reads served from the new column keep that type only if the
// config names it. Said while the catalog still has it to quote, and after the drop while the
// running process still remembers it.
std::optional<ConfigWarning> old_type_warning(const config::Migration& m,
                                              const rewrite::Migration& rule, bool old_dropped) {
  if (m.writes != config::Writes::new_column || !m.old_type.empty() || !rule.types_differ()) {
    return std::nullopt;
  }
  if (old_dropped) {
    return ConfigWarning{
        m.name, rule.old_column + " is gone; reads of it served from " + rule.new_column + " (" +
                    rule.new_type + ") keep its type, " + rule.old_type +
                    ", remembered from before the drop, only while this process runs: add "
                    "old_type = " +
                    config::json_string(rule.old_type) +
                    " to the migration so that a restart keeps it too"};
  }
  return ConfigWarning{m.name, "before dropping " + rule.old_column +
                                   ", add old_type = " + config::json_string(rule.old_type) +
                                   " to the migration and reload: once the "
                                   "column is gone only the config names its type, and reads "
                                   "of it served from " +
                                   rule.new_column + " (" + rule.new_type +
                                   ") keep the type apps were told"};
}

// old_type names the old column's type for after it is dropped. While the column exists it
// must be spelled as the catalog spells it, which is how it is compared (and so how `status`
// prints it), with or without the schema of a type outside pg_catalog; once it is gone it is
// only checked to be a type, and given its schema: it goes into the apps' SQL, where another
// schema on their search_path may hold a type of the same name.
std::optional<std::string> apply_old_type(const config::Migration& m,
                                          std::vector<rewrite::Migration>& rules,
                                          backfill::PgConnection& connection) {
  if (m.old_type.empty()) {
    return std::nullopt;
  }
  std::optional<std::string> qualified;  // looked up once, not per partition
  for (auto& rule : rules) {
    if (rule.name != m.name) {
      continue;
    }
    if (!rule.old_type.empty()) {
      if (rule.old_type != m.old_type && !rule.old_type.ends_with("." + m.old_type)) {
        return "old_type = \"" + m.old_type + "\" is not the type of " + m.old_column +
               " as the catalog spells it: write old_type = " + config::json_string(rule.old_type);
      }
      continue;
    }
    if (!qualified) {
      auto result = connection.exec(
          "SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_type t "
          "JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
          "WHERE t.oid = pg_catalog.pg_typeof(CAST(NULL AS " +
          m.old_type + "))");
      if (auto* error = std::get_if<backfill::DbError>(&result)) {
        return "old_type = \"" + m.old_type + "\" is not a type: " + error->message;
      }
      const auto& rows = std::get<backfill::PgResult>(result);
      const std::string schema = rows.rows() == 1 ? rows.text(0, 0) : "pg_catalog";
      qualified = schema == "pg_catalog" || m.old_type.find('.') != std::string::npos
                      ? m.old_type
                      : schema + "." + m.old_type;
    }
    rule.old_type = *qualified;
  }
  return std::nullopt;
}

std::vector<rewrite::QualifiedName> configured_relations(
    const std::vector<rewrite::Migration>& rules) {
  std::vector<rewrite::QualifiedName> relations;
  for (const auto& rule : rules) {
    relations.push_back({rule.schema, rule.table});
  }
  return relations;
}

// A statement that names a partition (or an inheritance child) of the migrated table reads and
// writes the same columns, which the server does not route through the parent: the migration
// applies to it as to the parent, by a rule of its own per descendant. A descendant with a
// migration of its own for the column keeps that one.
void add_descendant_rules(std::vector<rewrite::Migration>& rules,
                          const std::vector<Descendant>& descendants,
                          std::vector<std::string>& mapped_tables) {
  const std::size_t configured = rules.size();
  for (const auto& descendant : descendants) {
    for (std::size_t i = 0; i < configured; ++i) {
      if (rules[i].schema != descendant.ancestor.schema ||
          rules[i].table != descendant.ancestor.table) {
        continue;
      }
      rewrite::Migration rule = rules[i];
      rule.schema = descendant.name.schema;
      rule.table = descendant.name.table;
      rules.push_back(std::move(rule));
      if (!contains(mapped_tables, descendant.name.table)) {
        mapped_tables.push_back(descendant.name.table);
      }
    }
  }
}

// "ON UPDATE CASCADE ON DELETE SET NULL" from pg_constraint's confupdtype and confdeltype,
// naming only the actions that write the referencing column.
std::string referential_actions(const std::string& actions) {
  auto action = [](char code) -> std::string {
    switch (code) {
      case 'c':
        return "CASCADE";
      case 'n':
        return "SET NULL";
      case 'd':
        return "SET DEFAULT";
      default:
        return "";
    }
  };
  std::string out;
  if (actions.size() == 2) {
    if (auto update = action(actions[0]); !update.empty()) {
      out = "ON UPDATE " + update;
    }
    // ON DELETE CASCADE deletes the row, both columns with it.
    if (auto remove = action(actions[1]); !remove.empty() && actions[1] != 'c') {
      out += (out.empty() ? "" : " ") + ("ON DELETE " + remove);
    }
  }
  return out;
}

// Looks up what the server writes by itself on the tables of the database's migrations that
// write the new column, and warns about it. Returns the catalog's error, if any.
std::optional<std::string> add_server_writers(const config::Config& config, CatalogClient& catalog,
                                              DatabaseRewrite& entry, Snapshot& snapshot) {
  const auto asked = server_writer_migrations(config, entry.database);
  if (asked.empty()) {
    return std::nullopt;
  }
  auto writers = catalog.load_server_writers(asked);
  if (auto* error = std::get_if<std::string>(&writers)) {
    return *error;
  }
  entry.server_writers = std::move(std::get<std::vector<ServerWriter>>(writers));
  for (std::size_t i = 0; i < asked.size(); ++i) {
    std::vector<ServerWriter> own;
    std::copy_if(entry.server_writers.begin(), entry.server_writers.end(), std::back_inserter(own),
                 [&](const auto& w) { return w.migration == i; });
    for (auto& warning : server_writer_warnings(*asked[i], own)) {
      snapshot.warnings.push_back(std::move(warning));
    }
  }
  return std::nullopt;
}

}  // namespace

void fill_column_types(rewrite::Migration& rule, const std::vector<RelationColumns>& relations) {
  for (const auto& relation : relations) {
    if (relation.name.schema != rule.schema || relation.name.table != rule.table) {
      continue;
    }
    for (std::size_t i = 0;
         i < relation.columns.size() && i < relation.types.size() && i < relation.collations.size();
         ++i) {
      if (relation.columns[i] == rule.old_column) {
        rule.old_type = relation.types[i];
        rule.old_collation = relation.collations[i];
        rule.old_attnum = i < relation.attnums.size() ? relation.attnums[i] : 0;
        rule.old_relid = relation.oid;
      } else if (relation.columns[i] == rule.new_column) {
        rule.new_type = relation.types[i];
        rule.new_collation = relation.collations[i];
      }
    }
  }
}

// A migration's old column dropped (or renamed away) while the proxy ran: its rules keep the
// type (and collation) they had, so that a reload, or the catalog check that found the drop,
// changes no result type under the clients; the config's old_type, when set, decides instead.
// They keep where the column stood too (with the relation, whose own slots they are), so that
// `*` and an INSERT or COPY without a column list keep the column order the clients knew. Not
// known from before (the proxy started after the drop), O's slot is the table's only dropped
// attribute, kept from then on: a later drop of another column leaves two to choose from.
void keep_dropped_old_column(const config::Migration& m, std::vector<rewrite::Migration>& rules,
                             const DatabaseRewrite* before,
                             const std::vector<RelationColumns>& relations) {
  static const std::vector<rewrite::Migration> kNone;
  const auto& earlier = before != nullptr ? before->rewriter->migrations() : kNone;
  for (auto& rule : rules) {
    if (rule.name != m.name || rule.old_attnum != 0) {
      continue;  // another migration's, or the column is still there
    }
    const auto relation = std::find_if(relations.begin(), relations.end(), [&](const auto& r) {
      return r.name.schema == rule.schema && r.name.table == rule.table;
    });
    for (const auto& was : earlier) {
      // The relation renamed since (follow_renamed_table) keeps its OID.
      const bool same_relation =
          (was.schema == rule.schema && was.table == rule.table) ||
          (was.old_relid != 0 && relation != relations.end() && was.old_relid == relation->oid);
      if (was.name != rule.name || !same_relation || was.old_column != rule.old_column) {
        continue;
      }
      rule.old_attnum = was.old_attnum;
      rule.old_relid = was.old_relid;
      if (m.old_type.empty() && rule.old_type.empty() && !was.old_type.empty()) {
        rule.old_type = was.old_type;
        rule.old_collation = was.old_collation;
      }
    }
    if (rule.old_attnum == 0 && relation != relations.end() && relation->dropped.size() == 1 &&
        std::count(relation->columns.begin(), relation->columns.end(), rule.new_column) == 1) {
      rule.old_attnum = relation->dropped.front();
      rule.old_relid = relation->oid;
    }
  }
}

rewrite::Migration to_rewrite_migration(const config::Migration& m) {
  rewrite::Migration out;
  out.name = m.name;
  out.schema = config::identifier_name(m.schema);
  out.table = config::identifier_name(m.table);
  out.old_column = config::identifier_name(m.old_column);
  out.new_column = config::identifier_name(m.new_column);
  out.writes = m.writes == config::Writes::old_column ? rewrite::Writes::old_column
               : m.writes == config::Writes::both     ? rewrite::Writes::both
                                                      : rewrite::Writes::new_column;
  out.reads = m.reads == config::Reads::old_column ? rewrite::Reads::old_column
                                                   : rewrite::Reads::new_column;
  out.to_new = m.to_new;
  out.to_old = m.to_old;
  out.reject_unsupported = m.on_unsupported == config::OnUnsupported::reject;
  return out;
}

bool same_migration_flags(const config::Config& a, const config::Config& b) {
  auto same = [&](const config::Migration& x, const config::Migration& y) {
    config::Migration x_here = x;
    x_here.line = y.line;  // where it stands in the file changes nothing it does
    return x_here == y && a.effective_database(x) == b.effective_database(y);
  };
  return std::equal(a.migrations.begin(), a.migrations.end(), b.migrations.begin(),
                    b.migrations.end(), same);
}

std::variant<std::shared_ptr<const Snapshot>, std::vector<std::string>> build_snapshot(
    config::Config config, std::uint64_t generation, BuildOptions options) {
  std::vector<std::string> errors;
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation;
  if (config.tls) {
    auto made = make_server_tls_context(config.tls->cert, config.tls->key);
    if (auto* error = std::get_if<TlsFileError>(&made)) {
      errors.push_back(file_error(config, "tls." + error->key, error->message));
    } else {
      snapshot->client_tls = std::get<std::shared_ptr<ssl::context>>(made);
    }
  }
  if (config.upstream.tls != config::TlsMode::disable) {
    auto made = make_upstream_tls_context(config.upstream.ca_file);
    if (auto* error = std::get_if<TlsFileError>(&made)) {
      errors.push_back(file_error(config, "upstream." + error->key, error->message));
    } else {
      snapshot->upstream_tls = std::get<std::shared_ptr<ssl::context>>(made);
    }
  }

  // Group migrations by the database their sessions connect to.
  std::map<std::string, std::vector<config::Migration*>> by_database;
  for (auto& m : config.migrations) {
    for (const auto* transform : {&m.to_new, &m.to_old}) {
      if (transform->empty()) {
        continue;
      }
      if (auto problem = rewrite::validate_transform(*transform)) {
        const std::string key = transform == &m.to_new ? "to_new" : "to_old";
        errors.push_back(migration_error(config, m, key, *problem));
      }
    }
    // The type goes into the rewritten text as written: it must be one, and nothing more.
    if (!m.old_type.empty() &&
        rewrite::validate_transform("CAST({value} AS " + m.old_type + ")").has_value()) {
      errors.push_back(migration_error(config, m, "old_type",
                                       "old_type = \"" + m.old_type +
                                           "\" is not a type name (as format_type() spells one: "
                                           "\"integer\", \"character varying(20)\")"));
    }
    by_database[config.effective_database(m)].push_back(&m);
  }

  // A query of the catalog fails for the connection's sake, not for the config's.
  auto mark_unreachable = [&] {
    if (options.unreachable != nullptr) {
      *options.unreachable = true;
    }
  };
  for (const auto& [database, migrations] : by_database) {
    DatabaseRewrite entry;
    entry.database = database;
    std::variant<std::unique_ptr<CatalogClient>, std::string> client;
    // The config's names of tables followed elsewhere: watched still, so that a relation
    // created under one (which makes the migration ambiguous) is noticed by the catalog check.
    std::vector<std::string> renamed_from;
    if (options.use_catalog) {
      auto connected = CatalogClient::connect(config, database);
      if (auto* error = std::get_if<backfill::DbError>(&connected)) {
        const bool missing = error->missing_database();
        const std::string needed =
            " (needed to check the migrations against the catalog" +
            (options.unreachable_hint.empty() ? "" : "; " + options.unreachable_hint) + ")";
        // The missing database's message names the file and the keys that give the database.
        errors.push_back(missing ? missing_database_message(config, database) + needed
                                 : file_error(config, "", error->message + needed));
        if (!missing) {
          mark_unreachable();
        } else if (options.missing_database != nullptr) {
          *options.missing_database = true;
        }
        continue;
      }
      client = std::move(std::get<std::unique_ptr<CatalogClient>>(connected));
      // Before the rules are made: they, the checks and the warnings below name the relation
      // where it is now.
      for (auto* m : migrations) {
        std::string configured = config::identifier_name(m->table);
        entry.configured_tables[m->name] = {config::identifier_name(m->schema), configured};
        auto followed = follow_renamed_table(
            *m, options.previous ? options.previous->for_database(database) : nullptr,
            std::get<std::unique_ptr<CatalogClient>>(client)->connection());
        if (auto* error = std::get_if<std::string>(&followed)) {
          errors.push_back(file_error(config, "", "database \"" + database + "\": " + *error));
          mark_unreachable();
        } else if (auto& follow = std::get<FollowedTable>(followed); follow.warning) {
          snapshot->warnings.push_back(std::move(*follow.warning));
          renamed_from.push_back(std::move(configured));
          if (follow.ambiguous) {
            entry.ambiguous_tables.push_back(std::move(*follow.ambiguous));
          }
        }
      }
    }
    std::vector<rewrite::Migration> rules;
    for (const auto* m : migrations) {
      rules.push_back(to_rewrite_migration(*m));
      if (auto table = config::identifier_name(m->table); !contains(entry.mapped_tables, table)) {
        entry.mapped_tables.push_back(std::move(table));
      }
    }
    for (auto& table : renamed_from) {
      if (!contains(entry.mapped_tables, table)) {
        entry.mapped_tables.push_back(std::move(table));
      }
    }
    entry.catalog = std::make_shared<CatalogCache>();
    if (options.use_catalog) {
      entry.migration_tables = configured_relations(rules);
      auto descendants = std::get<std::unique_ptr<CatalogClient>>(client)->load_descendants(
          entry.migration_tables);
      if (auto* error = std::get_if<std::string>(&descendants)) {
        errors.push_back(file_error(config, "", "database \"" + database + "\": " + *error));
        mark_unreachable();
        continue;
      }
      entry.descendants = std::move(std::get<std::vector<Descendant>>(descendants));
      const std::vector<const config::Migration*> declared(migrations.begin(), migrations.end());
      if (auto nested = nested_migration_errors(declared, entry.descendants); !nested.empty()) {
        for (auto& error : nested) {
          errors.push_back(
              file_error(config, config.key_of(*error.nested), std::move(error.message)));
        }
        continue;
      }
      add_descendant_rules(rules, entry.descendants, entry.mapped_tables);
      for (std::size_t i = migrations.size(); i < rules.size(); ++i) {
        const std::string table = rules[i].schema + "." + rules[i].table;
        auto same = std::find_if(snapshot->descendants.begin(), snapshot->descendants.end(),
                                 [&](const auto& d) { return d.migration == rules[i].name; });
        if (same == snapshot->descendants.end()) {
          snapshot->descendants.push_back({rules[i].name, table});
        } else {
          same->tables += ", " + table;
        }
      }
      auto loaded = std::get<std::unique_ptr<CatalogClient>>(client)->load(entry.mapped_tables);
      if (auto* error = std::get_if<std::string>(&loaded)) {
        errors.push_back(file_error(config, "", "database \"" + database + "\": " + *error));
        mark_unreachable();
        continue;
      }
      const auto& relations = std::get<std::vector<RelationColumns>>(loaded);
      entry.catalog->add(relations, entry.mapped_tables);
      // A built-in a written value repeats is the built-in only while no other schema has a
      // function of its name: known up front (and kept current by the catalog check), so no
      // write waits for a look-up of lower(). Should this fail, each is asked when first used.
      const auto builtins = rewrite::repeatable_builtin_names();
      auto functions = std::get<std::unique_ptr<CatalogClient>>(client)->load_functions(builtins);
      if (auto* found = std::get_if<std::vector<CatalogFunction>>(&functions)) {
        entry.catalog->add_functions(*found, builtins);
      }
      entry.mapped_relations = relations;
      for (auto& rule : rules) {
        fill_column_types(rule, relations);
      }
      for (std::size_t k = 0; k < migrations.size(); ++k) {
        const config::Migration* m = migrations[k];
        const std::size_t errors_before = errors.size();
        check_against_catalog(config, *m, *entry.catalog, database, errors);
        if (errors.size() != errors_before) {
          continue;  // a missing table or column: the checks below would only repeat it
        }
        auto& connection = std::get<std::unique_ptr<CatalogClient>>(client)->connection();
        const bool old_dropped = rules[k].old_type.empty();
        keep_dropped_old_column(
            *m, rules, options.previous ? options.previous->for_database(database) : nullptr,
            relations);
        if (auto problem = apply_old_type(*m, rules, connection)) {
          errors.push_back(migration_error(config, *m, "old_type", *problem));
          continue;
        }
        const auto fit = backfill::transforms_misfit(connection, backfill::columns_spec(*m),
                                                     m->writes, m->reads);
        if (fit.misfit) {
          errors.push_back(migration_error(config, *m, fit.misfit_key,
                                           "the transforms do not fit the columns, so every "
                                           "rewritten statement would fail: " +
                                               *fit.misfit));
          continue;
        }
        if (fit.unchecked) {
          errors.push_back(migration_error(
              config, *m, "",
              "could not check that the transforms fit the columns of " + m->schema + "." +
                  m->table + " (" + *fit.unchecked +
                  "; a transaction holding a lock on the table keeps the check waiting)" +
                  (options.unreachable_hint.empty() ? "" : "; " + options.unreachable_hint)));
          mark_unreachable();
          continue;
        }
        for (auto warning : {defaults_warning(*m, connection), old_column_warning(*m, connection),
                             column_privileges_warning(*m, connection),
                             served_read_warning(*m, rules[k], connection),
                             old_type_warning(*m, rules[k], old_dropped)}) {
          if (warning) {
            snapshot->warnings.push_back(std::move(*warning));
          }
        }
        for (auto& warning : session_setting_warnings(*m, rules[k])) {
          snapshot->warnings.push_back(std::move(warning));
        }
        for (auto& warning : transform_name_warnings(*m, rules[k].schema,
                                                     find_transform_names(rules[k], connection))) {
          snapshot->warnings.push_back(std::move(warning));
        }
        for (auto& warning : ancestor_warnings(*m, connection)) {
          snapshot->warnings.push_back(std::move(warning));
        }
      }
      auto& catalog = *std::get<std::unique_ptr<CatalogClient>>(client);
      if (errors.empty()) {
        if (auto error = add_server_writers(config, catalog, entry, *snapshot)) {
          errors.push_back(file_error(config, "", "database \"" + database + "\": " + *error));
          mark_unreachable();
        }
      }
    }
    entry.rewriter = std::make_shared<const rewrite::Rewriter>(std::move(rules));
    snapshot->databases.push_back(std::move(entry));
  }

  if (!errors.empty()) {
    return errors;
  }
  const Snapshot* previous = options.previous.get();
  snapshot->flags_generation =
      previous != nullptr && previous->config && same_migration_flags(*previous->config, config)
          ? previous->flags_generation
          : generation;
  snapshot->config = std::make_shared<const config::Config>(std::move(config));
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

void log_warnings(const Snapshot& snapshot) {
  for (const auto& warning : snapshot.warnings) {
    spdlog::warn("event=migration_warning generation={} migration={} message={}",
                 snapshot.generation, log_value(warning.migration), log_value(warning.message));
  }
  for (const auto& covered : snapshot.descendants) {
    spdlog::info("event=migration_descendants generation={} migration={} tables={}",
                 snapshot.generation, log_value(covered.migration), log_value(covered.tables));
  }
}

std::vector<const config::Migration*> server_writer_migrations(const config::Config& config,
                                                               const std::string& database) {
  std::vector<const config::Migration*> out;
  for (const auto& m : config.migrations) {
    if (m.writes != config::Writes::old_column && config.effective_database(m) == database) {
      out.push_back(&m);
    }
  }
  return out;
}

// The server runs these after the rewrite, on the row as the statement left it: whatever they
// write goes to one column only, and what reads the old column stops seeing the values written
// once writes = "new".
std::vector<ConfigWarning> server_writer_warnings(const config::Migration& m,
                                                  const std::vector<ServerWriter>& writers) {
  std::vector<ConfigWarning> out;
  if (m.writes == config::Writes::old_column) {
    return out;
  }
  const std::string table = m.schema + "." + m.table;
  const std::string once = m.writes == config::Writes::new_column ? "under" : "once";
  for (const auto& w : writers) {
    const std::string& column = w.column == "old" ? m.old_column : m.new_column;
    const std::string& other = w.column == "old" ? m.new_column : m.old_column;
    if (w.kind == "foreign key") {
      // The same action on the other column, to the same table, keeps the two alike.
      const bool mirrored = std::any_of(writers.begin(), writers.end(), [&](const auto& x) {
        return x.kind == w.kind && x.column != w.column && x.detail == w.detail &&
               x.actions == w.actions;
      });
      if (!mirrored) {
        out.push_back({m.name, "foreign key " + w.name + " on " + table + "." + column +
                                   " references " + w.detail + " " +
                                   referential_actions(w.actions) + ": the server then changes " +
                                   column +
                                   " alone, past the "
                                   "rewrite; give " +
                                   other +
                                   " the same foreign key (with the "
                                   "same action), or expect verify to find those rows"});
      }
    } else if (w.kind == "trigger" && w.column == "after") {
      out.push_back({m.name, "AFTER ROW trigger " + w.name + " (" + w.detail + ") on " + table +
                                 ": a write of " + m.old_column + " or " + m.new_column +
                                 " its function makes by a statement of its own runs in the "
                                 "server, past the rewrite, and sets one column alone; make "
                                 "it write both, or expect verify to find those rows"});
    } else if (w.kind == "trigger") {
      out.push_back({m.name, "BEFORE ROW trigger " + w.name + " (" + w.detail + ") on " + table +
                                 " runs after the rewrite: if it assigns NEW." + m.old_column +
                                 " or NEW." + m.new_column +
                                 " alone, the two columns disagree "
                                 "on every write it changes; make it assign both, or expect "
                                 "verify to find those rows"});
    } else if (w.kind == "generated") {
      out.push_back({m.name, "generated column " + w.name + " of " + table + " is computed from " +
                                 m.old_column + ": " + once + " writes = \"new\" " + m.old_column +
                                 " is not written, so " + w.name +
                                 " is computed from stale values (NULL in new rows); "
                                 "compute it from " +
                                 m.new_column + " before then"});
    } else if (w.kind == "check") {
      out.push_back({m.name, "CHECK constraint " + w.name + " of " + table + " uses " +
                                 m.old_column + ": " + once + " writes = \"new\" " + m.old_column +
                                 " is not written, so it no longer checks the "
                                 "values apps write; add the same check on " +
                                 m.new_column + " before then"});
    }
  }
  return out;
}

}  // namespace switchyard::proxy
