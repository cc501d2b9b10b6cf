/*
 * unifs/direct_cuda.h — the cuda sink of libunifs: libunifs_cuda, built only
 * when the CUDA toolkit was found (link with -lunifs_cuda -lunifs -lcudart).
 *
 * Bytes still land in the shared host buffer first (the daemon writes them
 * there); the buffer is pinned with cudaHostRegister so the copy to device
 * memory is one DMA by cudaMemcpyAsync on the caller's stream. This is not
 * zero-copy into GPU memory: no FUSE client can DMA there.
 */
#ifndef UNIFS_DIRECT_CUDA_H
#define UNIFS_DIRECT_CUDA_H

#include <unifs/direct.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Pin b for DMA (cudaHostRegister). 0 or -EIO (CUDA error, logged to stderr). */
int ufs_cuda_buf_register(ufs_buf_t b);
/* Unpin b; call before ufs_buf_free. */
void ufs_cuda_buf_unregister(ufs_buf_t b);
/* Read size bytes of h at file_off into b at buf_off, then queue the copy
 * of the bytes read to dev on stream (a cudaStream_t, NULL: the default
 * stream). Bytes read, or -errno; the copy is done once stream reaches it,
 * and b[buf_off..] must not be reused before. */
ssize_t ufs_cuda_read(ufs_handle_t h, ufs_buf_t b, void *dev, size_t size, int64_t file_off,
		      size_t buf_off, void *stream);

#ifdef __cplusplus
}
#endif
#endif
