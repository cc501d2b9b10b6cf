/*
 * cuda_sink.c — libunifs's cuda sink (see unifs/direct_cuda.h). Compiled
 * only when CMake finds the CUDA toolkit, as libunifs_cuda (over libunifs's
 * public API and the CUDA runtime API alone).
 */
#include "unifs/direct_cuda.h"

#include <cuda_runtime_api.h>
#include <errno.h>
#include <stdio.h>

static int cuda_check(cudaError_t e, const char *what)
{
	if (e == cudaSuccess)
		return 0;
	fprintf(stderr, "libunifs: %s: %s\n", what, cudaGetErrorString(e));
	return -EIO;
}

int ufs_cuda_buf_register(ufs_buf_t b)
{
	if (!b)
		return -EINVAL;
	return cuda_check(
	    cudaHostRegister(ufs_buf_ptr(b), ufs_buf_size(b), cudaHostRegisterDefault),
	    "cudaHostRegister");
}

void ufs_cuda_buf_unregister(ufs_buf_t b)
{
	if (b)
		cuda_check(cudaHostUnregister(ufs_buf_ptr(b)), "cudaHostUnregister");
}

ssize_t ufs_cuda_read(ufs_handle_t h, ufs_buf_t b, void *dev, size_t size, int64_t file_off,
		      size_t buf_off, void *stream)
{
	ssize_t n = ufs_read(h, b, size, file_off, buf_off);
	int rc;

	if (n <= 0)
		return n;
	rc = cuda_check(cudaMemcpyAsync(dev, (char *)ufs_buf_ptr(b) + buf_off, (size_t)n,
					cudaMemcpyHostToDevice, (cudaStream_t)stream),
			"cudaMemcpyAsync");
	return rc < 0 ? rc : n;
}
