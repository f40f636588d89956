// vlmrl_set_blas_threads: OpenBLAS's thread count in this process (see vlmrl/threads.h).
#include "vlmrl/threads.h"

#include <cstring>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <link.h>

#include "internal.h"

namespace {

int collectOpenBlas(dl_phdr_info* info, size_t, void* out) {
    const char* name = info->dlpi_name;
    if (name != nullptr && std::strstr(name, "openblas") != nullptr) {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    }
    return 0;
}

// Calls `use` with `symbol` of each OpenBLAS loaded in this process (RTLD_NOLOAD: a handle to
// the copy already loaded, never a second one) until it returns false; returns the calls made.
template <typename Use>
int forEachOpenBlas(const char* symbol, Use use) {
    std::vector<std::string> libraries;
    dl_iterate_phdr(collectOpenBlas, &libraries);
    int calls = 0;
    for (const std::string& path : libraries) {
        void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
        if (handle == nullptr) continue;
        void* fn = dlsym(handle, symbol);
        bool more = true;
        if (fn != nullptr) {
            more = use(fn);
            ++calls;
        }
        dlclose(handle);
        if (!more) break;
    }
    return calls;
}

}  // namespace

extern "C" int vlmrl_set_blas_threads(int threads) {
    vlmrl_clear_error();
    if (threads < 1) {
        vlmrl_set_error(VLMRL_ERR_BAD_CONFIG, "threads: expected at least 1, got %d", threads);
        return -1;
    }
    return forEachOpenBlas("openblas_set_num_threads", [threads](void* fn) {
        reinterpret_cast<void (*)(int)>(fn)(threads);
        return true;
    });
}

extern "C" int vlmrl_blas_threads(void) {
    int threads = 0;
    forEachOpenBlas("openblas_get_num_threads", [&threads](void* fn) {
        threads = reinterpret_cast<int (*)()>(fn)();
        return false;
    });
    return threads;
}
