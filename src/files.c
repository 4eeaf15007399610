/*
 * files.c - reading whole inputs and writing outputs atomically, plus small text checks
 * (UTF-8 validity, line numbers) shared by every parser.
 */
#define _POSIX_C_SOURCE 200809L
#include "imr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int imr_read_file(const char *path, size_t max_bytes, imr_buf *out, imr_error *err)
{
    int is_stdin = !path || strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY);
    if (fd < 0)
        return imr_error_set(err, errno == ENOENT || errno == EACCES ? IMR_EX_NOINPUT : IMR_EX_IOERR,
                             name, 0, "cannot open: %s", strerror(errno));
    struct stat st = {0};
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return imr_error_set(err, IMR_EX_NOINPUT, name, 0, "is a directory, expected a file");
    }
    if (!is_stdin && max_bytes && S_ISREG(st.st_mode) && (size_t)st.st_size > max_bytes) {
        close(fd);
        return imr_error_set(err, IMR_EX_DATAERR, name, 0,
                             "file is %lld bytes, more than the %zu bytes allowed for this input",
                             (long long)st.st_size, max_bytes);
    }
    imr_buf_reset(out);
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            if (!is_stdin)
                close(fd);
            return imr_error_set(err, IMR_EX_IOERR, name, 0, "read error: %s", strerror(e));
        }
        if (n == 0)
            break;
        if (max_bytes && out->len + (size_t)n > max_bytes) {
            if (!is_stdin)
                close(fd);
            return imr_error_set(err, IMR_EX_DATAERR, name, 0,
                                 "input is larger than the %zu bytes allowed", max_bytes);
        }
        imr_buf_append(out, chunk, (size_t)n);
        /* a short read of a regular file that brought it to the size fstat gave is its end:
         * no second read() to hear that (one system call per letter in a corpus) */
        if (!is_stdin && S_ISREG(st.st_mode) && (size_t)n < sizeof chunk && out->len == (size_t)st.st_size)
            break;
    }
    if (!is_stdin)
        close(fd);
    if (!out->data)
        imr_buf_append(out, "", 0);
    return IMR_OK;
}

int imr_write_file_atomic(const char *path, const char *data, size_t len, imr_error *err)
{
    if (!path || strcmp(path, "-") == 0) {
        if (len && fwrite(data, 1, len, stdout) != len)
            return imr_error_set(err, IMR_EX_IOERR, "<stdout>", 0, "write error: %s", strerror(errno));
        if (fflush(stdout) != 0)
            return imr_error_set(err, IMR_EX_IOERR, "<stdout>", 0, "write error: %s", strerror(errno));
        return IMR_OK;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return imr_error_set(err, IMR_EX_SOFTWARE, path, 0, "out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return imr_error_set(err, IMR_EX_IOERR, path, 0, "cannot create: %s", strerror(e));
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            return imr_error_set(err, IMR_EX_IOERR, path, 0, "write error: %s", strerror(e));
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return imr_error_set(err, IMR_EX_IOERR, path, 0, "write error: %s", strerror(e));
    }
    chmod(tmp, 0644); /* mkstemp makes 0600; outputs are ordinary files */
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return imr_error_set(err, IMR_EX_IOERR, path, 0, "cannot rename into place: %s", strerror(e));
    }
    free(tmp);
    return IMR_OK;
}

int imr_utf8_valid(const char *s, size_t len, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t need;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1;
            min = 0x80;
            c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2;
            min = 0x800;
            c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3;
            min = 0x10000;
            c &= 0x07;
        } else
            goto bad;
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= len || (p[i + k] & 0xC0) != 0x80)
                goto bad;
            c = (c << 6) | (p[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            goto bad;
        i += need + 1;
    }
    return 1;
bad:
    if (bad_offset)
        *bad_offset = i;
    return 0;
}

int imr_line_of(const char *s, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off && s[i]; i++)
        if (s[i] == '\n')
            line++;
    return line;
}

/* "%PDF-" after an optional UTF-8 byte-order mark and at most 64 bytes of white space. Here
 * rather than in letter_pdf.c so that the light `imr` binary, which has no poppler, can
 * tell a PDF from a text letter. */
int imr_is_pdf(const char *data, size_t len)
{
    size_t i = 0;
    if (!data)
        return 0;
    if (len >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
        (unsigned char)data[2] == 0xBF)
        i = 3;
    while (i < len && i < 64 && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    return len - i >= 5 && memcmp(data + i, "%PDF-", 5) == 0;
}
