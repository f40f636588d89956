// Per-thread last-error message behind vlmrl_last_error().
#include <cstdarg>
#include <cstdio>

#include "internal.h"

namespace {
// Each calling thread (a Java thread, a test) sees only its own kernels' errors.
thread_local char last_error_message[1024] = "";
}  // namespace

extern "C" int vlmrl_set_error(int code, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(last_error_message, sizeof(last_error_message), fmt, args);
    va_end(args);
    return code;
}

extern "C" void vlmrl_clear_error(void) { last_error_message[0] = '\0'; }

extern "C" const char* vlmrl_last_error(void) { return last_error_message; }
