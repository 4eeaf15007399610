/*
 * lite.c - what makes the light `imr` command light. Built only into `imr` (IMR_CLI_LITE):
 * `imr` links neither the service's libraries (libpq, libmicrohttpd, sqlite, argon2) nor the
 * PDF stack (poppler, cairo, pango), so that starting it costs little. The complete command,
 * `imr-serve`, sits in the same folder: `imr` execs it for `serve` and for PDF output, and
 * runs it as a helper (`imr-serve pdf-text NAME`, the PDF on standard input) to read a PDF.
 * The functions below stand in for the ones `imr` does not link.
 */
#include "cli.h"

#ifdef IMR_CLI_LITE

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The path of imr-serve beside this executable, in `path`; 0 when it cannot be known. */
static int full_path(char *path, size_t size)
{
    static const char name[] = "imr-serve";
    ssize_t n = readlink("/proc/self/exe", path, size - 1);
    if (n <= 0 || (size_t)n >= size - 1)
        return 0;
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    if (dir + sizeof name > size)
        return 0;
    memcpy(path + dir, name, sizeof name);
    return 1;
}

int cli_exec_full(char **argv)
{
    char path[4096];
    if (!full_path(path, sizeof path)) {
        fprintf(stderr, "imr: cannot find the imr-serve executable beside imr\n");
        return IMR_EX_SOFTWARE;
    }
    fflush(NULL);
    char *saved = argv[0];
    argv[0] = path;
    execv(path, argv);
    argv[0] = saved;
    fprintf(stderr, "imr: %s: %s (it runs the service and PDF work)\n", path, strerror(errno));
    return IMR_EX_SOFTWARE;
}

/* Write all of `data` to `fd`; 0 on success. */
static int write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read `fd` to its end, appending to `out`; 0 on success. */
static int read_all(int fd, imr_buf *out)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        imr_buf_append(out, chunk, (size_t)n);
    }
}

/* The PDF's text from the helper `imr-serve pdf-text NAME`. The helper reads the whole PDF
 * before it writes anything, so writing all of it, then reading, cannot deadlock. It prints
 * the text, or on failure the error's line and message (two lines), and exits with the
 * error's status. */
int imr_pdf_text(const char *data, size_t len, const char *where, imr_buf *out, imr_error *err)
{
    char path[4096];
    if (!full_path(path, sizeof path))
        return imr_error_set(err, IMR_EX_SOFTWARE, where, 0,
                             "cannot find imr-serve beside imr (it reads PDF files)");
    int to[2], from[2];
    if (pipe(to))
        return imr_error_set(err, IMR_EX_SOFTWARE, where, 0, "pipe: %s", strerror(errno));
    if (pipe(from)) {
        close(to[0]);
        close(to[1]);
        return imr_error_set(err, IMR_EX_SOFTWARE, where, 0, "pipe: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(to[0], STDIN_FILENO);
        dup2(from[1], STDOUT_FILENO);
        close(to[0]);
        close(to[1]);
        close(from[0]);
        close(from[1]);
        char *args[] = {path, (char *)"pdf-text", (char *)(where ? where : "<stdin>"), NULL};
        execv(path, args);
        fprintf(stderr, "imr: %s: %s\n", path, strerror(errno));
        _exit(IMR_EX_SOFTWARE);
    }
    close(to[0]);
    close(from[1]);
    if (pid < 0) {
        close(to[1]);
        close(from[0]);
        return imr_error_set(err, IMR_EX_SOFTWARE, where, 0, "fork: %s", strerror(errno));
    }
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    int wrote = write_all(to[1], data, len);
    close(to[1]);
    signal(SIGPIPE, old);
    imr_buf reply = IMR_BUF_INIT;
    int got = read_all(from[0], &reply);
    close(from[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : IMR_EX_SOFTWARE;
    int st = IMR_OK;
    if (code == 0 && wrote == 0 && got == 0) {
        imr_buf_append(out, reply.data ? reply.data : "", reply.len);
    } else if (code != 0 && reply.len) {
        char *msg = memchr(reply.data, '\n', reply.len);
        st = imr_error_set(err, code, where, atoi(reply.data), "%.*s",
                           msg ? (int)(reply.len - (size_t)(msg + 1 - reply.data)) : 0,
                           msg ? msg + 1 : "");
    } else {
        st = imr_error_set(err, IMR_EX_SOFTWARE, where, 0, "the PDF reader (imr-serve) failed");
    }
    imr_buf_free(&reply);
    return st;
}

/* Never reached: main() hands PDF output to imr-serve before a command starts. */
int imr_render_pdf(const imr_record *r, imr_buf *out, imr_error *err)
{
    (void)r;
    (void)out;
    return imr_error_set(err, IMR_EX_SOFTWARE, NULL, 0, "PDF output is written by imr-serve");
}

/* Never reached: main() hands `serve` to imr-serve. */
int imr_serve(const imr_serve_options *opt, imr_error *err)
{
    (void)opt;
    return imr_error_set(err, IMR_EX_SOFTWARE, NULL, 0, "the service runs in imr-serve");
}

void imr_serve_routes(FILE *fp)
{
    (void)fp;
}

#else
/* The complete command (imr-serve) links the real functions. */
typedef int imr_cli_lite_unused;
#endif
