// session_setting_warnings: the load's warnings about conversions that depend on the session's
// TimeZone, DateStyle, IntervalStyle or extra_float_digits, and the transforms they advise.

#include "proxy/setting_warnings.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::proxy {
namespace {

struct Case {
  const char* old_type;
  const char* new_type;
  const char* to_new;
  const char* to_old;
  std::vector<std::string> expected;  // one substring per warning, in order; empty = none
};

std::vector<ConfigWarning> warnings_for(const Case& c) {
  config::Migration m;
  m.name = "m";
  m.old_column = "o";
  m.new_column = "n";
  m.writes = config::Writes::both;
  m.to_new = c.to_new;
  m.to_old = c.to_old;
  rewrite::Migration rule;
  rule.old_column = "o";
  rule.new_column = "n";
  rule.old_type = c.old_type;
  rule.new_type = c.new_type;
  return session_setting_warnings(m, rule);
}

TEST(SessionSettingWarningsTest, TimeZoneAdviceFitsEachPairOfTypes) {
  const std::vector<Case> cases = {
      {"timestamp without time zone",
       "timestamp with time zone",
       "",
       "",
       {"to_new = \"{value} AT TIME ZONE 'UTC'\" and to_old = \"{value} AT TIME ZONE 'UTC'\""}},
      {"timestamp with time zone",
       "timestamp(0) without time zone",
       "",
       "",
       {"to_new = \"{value} AT TIME ZONE 'UTC'\" and to_old = \"{value} AT TIME ZONE 'UTC'\""}},
      {"date",
       "timestamp with time zone",
       "",
       "",
       {"to_new = \"({value})::timestamp AT TIME ZONE 'UTC'\" and to_old = \"({value} AT TIME "
        "ZONE 'UTC')::date\""}},
      {"timestamp with time zone",
       "date",
       "",
       "",
       {"to_new = \"({value} AT TIME ZONE 'UTC')::date\" and to_old = \"({value})::timestamp AT "
        "TIME ZONE 'UTC'\""}},
      {"time without time zone",
       "time with time zone",
       "",
       "",
       {"to_new = \"(({value})::text || '+00')::timetz\" and to_old = \"({value} AT TIME ZONE "
        "'UTC')::time\""}},
      {"time with time zone",
       "time without time zone",
       "",
       "",
       {"to_new = \"({value} AT TIME ZONE 'UTC')::time\" and to_old = \"(({value})::text || "
        "'+00')::timetz\""}},
      {"date", "time with time zone", "", "", {"make both transforms name the zone"}},
  };
  for (const auto& c : cases) {
    const auto got = warnings_for(c);
    ASSERT_EQ(got.size(), c.expected.size()) << c.old_type << " -> " << c.new_type;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_NE(got[i].message.find("convert in each session's TimeZone"), std::string::npos);
      EXPECT_NE(got[i].message.find(c.expected[i]), std::string::npos)
          << c.old_type << " -> " << c.new_type << ": " << got[i].message;
    }
  }
}

TEST(SessionSettingWarningsTest, TransformsThatNameTheZoneRightSilenceIt) {
  const std::vector<Case> cases = {
      {"timestamp without time zone",
       "timestamp with time zone",
       "{value} AT TIME ZONE 'UTC'",
       "{value} AT TIME ZONE 'UTC'",
       {}},
      {"date",
       "timestamp with time zone",
       "({value})::timestamp AT TIME ZONE 'UTC'",
       "({value} AT TIME ZONE 'UTC')::date",
       {}},
      // The advice this warning once gave for every pair: a date or a time is made timestamptz
      // or timetz in the session's zone before AT TIME ZONE applies.
      {"date",
       "timestamp with time zone",
       "{value} AT TIME ZONE 'UTC'",
       "{value} AT TIME ZONE 'UTC'",
       {"convert in each session's TimeZone"}},
      {"time without time zone",
       "time with time zone",
       "{value} at  time zone 'UTC'",
       "{value} AT TIME ZONE 'UTC'",
       {"convert in each session's TimeZone"}},
      {"timestamp with time zone",
       "date",
       "{value} AT TIME ZONE 'UTC'",
       "{value} AT TIME ZONE 'UTC'",
       {"convert in each session's TimeZone"}},
      {"integer", "bigint", "", "", {}},
      {"date", "date", "", "", {}},
  };
  for (const auto& c : cases) {
    const auto got = warnings_for(c);
    ASSERT_EQ(got.size(), c.expected.size())
        << c.old_type << " -> " << c.new_type << " " << c.to_new;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_NE(got[i].message.find(c.expected[i]), std::string::npos) << got[i].message;
    }
  }
}

TEST(SessionSettingWarningsTest, ConversionsThroughTextNameTheSettingTheyDependOn) {
  const std::vector<Case> cases = {
      {"text",
       "date",
       "{value}::date",
       "to_char({value}, 'MM/DD/YYYY')",
       {"to_new from text to date depends on the session's DateStyle"}},
      {"text", "date", "to_date({value}, 'MM/DD/YYYY')", "to_char({value}, 'MM/DD/YYYY')", {}},
      {"timestamp with time zone",
       "text",
       "{value}::text",
       "{value}::timestamptz",
       {"to_new from timestamp with time zone to text depends on the session's TimeZone and "
        "DateStyle",
        "to_old from text to timestamp with time zone depends on the session's DateStyle and "
        "TimeZone"}},
      {"interval",
       "text",
       "{value} :: TEXT",
       "{value}::interval",
       {"to_new from interval to text depends on the session's IntervalStyle",
        "to_old from text to interval depends on the session's IntervalStyle"}},
      {"date",
       "character varying(40)",
       "CAST({value} AS text)",
       "{value}::date",
       {"e.g. to_new = \"to_char({value}, 'YYYY-MM-DD')\"", "e.g. to_old = \"to_date("}},
      {"double precision",
       "text",
       "{value}::text",
       "{value}::double precision",
       {"depends on the session's extra_float_digits: "}},
      // A plain cast (no transform) goes through text as well.
      {"date", "text", "", "", {"to_new (none: a cast) from date to text depends", "to_old"}},
      {"character varying(30)",
       "timestamp without time zone",
       "{value}::timestamp",
       "",
       {"to_timestamp({value} || ' +00', 'YYYY-MM-DD HH24:MI:SS TZH') AT TIME ZONE 'UTC'",
        "to_old (none: a cast) from timestamp without time zone to character varying(30) "
        "depends on the session's DateStyle"}},
      {"integer", "text", "{value}::text", "{value}::integer", {}},
  };
  for (const auto& c : cases) {
    const auto got = warnings_for(c);
    ASSERT_EQ(got.size(), c.expected.size())
        << c.old_type << " -> " << c.new_type << " " << c.to_new;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_NE(got[i].message.find(c.expected[i]), std::string::npos) << got[i].message;
    }
  }
}

struct NameCase {
  const char* to_new;
  const char* to_old;
  TransformName found;
  const char* expected;  // "" = no warning
};

TEST(TransformNameWarningsTest, NamesAnAppsSearchPathMayResolveOtherwise) {
  const std::vector<NameCase> cases = {
      {"norm({value})",
       "denorm({value})",
       {"function", "public", "norm", 2},
       "to_new names the function norm without its schema (2 schemas hold one)"},
      {"public.norm({value})", "", {"function", "public", "norm", 2}, ""},
      {"\"public\".\"norm\"({value})", "", {"function", "public", "norm", 2}, ""},
      {"{value}::mood",
       "{value}::text",
       {"type", "public", "mood", 2},
       "write public.mood in the transform"},
      {"{value}::text",
       "{value}::Mood",
       {"type", "public", "mood", 2},
       "to_old names the type mood"},
      // In the table's schema or pg_catalog and nowhere else: any path that finds the table
      // finds it.
      {"norm({value})", "", {"function", "public", "norm", 1}, ""},
      {"upper({value})", "", {"function", "pg_catalog", "upper", 1}, ""},
      {"upper({value})", "", {"function", "pg_catalog", "upper", 2}, "(2 schemas hold one)"},
      {"util.norm({value})", "util.norm({value})", {"function", "util", "norm", 1}, ""},
      {"norm({value})",
       "norm({value})",
       {"function", "util", "norm", 1},
       "to_new and to_old name the function norm without its schema (it is in util)"},
      {"abnormal({value})", "", {"function", "util", "norm", 1}, ""},
  };
  for (const auto& c : cases) {
    config::Migration m;
    m.name = "m";
    m.old_column = "o";
    m.new_column = "n";
    m.to_new = c.to_new;
    m.to_old = c.to_old;
    const auto got = transform_name_warnings(m, "public", {c.found});
    if (std::string(c.expected).empty()) {
      EXPECT_TRUE(got.empty()) << c.to_new << ": " << got.front().message;
      continue;
    }
    ASSERT_EQ(got.size(), 1u) << c.to_new;
    EXPECT_NE(got[0].message.find(c.expected), std::string::npos) << got[0].message;
  }
}

}  // namespace
}  // namespace switchyard::proxy
