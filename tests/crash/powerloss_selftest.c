/*
 * powerloss_selftest.c: the power-loss simulation itself must work, or the
 * crash loop's "nothing lost" would prove nothing. Registered with ctest.
 *
 *   powerloss_selftest SHIM.so REVERT_TOOL
 *
 * The parent re-executes this program as a child with the shim preloaded;
 * the child writes a file in a known pattern -- synced writes, then
 * unsynced overwrites, an append and a truncation -- and dies by SIGKILL
 * without closing. The parent runs the revert tool and checks the file is
 * exactly its content at the last fsync, and that a file never synced is
 * rolled back to empty. A second file outside the watched directory keeps
 * every write.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "powerloss.h"

static int fail(const char *what)
{
    fprintf(stderr, "powerloss_selftest: FAILED: %s\n", what);
    return 1;
}

static void must(int ok)
{
    if (!ok)
        _exit(3);
}

/* The child: runs under the shim; ends with SIGKILL. */
static void child(const char *dir, const char *outside)
{
    char synced[4096], never[4096];
    snprintf(synced, sizeof synced, "%s/synced", dir);
    snprintf(never, sizeof never, "%s/never", dir);
    int fd = open(synced, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int nfd = open(never, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int ofd = open(outside, O_RDWR | O_CREAT | O_TRUNC, 0600);
    must(fd >= 0 && nfd >= 0 && ofd >= 0);
    must(write(fd, "0123456789", 10) == 10);
    must(pwrite(fd, "ab", 2, 4) == 2);
    must(fdatasync(fd) == 0); /* durable: "0123ab6789" */
    must(pwrite(fd, "XYZ", 3, 0) == 3);
    must(pwrite(fd, "tail", 4, 10) == 4);
    must(ftruncate(fd, 6) == 0);
    must(pwrite(fd, "QQ", 2, 20) == 2);
    must(write(nfd, "lost", 4) == 4);
    must(write(ofd, "kept", 4) == 4);
    raise(SIGKILL);
}

static int read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap);
    close(fd);
    return (int)n;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--child")) {
        child(argv[2], argv[3]);
        return 3;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: powerloss_selftest SHIM.so REVERT_TOOL\n");
        return 2;
    }
    char dir[] = "/tmp/whaco-powerloss-XXXXXX";
    if (!mkdtemp(dir))
        return fail("mkdtemp");
    char watched[64], log[64], outside[64], synced[96], never[96];
    snprintf(watched, sizeof watched, "%s/data", dir);
    snprintf(log, sizeof log, "%s/undo.log", dir);
    snprintf(outside, sizeof outside, "%s/outside", dir);
    snprintf(synced, sizeof synced, "%s/synced", watched);
    snprintf(never, sizeof never, "%s/never", watched);
    if (mkdir(watched, 0700) != 0)
        return fail("mkdir");

    pid_t pid = fork();
    if (pid == 0) {
        setenv("LD_PRELOAD", argv[1], 1);
        setenv(POWERLOSS_ENV_DIR, watched, 1);
        setenv(POWERLOSS_ENV_LOG, log, 1);
        execl("/proc/self/exe", argv[0], "--child", watched, outside, (char *)NULL);
        _exit(4);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return fail("fork or wait");
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        return fail("the child did not reach its SIGKILL");

    char buf[64];
    int n = read_file(synced, buf, sizeof buf);
    if (n != 22)
        return fail("before the revert the file holds every write (22 bytes)");

    pid = fork();
    if (pid == 0) {
        execl(argv[2], argv[2], log, (char *)NULL);
        _exit(4);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return fail("the revert tool failed");

    n = read_file(synced, buf, sizeof buf);
    if (n != 10 || memcmp(buf, "0123ab6789", 10) != 0)
        return fail("the synced file is not exactly its content at the fsync");
    n = read_file(never, buf, sizeof buf);
    if (n != 0)
        return fail("a file never synced is not empty again");
    n = read_file(outside, buf, sizeof buf);
    if (n != 4 || memcmp(buf, "kept", 4) != 0)
        return fail("a file outside the watched directory was touched");

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return fail("cleanup");
    puts("powerloss_selftest: ok");
    return 0;
}
