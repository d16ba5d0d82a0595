// IFSIM_HD marks functions that both the host compiler and nvcc build: the one arithmetic that the
// CPU and CUDA backends share (DESIGN.md principle 1).
#pragma once

#if defined(__CUDACC__)
#define IFSIM_HD __host__ __device__ __forceinline__
#else
#define IFSIM_HD inline
#endif
