// COPY: `COPY T (cols) FROM STDIN` gets its column list rewritten and a CopyPlan for the data
// stream (no transform; text and CSV fields as written, binary ones converted exactly to the other
// column's type: copy_field_conversion.hpp); `COPY T TO` reads like
// `SELECT *`; `COPY (query) TO` is a read.

#include <algorithm>

#include "rewrite/analyzer.hpp"
#include "rewrite/client_encoding.hpp"
#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {

namespace {

struct CopyOptions {
  std::string format = "text";
  std::string delimiter;
  std::string quote;
  std::string escape;
  bool header = false;
  bool header_match = false;
  bool column_options = false;  // FORCE_QUOTE / FORCE_NOT_NULL / FORCE_NULL
  std::string encoding;
};

std::string arg_text(const Node* arg) {
  if (arg == nullptr) {
    return {};
  }
  switch (arg->node_case) {
    case PG_QUERY__NODE__NODE_STRING:
      return std::string(string_value(arg));
    case PG_QUERY__NODE__NODE_BOOLEAN:
      return arg->boolean->boolval ? "true" : "false";
    case PG_QUERY__NODE__NODE_INTEGER:
      return std::to_string(arg->integer->ival);
    default:
      return "?";
  }
}

CopyOptions parse_options(const PgQuery__CopyStmt* c) {
  CopyOptions o;
  for (size_t i = 0; i < c->n_options; ++i) {
    const Node* n = c->options[i];
    if (n->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) {
      continue;
    }
    const std::string name = lower_ascii(n->def_elem->defname ? n->def_elem->defname : "");
    const std::string value = lower_ascii(arg_text(n->def_elem->arg));
    if (name == "format") {
      o.format = value;
    } else if (name == "delimiter") {
      o.delimiter = arg_text(n->def_elem->arg);
    } else if (name == "quote") {
      o.quote = arg_text(n->def_elem->arg);
    } else if (name == "escape") {
      o.escape = arg_text(n->def_elem->arg);
    } else if (name == "header") {
      o.header_match = value == "match";
      o.header = n->def_elem->arg == nullptr || value == "true" || value == "on" || value == "1" ||
                 o.header_match;
    } else if (name == "encoding") {
      o.encoding = arg_text(n->def_elem->arg);
    } else if (name.starts_with("force_")) {
      o.column_options = true;
    }
  }
  return o;
}

// Where each output column stands in a row of every column the table has (generated ones
// aside, as COPY without a list takes them): Postgres takes such a row too, from an app that
// knows N or a dump's data. Empty when that row is no other width than the old app's (O
// dropped) or an output column is not among them.
std::vector<int> full_width_sources(const std::vector<std::string>& output,
                                    const std::vector<std::string>& table, std::size_t old_width) {
  std::vector<int> sources;
  if (table.size() == old_width) {
    return sources;
  }
  for (const auto& column : output) {
    const auto at = std::find(table.begin(), table.end(), column);
    if (at == table.end()) {
      return {};
    }
    sources.push_back(static_cast<int>(at - table.begin()));
  }
  return sources;
}

}  // namespace

void Analyzer::copy_stmt(const PgQuery__CopyStmt* c, const Scope* outer) {
  // The proxy rewrites the rows of the first COPY FROM STDIN after the Query is sent: a plan
  // made for a later one would be applied to another COPY's rows.
  const bool first_copy_in = copies_in_ == 0;
  if (c->is_from && (c->filename == nullptr || c->filename[0] == '\0') && !c->is_program) {
    ++copies_in_;
  }
  if (c->query != nullptr) {
    walk_query_node(c->query, outer);
    return;
  }
  if (c->relation == nullptr) {
    return;
  }
  Scope scope;
  scope.parent = outer;
  Relation rel = make_table(c->relation, scope, true);
  if (rel.migrations.empty()) {
    return;
  }
  std::vector<std::string> listed;
  for (size_t i = 0; i < c->n_attlist; ++i) {
    listed.emplace_back(string_value(c->attlist[i]));
  }
  if (names_a_column_twice(listed)) {
    return;
  }
  const int r0 = tokens_.index_at(c->relation->location);
  const int rel_end = r0 < 0 ? -1 : tokens_.dotted_name_end(r0);
  int list_close = -1;
  if (rel_end >= 0 && !listed.empty()) {
    std::vector<Span> items = tokens_.paren_items(rel_end + 1, &list_close);
    if (items.size() != listed.size()) {
      list_close = -1;
    }
  }
  if (r0 < 0 || (!listed.empty() && list_close < 0)) {
    for (const Migration* m : rel.migrations) {
      if (m->writes != Writes::old_column || reads_new(m)) {
        unsupported(m, "cannot locate the COPY column list in the text");
      }
    }
    return;
  }
  // The text to replace: the column list if any, else nothing (insert after the name).
  const int replace_begin =
      listed.empty() ? tokens_.at(rel_end).end : tokens_.at(rel_end + 1).start;
  const int replace_end = listed.empty() ? tokens_.at(rel_end).end : tokens_.at(list_close).end;
  const CopyOptions opts = parse_options(c);

  if (!c->is_from) {
    // COPY T TO: the same columns as before the migration began, O served per the read rule.
    bool need = false;
    bool known = true;
    std::vector<std::string> cols = listed;
    if (cols.empty()) {
      if (star_active(rel)) {
        if (!column_list_usable(rel)) {
          return;
        }
        cols = copy_columns(rel, &known);
        need = true;
      }
    }
    if (!known) {
      return;
    }
    bool query_form = false;
    for (const Migration* m : rel.migrations) {
      if (std::find(cols.begin(), cols.end(), m->old_column) != cols.end()) {
        use(m).reads_of_old++;
        if (reads_new(m)) {
          query_form = true;
        }
      }
    }
    if (!need && !query_form) {
      return;
    }
    // In the query form the names become expressions: qualified, so a listed name that is no
    // column (the table's own name, a whole row) fails as it does in a column list.
    const std::string qual = query_form ? quote_ident(rel.refname) + "." : "";
    std::string list;
    for (const std::string& col : cols) {
      if (!list.empty()) {
        list += ", ";
      }
      auto m = std::find_if(rel.migrations.begin(), rel.migrations.end(), [&](const Migration* mm) {
        return mm->old_column == col && reads_new(mm);
      });
      list += m != rel.migrations.end() ? (*m)->as_old_type(apply_template(
                                              (*m)->to_old, qual + quote_ident((*m)->new_column))) +
                                              " AS " + quote_ident(col)
                                        : qual + quote_ident(col);
    }
    bool ok = false;
    if (query_form) {
      const std::string relation_text =
          sql_.substr(static_cast<size_t>(tokens_.at(r0).start),
                      static_cast<size_t>(tokens_.at(rel_end).end - tokens_.at(r0).start));
      ok = edits_.replace(tokens_.at(r0).start, replace_end,
                          "(SELECT " + list + " FROM " + relation_text + ")");
    } else {
      ok = edits_.replace(replace_begin, replace_end, (listed.empty() ? " (" : "(") + list + ")");
    }
    if (!ok) {
      unsupported(nullptr, "overlapping rewrites in COPY");
      return;
    }
    for (const Migration* m : rel.migrations) {
      use(m).rewritten = true;
    }
    return;
  }

  // COPY FROM: the write rule on the column list, and a plan for the data rows; or, where the
  // data stream cannot serve a migration, a staging table (copy_staging.cpp).
  std::vector<std::string> cols = listed;
  // Under writes = old too, once `*` (and COPY TO) leave N out: the app's rows have no field
  // for it, which without a list the server would count.
  const bool hidden_new = listed.empty() && star_active(rel);
  if (cols.empty() && (hidden_new || std::any_of(rel.migrations.begin(), rel.migrations.end(),
                                                 [](const Migration* m) {
                                                   return m->writes != Writes::old_column;
                                                 }))) {
    if (!column_list_usable(rel)) {
      return;
    }
    bool known = false;
    cols = copy_columns(rel, &known);
    if (!known) {
      return;
    }
  }
  const bool from_stdin = (c->filename == nullptr || c->filename[0] == '\0') && !c->is_program;
  // A binary field is the bytes of its column's type: written to the other column it must be
  // converted to that column's type (an int4's bytes would not read as an int8). Per migration.
  std::vector<FieldConversion> conversion_of(rel.migrations.size(), FieldConversion::verbatim);
  for (size_t k = 0; k < rel.migrations.size(); ++k) {
    const Migration* m = rel.migrations[k];
    if (m->writes == Writes::old_column) {
      continue;
    }
    const bool lists_o = std::find(cols.begin(), cols.end(), m->old_column) != cols.end();
    const bool lists_n = std::find(cols.begin(), cols.end(), m->new_column) != cols.end();
    const WriteOp op = decide_write(m, lists_o, lists_n);
    if (op == WriteOp::none) {
      continue;
    }
    if (opts.format != "text" && opts.format != "csv" && opts.format != "binary") {
      unsupported(m, "COPY FROM in " + opts.format + " format writing the mapped column");
      return;
    }
    std::string stage;
    if (!from_stdin) {
      stage = "a server-side file or program";
    } else if (opts.column_options || opts.header_match || c->where_clause != nullptr) {
      stage = "with FORCE_*, HEADER MATCH or WHERE";
    } else if (opts.format != "binary" &&
               classify_encoding(opts.encoding) == ClientEncoding::embeds_ascii) {
      // The data stream is split into fields by bytes, and a character of these encodings may
      // hold the delimiter's or a backslash's byte: the server splits the rows after converting.
      stage = "with ENCODING '" + opts.encoding + "'";
    } else if (!transform_of(m, op).empty() && op != WriteOp::remove_old) {
      stage = "with the migration's " + std::string(op == WriteOp::add_old ? "to_old" : "to_new") +
              " transform";
    } else if (opts.format != "binary" && op != WriteOp::remove_old && !m->same_values()) {
      // A field's text read by N's type is not always what O would hold (2.6 is 3 in an
      // integer O): N gets O's value through a cast, which the data stream cannot apply.
      stage = "between " + m->old_type + " and " + m->new_type;
    } else if (op == WriteOp::rename_to_new && m->old_type_narrower()) {
      // N alone would take a field too long for O, which the COPY into O refused: the staging
      // table's column of O's type refuses it.
      stage = "into " + m->new_type + " of values that " + m->old_type + " must hold";
    } else if (opts.format == "binary" && op != WriteOp::remove_old) {
      const bool to_old = op == WriteOp::add_old;
      const std::string& from = to_old ? m->new_type : m->old_type;
      const std::string& to = to_old ? m->old_type : m->new_type;
      if (const auto found = binary_field_conversion(from, to)) {
        conversion_of[k] = *found;
      } else {
        stage = "in binary format between " +
                (from.empty() || to.empty() ? std::string("columns the catalog does not type")
                                            : from + " and " + to);
      }
    }
    if (!stage.empty()) {
      stage_copy(m, stage, rel, cols, r0, replace_end);
      return;
    }
  }

  std::vector<int> sources;
  std::vector<FieldConversion> conversions;  // parallel to sources once a migration applies
  const size_t input_columns = cols.size();
  bool changed = false;
  for (size_t k = 0; k < rel.migrations.size(); ++k) {
    const Migration* m = rel.migrations[k];
    if (m->writes == Writes::old_column) {
      continue;
    }
    if (sources.empty()) {
      for (size_t i = 0; i < cols.size(); ++i) {
        sources.push_back(static_cast<int>(i));
      }
    }
    const auto o = std::find(cols.begin(), cols.end(), m->old_column);
    const auto n = std::find(cols.begin(), cols.end(), m->new_column);
    const int io = o == cols.end() ? -1 : static_cast<int>(o - cols.begin());
    const int in = n == cols.end() ? -1 : static_cast<int>(n - cols.begin());
    if (io >= 0) {
      use(m).writes_of_old++;
    }
    if (in >= 0) {
      use(m).writes_of_new++;
    }
    const WriteOp op = decide_write(m, io >= 0, in >= 0);
    if (op == WriteOp::none) {
      continue;
    }
    const FieldConversion conversion = conversion_of[k];
    changed = true;
    if (conversions.empty()) {
      conversions.assign(sources.size(), FieldConversion::verbatim);
    }
    if (op == WriteOp::add_new) {
      cols.push_back(m->new_column);
      sources.push_back(sources[static_cast<size_t>(io)]);
      conversions.push_back(conversion);
    } else if (op == WriteOp::add_old) {
      cols.push_back(m->old_column);
      sources.push_back(sources[static_cast<size_t>(in)]);
      conversions.push_back(conversion);
    } else if (op == WriteOp::rename_to_new) {
      cols[static_cast<size_t>(io)] = m->new_column;
      conversions[static_cast<size_t>(io)] = conversion;
    } else {
      cols.erase(cols.begin() + io);
      sources.erase(sources.begin() + io);
      conversions.erase(conversions.begin() + io);
    }
    use(m).rewritten = true;
  }
  if (!changed && !hidden_new) {
    return;
  }
  std::string list;
  for (const std::string& col : cols) {
    list += (list.empty() ? "" : ", ") + quote_ident(col);
  }
  if (!edits_.replace(replace_begin, replace_end, (listed.empty() ? " (" : "(") + list + ")")) {
    unsupported(nullptr, "overlapping rewrites in COPY");
    return;
  }
  if (!changed) {
    return;  // the list alone: the rows go through as they are
  }
  std::vector<std::string> every_column;
  if (listed.empty()) {
    const auto table = catalog_.columns(*rel.qname);
    const auto details = catalog_.column_details(*rel.qname);
    for (std::size_t i = 0; table.has_value() && i < table->size(); ++i) {
      if (!details.has_value() || details->size() != table->size() || !(*details)[i].generated) {
        every_column.push_back((*table)[i]);
      }
    }
  }
  std::vector<int> full_sources = full_width_sources(cols, every_column, input_columns);
  // Only O under writes = "new" may be left out of such a row, as from a list naming both; any
  // other field (N of a migration still at writes = "old") would be lost: that width is refused.
  for (const auto& column : every_column) {
    const bool kept = std::find(cols.begin(), cols.end(), column) != cols.end() ||
                      std::any_of(rel.migrations.begin(), rel.migrations.end(), [&](auto* m) {
                        return m->writes == Writes::new_column && m->old_column == column;
                      });
    if (!kept) {
      full_sources.clear();
    }
  }
  bool identity = sources.size() == input_columns && full_sources.empty();
  for (size_t i = 0; identity && i < sources.size(); ++i) {
    identity = sources[i] == static_cast<int>(i) && conversions[i] == FieldConversion::verbatim;
  }
  if (identity) {
    return;
  }
  CopyPlan plan;
  plan.format = opts.format == "csv"      ? CopyPlan::Format::csv
                : opts.format == "binary" ? CopyPlan::Format::binary
                                          : CopyPlan::Format::text;
  plan.delimiter = !opts.delimiter.empty() ? opts.delimiter[0]
                                           : (plan.format == CopyPlan::Format::csv ? ',' : '\t');
  plan.quote = opts.quote.empty() ? '"' : opts.quote[0];
  plan.escape = opts.escape.empty() ? plan.quote : opts.escape[0];
  plan.header = opts.header;
  plan.input_columns = input_columns;
  plan.source_index_per_output_column = sources;
  if (!full_sources.empty()) {
    plan.full_width_columns = every_column.size();
    plan.full_width_source_per_output_column = std::move(full_sources);
  }
  if (std::any_of(conversions.begin(), conversions.end(),
                  [](FieldConversion c) { return c != FieldConversion::verbatim; })) {
    plan.conversion_per_output_column = conversions;
  }
  plan.output_columns = cols;
  if (!first_copy_in) {
    unsupported(nullptr,
                "a COPY FROM STDIN whose rows Switchyard rewrites after another COPY FROM STDIN "
                "in the same query text (send each COPY in a query of its own)");
    return;
  }
  copy = plan;
}

}  // namespace switchyard::rewrite::detail
