int ifsim_cuda_placeholder() { return 0; }
