#include "backfill/column_defaults.hpp"

#include <gtest/gtest.h>

namespace switchyard::backfill {
namespace {

TableSpec users() {
  TableSpec spec;
  spec.schema = "public";
  spec.table = "users";
  spec.key = {{"id", "integer"}};
  spec.old_column = "status";
  spec.new_column = "state";
  spec.to_new = "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END";
  spec.to_old = "CASE {value} WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' END";
  return spec;
}

ColumnDefault text_default(std::optional<std::string> expression) {
  return {"text", std::move(expression), false};
}

ColumnDefault smallint_default(std::optional<std::string> expression) {
  return {"smallint", std::move(expression), false};
}

DefaultsEvaluation evaluated(std::optional<std::string> old_value,
                             std::optional<std::string> new_value,
                             std::optional<std::string> expected_new,
                             std::optional<std::string> expected_old) {
  DefaultsEvaluation e;
  e.old_value = std::move(old_value);
  e.new_value = std::move(new_value);
  e.expected_new = std::move(expected_new);
  e.expected_old = std::move(expected_old);
  return e;
}

TEST(ColumnDefaultsTest, EvaluationSqlCastsEachDefaultToItsColumnsType) {
  const auto spec = users();
  const auto old_default = text_default("'active'::text");
  const auto new_default = smallint_default(std::nullopt);
  EXPECT_EQ(defaults_values_sql(old_default, new_default),
            "SELECT CAST(('active'::text) AS text)::text, CAST(('active'::text) AS text)::text, "
            "CAST(NULL AS smallint)::text, CAST(NULL AS smallint)::text");
  EXPECT_EQ(defaults_transforms_sql(spec, old_default, new_default),
            "SELECT CAST((CASE (CAST(('active'::text) AS text)) WHEN 'active' THEN 1 WHEN "
            "'inactive' THEN 0 END) AS smallint)::text, CAST((CASE (CAST(NULL AS smallint)) WHEN "
            "1 THEN 'active' WHEN 0 THEN 'inactive' END) AS text)::text");
}

// What status says for each pair of defaults: the verdict, words the text must hold, and the
// ALTER it proposes.
TEST(ColumnDefaultsTest, JudgesEachPairOfDefaults) {
  struct Case {
    const char* what;
    ColumnDefault old_default;
    ColumnDefault new_default;
    DefaultsEvaluation evaluation;
    DefaultsVerdict verdict;
    std::vector<std::string> says;
    std::string fix;
  };
  DefaultsEvaluation sequence;
  sequence.error = "cannot execute nextval() in a read-only transaction";
  DefaultsEvaluation random_old = evaluated("0.1", std::nullopt, std::nullopt, std::nullopt);
  random_old.old_repeats = false;
  DefaultsEvaluation random_new = evaluated(std::nullopt, "0.2", std::nullopt, std::nullopt);
  random_new.new_repeats = false;
  DefaultsEvaluation failing = evaluated("unknown", std::nullopt, std::nullopt, std::nullopt);
  failing.transform_error = "invalid input syntax for type smallint: \"unknown\"";
  ColumnDefault not_null_seven = smallint_default("7");
  not_null_seven.not_null = true;
  ColumnDefault not_null_none = smallint_default(std::nullopt);
  not_null_none.not_null = true;
  ColumnDefault not_null_old = text_default(std::nullopt);
  not_null_old.not_null = true;
  DefaultsEvaluation null_mapped =
      evaluated(std::nullopt, std::nullopt, std::nullopt, std::nullopt);
  null_mapped.null_to_null = false;
  const std::vector<Case> cases = {
      {"a NOT NULL on the new column alone",
       text_default(std::nullopt),
       not_null_none,
       evaluated(std::nullopt, std::nullopt, std::nullopt, std::nullopt),
       DefaultsVerdict::unmatched,
       {"state is NOT NULL and status is not: a write of NULL to status (which also writes "
        "state) fails with 23502 naming state",
        "ALTER TABLE \"public\".\"users\" ALTER COLUMN \"state\" DROP NOT NULL."},
       ""},
      {"a NOT NULL new column's default is dropped only with the NOT NULL",
       text_default(std::nullopt),
       not_null_seven,
       evaluated(std::nullopt, "7", std::nullopt, std::nullopt),
       DefaultsVerdict::differ,
       {"stores NULL in status and '7' in state", "state is NOT NULL and status is not"},
       "ALTER TABLE \"public\".\"users\" ALTER COLUMN \"state\" DROP NOT NULL, ALTER COLUMN "
       "\"state\" DROP DEFAULT"},
      {"a NOT NULL new column to_new gives a value for NULL",
       text_default(std::nullopt),
       not_null_none,
       null_mapped,
       DefaultsVerdict::none,
       {},
       ""},
      {"both columns NOT NULL",
       not_null_old,
       not_null_none,
       evaluated(std::nullopt, std::nullopt, std::nullopt, std::nullopt),
       DefaultsVerdict::none,
       {},
       ""},
      {"neither has a default",
       text_default(std::nullopt),
       smallint_default(std::nullopt),
       evaluated(std::nullopt, std::nullopt, std::nullopt, std::nullopt),
       DefaultsVerdict::none,
       {},
       ""},
      {"matching defaults",
       text_default("'active'::text"),
       smallint_default("1"),
       evaluated("active", "1", "1", "active"),
       DefaultsVerdict::agree,
       {"status DEFAULT 'active'::text, state DEFAULT 1: they agree."},
       ""},
      {"the old column has a default, the new one none",
       text_default("'active'::text"),
       smallint_default(std::nullopt),
       evaluated("active", std::nullopt, "1", std::nullopt),
       DefaultsVerdict::differ,
       {"status DEFAULT 'active'::text, state no default: they disagree.",
        "stores 'active' in status and NULL in state, where to_new gives '1'",
        "verify counts such rows"},
       "ALTER TABLE \"public\".\"users\" ALTER COLUMN \"state\" SET DEFAULT CASE "
       "('active'::text) WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END"},
      {"only the new column has a default",
       text_default(std::nullopt),
       smallint_default("7"),
       evaluated(std::nullopt, "7", std::nullopt, std::nullopt),
       DefaultsVerdict::differ,
       {"status no default, state DEFAULT 7", "stores NULL in status and '7' in state"},
       "ALTER TABLE \"public\".\"users\" ALTER COLUMN \"state\" DROP DEFAULT"},
      {"a CASE laid out over lines is shown on one",
       text_default("CASE\n    WHEN true THEN 'a\nb'::text\n    ELSE NULL\nEND"),
       smallint_default(std::nullopt),
       evaluated("a\nb", std::nullopt, "1", std::nullopt),
       DefaultsVerdict::differ,
       {"status DEFAULT CASE WHEN true THEN 'a\nb'::text ELSE NULL END, state no default"},
       "ALTER TABLE \"public\".\"users\" ALTER COLUMN \"state\" SET DEFAULT CASE (CASE WHEN "
       "true THEN 'a\nb'::text ELSE NULL END) WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 END"},
      {"to_old does not map the new default back",
       text_default("'pending'::text"),
       smallint_default(std::nullopt),
       evaluated("pending", std::nullopt, std::nullopt, std::nullopt),
       DefaultsVerdict::differ,
       {"to_old(NULL) gives NULL, not status's default 'pending'", "Extend to_new and to_old"},
       ""},
      {"a sequence cannot be evaluated read-only",
       text_default("nextval('users_status_seq'::regclass)"),
       smallint_default(std::nullopt),
       sequence,
       DefaultsVerdict::unmatched,
       {"status's default gives a new value each time",
        "(evaluated read-only: cannot execute nextval() in a read-only transaction)",
        "BEFORE INSERT trigger"},
       ""},
      {"a volatile old default",
       text_default("(random())::text"),
       smallint_default(std::nullopt),
       random_old,
       DefaultsVerdict::unmatched,
       {"no default of state can follow it"},
       ""},
      {"an identity old column",
       ColumnDefault{"integer", std::nullopt, true},
       smallint_default(std::nullopt),
       DefaultsEvaluation{},
       DefaultsVerdict::unmatched,
       {"status GENERATED AS IDENTITY", "no default of state can follow it"},
       ""},
      {"an identity new column",
       text_default(std::nullopt),
       ColumnDefault{"bigint", std::nullopt, true},
       DefaultsEvaluation{},
       DefaultsVerdict::unmatched,
       {"state is an identity column and cannot follow status"},
       ""},
      {"a volatile new default",
       text_default(std::nullopt),
       smallint_default("(random())::int"),
       random_new,
       DefaultsVerdict::differ,
       {"a new value each time in state"},
       "ALTER TABLE \"public\".\"users\" ALTER COLUMN \"state\" DROP DEFAULT"},
      {"the transforms fail on the old default",
       text_default("'unknown'::text"),
       smallint_default(std::nullopt),
       failing,
       DefaultsVerdict::differ,
       {"The transforms fail on the defaults: invalid input syntax", "fail backfill and verify"},
       ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const auto finding = judge_defaults(users(), c.old_default, c.new_default, c.evaluation);
    EXPECT_EQ(finding.verdict, c.verdict);
    EXPECT_EQ(finding.fix, c.fix);
    if (c.says.empty()) {
      EXPECT_EQ(finding.text, "");
    }
    for (const auto& words : c.says) {
      EXPECT_NE(finding.text.find(words), std::string::npos) << finding.text;
    }
    if (!c.fix.empty()) {
      EXPECT_NE(finding.text.find("Make them agree: " + c.fix), std::string::npos) << finding.text;
    }
  }
}

// LOCALTIMESTAMP and now() (through AT TIME ZONE 'UTC') agree only in a UTC session: an app
// elsewhere writes another instant to each column.
TEST(ColumnDefaultsTest, DefaultsAgreeOnlyIfTheyAgreeInEveryTimeZone) {
  TableSpec spec = users();
  spec.to_new = "{value} AT TIME ZONE 'UTC'";
  spec.to_old = "{value} AT TIME ZONE 'UTC'";
  const ColumnDefault local{"timestamp without time zone", "LOCALTIMESTAMP", false};
  const ColumnDefault now{"timestamp with time zone", "now()", false};
  const auto in_utc = evaluated("2026-12-04 02:24:56", "2026-12-04 02:24:56+00",
                                "2026-12-04 02:24:56+00", "2026-12-04 02:24:56");
  const auto in_tokyo = evaluated("2026-12-04 11:24:56", "2026-12-04 11:24:56+09",
                                  "2026-12-04 20:24:56+09", "2026-12-04 02:24:56");
  const auto found =
      judge_defaults_in_zones(spec, local, now, {{"UTC", in_utc}, {"Asia/Tokyo", in_tokyo}});
  EXPECT_EQ(found.verdict, DefaultsVerdict::differ);
  EXPECT_NE(found.text.find("They agree under TimeZone 'UTC', not under 'Asia/Tokyo'"),
            std::string::npos)
      << found.text;
  const auto everywhere =
      judge_defaults_in_zones(spec, local, now, {{"UTC", in_utc}, {"Asia/Tokyo", in_utc}});
  EXPECT_EQ(everywhere.verdict, DefaultsVerdict::agree);
  EXPECT_NE(everywhere.text.find("they agree."), std::string::npos);
}

}  // namespace
}  // namespace switchyard::backfill
