// Checking CUDA runtime calls: every call goes through IFSIM_CUDA_CHECK, which turns a failure into
// ifsim::cuda_error carrying the error's name, its text, what was being done, file and line
// (DESIGN.md principle 8). Nothing here exits.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "ifsim/errors.hpp"

namespace ifsim::cuda {

inline void check(cudaError_t e, const std::string& what, const char* file, int line) {
    if (e == cudaSuccess) return;
    cudaGetLastError();  // clear a non-sticky error so that the next call starts clean
    throw cuda_error(cudaGetErrorName(e), std::string(cudaGetErrorString(e)) + " while " + what, file, line);
}

}  // namespace ifsim::cuda

// `what` says what was being done, e.g. "allocating V".
#define IFSIM_CUDA_CHECK(call, what) ::ifsim::cuda::check((call), (what), __FILE__, __LINE__)
