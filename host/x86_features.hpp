// The x86 instruction-set extensions ifsim's startup check knows (host_cpu_check.cpp), each as the
// compiler's macro for code built to use it and the name __builtin_cpu_supports tests it by.
#pragma once

#define IFSIM_X86_FEATURES(X)                                                                            \
    X(__SSE4_2__, "sse4.2") X(__POPCNT__, "popcnt") X(__AVX__, "avx") X(__AVX2__, "avx2") X(__FMA__, "fma") \
    X(__BMI__, "bmi") X(__BMI2__, "bmi2") X(__F16C__, "f16c") X(__LZCNT__, "lzcnt") X(__MOVBE__, "movbe")   \
    X(__AVX512F__, "avx512f") X(__AVX512BW__, "avx512bw") X(__AVX512CD__, "avx512cd")                      \
    X(__AVX512DQ__, "avx512dq") X(__AVX512VL__, "avx512vl") X(__AVX512VBMI__, "avx512vbmi")                \
    X(__AVX512VBMI2__, "avx512vbmi2") X(__AVX512IFMA__, "avx512ifma") X(__AVX512VNNI__, "avx512vnni")      \
    X(__AVX512BITALG__, "avx512bitalg") X(__AVX512VPOPCNTDQ__, "avx512vpopcntdq")                          \
    X(__AVX512BF16__, "avx512bf16") X(__AVX512VP2INTERSECT__, "avx512vp2intersect")                        \
    X(__AVX512FP16__, "avx512fp16") X(__AVXVNNI__, "avxvnni") X(__GFNI__, "gfni") X(__VAES__, "vaes")      \
    X(__VPCLMULQDQ__, "vpclmulqdq") X(__SHA__, "sha")

namespace ifsim::detail {

#define IFSIM_ONE(macro, name) +1
inline constexpr unsigned num_x86_features = 0 IFSIM_X86_FEATURES(IFSIM_ONE);
#undef IFSIM_ONE

// Per feature of IFSIM_X86_FEATURES, in order: its name, and whether the build's host code may use
// it (from the macros of its -march; host_isa_features.cpp, compiled like the rest of the host code).
extern const char* const x86_feature_names[num_x86_features];
extern const bool required_x86_features[num_x86_features];

}  // namespace ifsim::detail
