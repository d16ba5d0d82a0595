// Before anything else runs: does this CPU have the instruction-set extensions the host code was
// built for? A build for x86-64-v4 (AVX-512, the default where the build machine has it) started
// on a CPU without them would otherwise die of an illegal instruction somewhere; this says which
// extensions are missing and how to rebuild. Compiled for the baseline x86-64, whatever the rest
// of the host code's -march, and run as a constructor ahead of every other static initialiser.
#include <cstdio>
#include <cstdlib>

#include "ifsim/build_info.hpp"
#include "x86_features.hpp"

// Referenced by the link (host/CMakeLists.txt), so that a static ifsim_core keeps it.
extern "C" [[gnu::constructor(101)]] void ifsim_check_host_cpu() {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();  // needed before __builtin_cpu_supports in a constructor
    using namespace ifsim::detail;
#define IFSIM_PRESENT(macro, name) __builtin_cpu_supports(name) != 0,
    const bool present[num_x86_features] = {IFSIM_X86_FEATURES(IFSIM_PRESENT)};
#undef IFSIM_PRESENT
    bool missing[num_x86_features], any_missing = false;
    for (unsigned k = 0; k < num_x86_features; ++k) {
        missing[k] = required_x86_features[k] && !present[k];
        any_missing = any_missing || missing[k];
    }
    if (!any_missing) return;
    std::fprintf(stderr, "ifsim: this build's host code (%s) uses", ifsim::build::host_isa);
    for (unsigned k = 0; k < num_x86_features; ++k)
        if (missing[k]) std::fprintf(stderr, " %s", x86_feature_names[k]);
    std::fprintf(stderr,
                 ", which this CPU lacks. Build ifsim on a machine like this one, or configure it with "
                 "-DIFSIM_CPU_ARCH=x86-64-v3 (or another -march this CPU runs; README, Building by hand).\n");
    std::_Exit(1);
#endif
}
