#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rewrite/migration.hpp"

namespace switchyard::rewrite {

/// What the catalog says of one column besides its name.
struct ColumnDetail {
  /// format_type(atttypid, atttypmod): usable as a type in SQL text.
  std::string type;
  /// A generated column (`GENERATED ALWAYS AS (...) STORED`): COPY leaves it out of a table's
  /// default column list and refuses it in an explicit one.
  bool generated = false;
};

/// Where a relation's attributes stand (pg_attribute.attnum), the dropped ones too: Postgres
/// keeps a dropped column's slot, so the place a dropped column had among the live ones is known.
struct ColumnSlots {
  std::vector<int> live;     ///< the attnums of Catalog::columns(), in the same order
  std::vector<int> dropped;  ///< the attnums of dropped attributes
  std::uint32_t relid = 0;   ///< the relation's OID: attnums mean nothing in another relation
  bool operator==(const ColumnSlots&) const = default;
};

/// The columns the functions of one name give as a FROM item, as the catalog tells them (the
/// item's alias and column aliases apply on top).
struct FunctionOutput {
  enum class Kind {
    unknown,  // no such function, overloads that differ, or a type only the call's arguments decide
    scalar,   // one column, named by the FROM item's alias, else by the function
    columns,  // `columns`: its OUT parameters, or its composite return type's columns
  };
  Kind kind = Kind::unknown;
  std::vector<std::string> columns;
  /// The relation whose row type it returns (`RETURNS SETOF users`): its rows are that table's,
  /// N included, so a `*` over it is expanded as one over the table.
  std::optional<QualifiedName> row_type;
  /// Kind unknown because functions of the name differ: the relations whose row types some of
  /// them return (a call may be one of those, with N in its rows).
  std::vector<QualifiedName> candidate_row_types = {};
  bool operator==(const FunctionOutput&) const = default;
};

/// Both overloads' output when they agree, else unknown (with the row types either returns).
FunctionOutput combine_outputs(const FunctionOutput& a, const FunctionOutput& b);

/// What the catalog says of the functions of one name in one schema.
struct FunctionFacts {
  char volatility = 'v';  // pg_proc.provolatile of the most volatile overload: 'i', 's' or 'v'
  FunctionOutput output;  // what every overload gives in FROM (unknown when they differ)
  bool operator==(const FunctionFacts&) const = default;
};

/// What the engine knows of the database: the proxy fills it from the catalog.
class Catalog {
 public:
  virtual ~Catalog() = default;
  /// Columns of schema.table in attnum order (dropped columns excluded), or nullopt if unknown.
  virtual std::optional<std::vector<std::string>> columns(const QualifiedName&) const = 0;
  /// The same columns' details, in the same order, or nullopt if unknown.
  virtual std::optional<std::vector<ColumnDetail>> column_details(const QualifiedName&) const = 0;
  /// The same columns' attnums and those of the dropped attributes, or nullopt if unknown.
  virtual std::optional<ColumnSlots> column_slots(const QualifiedName&) const {
    return std::nullopt;
  }
  /// True if the relation exists (table, view, ...). nullopt if the catalog does not know.
  virtual std::optional<bool> exists(const QualifiedName&) const = 0;
  /// The volatility of the functions called `name.table` (in `name.schema`, or in every schema
  /// when it is empty), as pg_proc.provolatile spells it: the most volatile of them ('i' < 's' <
  /// 'v'), '\0' when there is none. nullopt if the catalog does not know.
  virtual std::optional<char> function_volatility(const QualifiedName& name) const = 0;
  /// The columns the functions called `name.table` (in `name.schema`, or in every schema when
  /// it is empty, as for volatility) give in FROM, when all of them agree. nullopt if the catalog
  /// does not know.
  virtual std::optional<FunctionOutput> function_output(const QualifiedName& name) const = 0;
};

/// The built-in functions a written value may call and still be written to both columns by
/// repeating its text. Unqualified, such a name is the built-in only while no other schema has
/// a function of that name (an overload there can be the one the call picks): the write rule
/// asks function_volatility for it as for any name, so the proxy loads these up front.
std::vector<std::string> repeatable_builtin_names();

/// The most volatile of the `functions` called `name.table`, in `name.schema` or in any schema
/// when it is empty; '\0' when none is.
char most_volatile(const std::map<QualifiedName, FunctionFacts>& functions,
                   const QualifiedName& name);
/// The output those functions share; unknown when there is none or they differ.
FunctionOutput common_output(const std::map<QualifiedName, FunctionFacts>& functions,
                             const QualifiedName& name);

/// A simple in-memory Catalog (used by tests and by the proxy).
///
/// A relation is "known" once added (exists, with columns) or marked absent. Every other name is
/// unknown, which makes the engine answer Outcome::needs_catalog for it, unless the table name was
/// declared complete: then every schema not added holds no relation of that name.
class StaticCatalog : public Catalog {
 public:
  /// Records that `name` exists with these columns (attnum order) and, when given, their
  /// details (one per column).
  void add(QualifiedName name, std::vector<std::string> columns,
           std::vector<ColumnDetail> details = {});
  /// Records where `name`'s columns (as added) and its dropped attributes stand.
  void add_slots(QualifiedName name, ColumnSlots slots);
  /// Records that no relation `name` exists.
  void add_absent(QualifiedName name);
  /// Declares that every relation called `table` (in any schema) has been added.
  void mark_complete(std::string table);
  /// Records the functions called `name.table` in schema `name.schema` ('i', 's' or 'v') and
  /// what they give in FROM.
  void add_function(QualifiedName name, char volatility, FunctionOutput output = {});
  /// Declares that every function called `name` (in any schema) has been added.
  void mark_function_complete(std::string name);
  /// Forgets everything.
  void clear();

  std::optional<std::vector<std::string>> columns(const QualifiedName& name) const override;
  std::optional<std::vector<ColumnDetail>> column_details(const QualifiedName& name) const override;
  std::optional<ColumnSlots> column_slots(const QualifiedName& name) const override;
  std::optional<bool> exists(const QualifiedName& name) const override;
  std::optional<char> function_volatility(const QualifiedName& name) const override;
  std::optional<FunctionOutput> function_output(const QualifiedName& name) const override;

 private:
  std::map<QualifiedName, std::vector<std::string>> columns_;
  std::map<QualifiedName, std::vector<ColumnDetail>> details_;
  std::map<QualifiedName, ColumnSlots> slots_;
  std::map<QualifiedName, FunctionFacts> functions_;
  std::set<std::string> complete_functions_;
  std::set<QualifiedName> absent_;
  std::set<std::string> complete_tables_;
};

/// The parts of a client session that change how names resolve.
struct SessionContext {
  /// Schemas as Postgres stores them; "$user" stands for `user`.
  std::vector<std::string> search_path = {"$user", "public"};
  std::string user;
};

}  // namespace switchyard::rewrite
