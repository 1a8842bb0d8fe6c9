// memcpy from or to memory another process may take away: a shared-memory object mapped here
// that its owner shrinks turns every access past its new end into SIGBUS, which would kill the
// server. A guarded copy catches that signal on its own thread and reports the copy failed.
#pragma once

#include <cstddef>

namespace tensord::server {

// Copies `bytes` from `from` to `to` (which must not overlap); false, with `to` partly written,
// when a page of either is gone (SIGBUS). The first call installs a SIGBUS handler for the
// process; a SIGBUS anywhere but in a guarded copy goes to the handler that was there before
// (the default one ends the process, as it would have).
bool GuardedCopy(void* to, const void* from, size_t bytes);

}  // namespace tensord::server
