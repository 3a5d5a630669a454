#pragma once

#include <string>
#include <string_view>

namespace switchyard::config {

/// Appends `text` to `out` as a JSON string literal, quotes included: `"`, `\` and control
/// characters escaped, every other byte as it is (texts are UTF-8). The one escaper of the
/// admin pages, the effective config and the JSON log lines.
void append_json_string(std::string& out, std::string_view text);

/// `text` as a JSON string literal (see append_json_string).
std::string json_string(std::string_view text);

}  // namespace switchyard::config
