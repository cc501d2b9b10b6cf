/* test_sdnotify.c — the sd_notify protocol as a Type=notify unit sees it:
 * a datagram socket named by $NOTIFY_SOCKET receives READY=1 / STOPPING=1
 * with a STATUS line (systemd is not PID 1 here, so the test is systemd). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/sdnotify.h"

/* Bind a datagram socket at a fresh path and point $NOTIFY_SOCKET at it. */
static int notify_socket(char *path, size_t size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 2};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(path, size, "/tmp/ufs-sdnotify-%d.sock", (int)getpid());
	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setenv("NOTIFY_SOCKET", path, 1);
	return fd;
}

static void recv_msg(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size - 1, 0);

	assert_true(n > 0);
	buf[n] = '\0';
}

static void test_ready_and_stopping(void **state)
{
	char path[108], msg[512];
	int fd = notify_socket(path, sizeof(path));

	(void)state;
	assert_true(ufs_sd_ready("/mnt/train") > 0);
	recv_msg(fd, msg, sizeof(msg));
	assert_string_equal(msg, "READY=1\nSTATUS=serving /mnt/train");
	assert_true(ufs_sd_stopping("/mnt/train") > 0);
	recv_msg(fd, msg, sizeof(msg));
	assert_string_equal(msg, "STOPPING=1\nSTATUS=unmounting /mnt/train");
	assert_non_null(getenv("NOTIFY_SOCKET")); /* kept for the later messages */
	close(fd);
	unlink(path);
	unsetenv("NOTIFY_SOCKET");
}

static void test_not_under_systemd(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(ufs_sd_ready("/mnt/x"), 0);
}

static void test_socket_gone(void **state)
{
	(void)state;
	setenv("NOTIFY_SOCKET", "/tmp/ufs-sdnotify-nobody-listens.sock", 1);
	unlink("/tmp/ufs-sdnotify-nobody-listens.sock");
	assert_true(ufs_sd_ready("/mnt/x") < 0);
	unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ready_and_stopping),
	    cmocka_unit_test(test_not_under_systemd),
	    cmocka_unit_test(test_socket_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
