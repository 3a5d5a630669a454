#include "config/identifier.hpp"

namespace switchyard::config {
namespace {

// Postgres' scanner: ident_start [A-Za-z\200-\377_], ident_cont adds [0-9$]. Capitals are
// left out on purpose (see the header).
bool is_plain_start(unsigned char c) { return (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80; }

bool is_plain_continue(unsigned char c) {
  return is_plain_start(c) || (c >= '0' && c <= '9') || c == '$';
}

bool has_upper(std::string_view text) {
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') {
      return true;
    }
  }
  return false;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

Parsed<std::string> fail(std::string why) {
  return Parsed<std::string>{std::nullopt, std::move(why)};
}

Parsed<std::string> too_long(std::string_view written, std::size_t bytes) {
  return fail("\"" + std::string(written) + "\" is " + std::to_string(bytes) +
              " bytes long; Postgres identifiers are at most " +
              std::to_string(kMaxIdentifierBytes) + " bytes");
}

}  // namespace

Parsed<std::string> parse_identifier(std::string_view written) {
  if (written.empty()) {
    return fail("an identifier cannot be empty");
  }
  if (written.front() == '"') {
    if (written.size() < 2 || written.back() != '"') {
      return fail("\"" + std::string(written) +
                  "\" opens a quoted identifier but does not close it");
    }
    std::string name;
    const std::string_view inner = written.substr(1, written.size() - 2);
    for (std::size_t i = 0; i < inner.size(); ++i) {
      if (inner[i] == '"') {
        if (i + 1 < inner.size() && inner[i + 1] == '"') {
          ++i;
        } else {
          return fail("\"" + std::string(written) +
                      "\": a double quote inside a quoted identifier must be doubled (\"\")");
        }
      }
      if (inner[i] == '\0') {
        return fail("an identifier cannot contain a NUL byte");
      }
      name += inner[i];
    }
    if (name.empty()) {
      return fail("a quoted identifier cannot be empty (\"\")");
    }
    if (name.size() > kMaxIdentifierBytes) {
      return too_long(written, name.size());
    }
    return Parsed<std::string>{std::move(name), {}};
  }
  if (has_upper(written)) {
    const std::string folded = lower(written);
    return fail("\"" + std::string(written) +
                "\" has capitals: Postgres folds unquoted names to lowercase, so write " + folded +
                " or, if the name really has capitals, quote it: \"\\\"" + std::string(written) +
                "\\\"\"");
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(written.data());
  bool valid = is_plain_start(bytes[0]);
  for (std::size_t i = 1; valid && i < written.size(); ++i) {
    valid = is_plain_continue(bytes[i]);
  }
  if (!valid) {
    return fail("\"" + std::string(written) +
                "\" is not a plain identifier (lowercase letters, digits, _ and $, not starting "
                "with a digit or $); quote it if the name has other characters");
  }
  if (written.size() > kMaxIdentifierBytes) {
    return too_long(written, written.size());
  }
  return Parsed<std::string>{std::string(written), {}};
}

Parsed<std::vector<std::string>> split_qualified_name(std::string_view written) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i <= written.size(); ++i) {
    if (i < written.size() && written[i] == '"') {
      quoted = !quoted;  // A doubled quote toggles twice, which is what we want.
      continue;
    }
    if (i == written.size() || (!quoted && written[i] == '.')) {
      const std::string_view part = written.substr(start, i - start);
      auto checked = parse_identifier(part);
      if (!checked) {
        return {std::nullopt, part.empty()
                                  ? "\"" + std::string(written) + "\" has an empty name part"
                                  : checked.error};
      }
      parts.emplace_back(part);
      start = i + 1;
    }
  }
  return {std::move(parts), {}};
}

std::string identifier_name(std::string_view written) {
  auto parsed = parse_identifier(written);
  return parsed ? std::move(*parsed.value) : std::string(written);
}

}  // namespace switchyard::config
