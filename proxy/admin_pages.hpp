#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "proxy/proxy_state.hpp"
#include "proxy/reloader.hpp"

namespace switchyard::proxy {

/// The body of the admin `/config` page: a JSON object with the running `generation`,
/// `draining`, `flags` (per migration name: writes, reads, on_unsupported), `last_reload`
/// (result, trigger, time, generation, errors, changes, last_success, retry_at), `catalog_check`
/// (result: off, none, ok or failed; time, error, last_change), `sessions_on_old_generation`
/// (sessions in a transaction begun under an older generation) and `oldest_session_generation`
/// (null when there is none), and the effective `config` with its secrets redacted
/// (config::to_redacted_json).
std::string config_page(const Snapshot& snapshot, const ReloadStatus& last_reload, bool draining,
                        const CatalogCheckStatus& catalog_check,
                        const GenerationCensus::Older& older);

/// RFC 3339 in UTC with milliseconds ("2024-05-01T12:00:00.250Z"); "" for the epoch.
std::string format_utc(std::chrono::system_clock::time_point time);

}  // namespace switchyard::proxy
