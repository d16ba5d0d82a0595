// What the host code of this build may use, read off the compiler's macros for its -march: data
// only, so that the startup check (host_cpu_check.cpp) can read it before any such code runs.
#include "x86_features.hpp"

namespace ifsim::detail {
namespace {

// "1" for a macro defined as 1, the macro's own name for one not defined.
#define IFSIM_STRINGIFY(x) #x
#define IFSIM_EXPANDED(x) IFSIM_STRINGIFY(x)
constexpr bool is_one(const char* s) { return s[0] == '1' && s[1] == '\0'; }

}  // namespace

#define IFSIM_NAME(macro, name) name,
#define IFSIM_REQUIRED(macro, name) is_one(IFSIM_EXPANDED(macro)),
extern const char* const x86_feature_names[num_x86_features] = {IFSIM_X86_FEATURES(IFSIM_NAME)};
extern const bool required_x86_features[num_x86_features] = {IFSIM_X86_FEATURES(IFSIM_REQUIRED)};
#undef IFSIM_NAME
#undef IFSIM_REQUIRED

}  // namespace ifsim::detail
