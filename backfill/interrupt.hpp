#pragma once

// Ctrl-C, SIGTERM and SIGHUP (unless ignored, as under nohup) for the operator commands: they
// stop the walk at the next batch boundary (progress is committed with each batch), instead of
// killing the process mid-way.

#include <chrono>

namespace switchyard::backfill {

/// Installs SIGINT/SIGTERM/SIGHUP handlers that only set a flag.
void catch_interrupts();

/// True once one of them arrived.
bool interrupted();

/// Waits `duration` (throttling, not synchronisation); returns false early if interrupted.
bool pause_for(std::chrono::milliseconds duration);

}  // namespace switchyard::backfill
