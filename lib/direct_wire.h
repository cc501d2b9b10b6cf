/*
 * direct_wire.h — the wire format between libunifs (lib/) and the daemon's
 * direct-path server (fs/direct*.c). Private to those two; not installed.
 *
 * Setup runs over a SOCK_SEQPACKET Unix socket whose path the FUSE ioctl
 * UFS_IOC_DIRECT returns: one struct udw_msg per packet each way (request,
 * then exactly one reply), file descriptors as SCM_RIGHTS. I/O runs over
 * two rings in one sealed memfd (struct udw_ring, then `entries` SQEs, then
 * `entries` CQEs): the client produces SQEs and consumes CQEs, the daemon
 * the reverse. Indices are free-running uint32 counters masked with
 * entries - 1. The daemon treats everything in the ring as hostile input.
 *
 * A server that turns a connection away (too many sessions of its uid)
 * sends one struct udw_msg with status -EUSERS unasked, then closes: the
 * client reads it as the answer to its HELLO.
 *
 * Doorbells: the client writes the submit eventfd only when the daemon has
 * set `sleeping` (it checks the SQ once more after setting it); the daemon
 * writes the completion eventfd after posting CQEs.
 */
#ifndef UFS_DIRECT_WIRE_H
#define UFS_DIRECT_WIRE_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/ioctl.h>

#define UDW_SOCK_MAX 108
#define UDW_TOKEN_LEN 16
#define UDW_RING_MAX 4096	  /* entries per ring, a power of two */
#define UDW_BUF_MAX (16ull << 30) /* bytes of one buffer (memfd) */

/* Answer of the ioctl on a file of the mount: a token bound to the open
 * file (its inode and open mode) and the server's socket path. */
struct udw_grant {
	uint8_t token[UDW_TOKEN_LEN];
	uint64_t ino;
	uint32_t writable;
	uint32_t pad;
	char sock[UDW_SOCK_MAX];
};
#define UFS_IOC_DIRECT _IOR('U', 0xd1, struct udw_grant)

enum udw_op {
	UDW_HELLO = 1,	/* fds: ring memfd, submit eventfd, completion eventfd; a=entries */
	UDW_REGISTER,	/* token -> a = handle id, b = writable, c = size */
	UDW_DEREGISTER, /* a = handle id -> status: commit error of its writes */
	UDW_BUF_ADD,	/* fd: sealed memfd -> a = buffer id */
	UDW_BUF_DEL,	/* a = buffer id */
	UDW_PREFETCH,	/* payload: NUL-terminated absolute paths; a = bytes of payload */
	UDW_PREFETCH_CANCEL,
};

#define UDW_PAYLOAD_MAX 32768

struct udw_msg {
	uint32_t op;
	int32_t status; /* reply: 0 or -errno */
	uint64_t a, b, c;
	uint8_t token[UDW_TOKEN_LEN];
};

enum udw_io { UDW_IO_READ = 1, UDW_IO_WRITE = 2 };

struct udw_sqe {
	uint32_t op; /* enum udw_io */
	uint32_t handle;
	uint32_t buf;
	uint32_t pad;
	uint64_t file_off;
	uint64_t len;
	uint64_t buf_off;
	uint64_t user_data;
};

struct udw_cqe {
	int64_t res; /* bytes or -errno */
	uint64_t user_data;
};

struct udw_ring {
	_Atomic uint32_t sq_head, sq_tail; /* daemon advances head, client tail */
	_Atomic uint32_t cq_head, cq_tail; /* client advances head, daemon tail */
	_Atomic uint32_t sleeping;	   /* daemon waits on the submit eventfd */
	uint32_t entries;
	uint64_t pad[5];
};

/* Bytes of the ring memfd for n entries. */
static inline uint64_t udw_ring_bytes(uint32_t n)
{
	return sizeof(struct udw_ring) +
	       (uint64_t)n * (sizeof(struct udw_sqe) + sizeof(struct udw_cqe));
}

static inline struct udw_sqe *udw_sq(struct udw_ring *r)
{
	return (struct udw_sqe *)(r + 1);
}

static inline struct udw_cqe *udw_cq(struct udw_ring *r, uint32_t n)
{
	return (struct udw_cqe *)(udw_sq(r) + n);
}

#endif
