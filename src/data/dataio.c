/*
 * dataio — what every reader of the data layer shares: opening and reading
 * gzip or plain files through zlib's gzFile, whole-file reads, existence
 * checks, and allocating, describing and freeing a CbData. Readers
 * (data_idx.c, data_csv.c, data_gauss.c) and the dispatcher (data.c) sit on
 * top of this file; it calls none of them.
 */
#include "cbound/data.h"
#include "dataio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- files */

int cb_data_file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

CbStatus cb_data_gz_open(const char *path, gzFile *out)
{
    *out = NULL;
    /* gzopen() opens a directory without complaint (reads then fail): check first. */
    struct stat sb;
    gzFile f = NULL;
    int is_dir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (!is_dir) f = gzopen(path, "rb");
    if (!f) {
        CbStatus st = CB_ERR(CB_EIO, "%s: cannot open: %s", path,
                             is_dir ? "expected a file, found a directory" : strerror(errno));
        cb_err_hint("check the path");
        return st;
    }
    gzbuffer(f, 1 << 18);
    *out = f;
    return CB_OK;
}

CbStatus cb_data_gz_read(gzFile f, const char *path, void *buf, size_t n, size_t *got)
{
    /* gzread takes an unsigned length and returns int: read in pieces below 2^30. */
    unsigned char *p = buf;
    *got = 0;
    while (*got < n) {
        size_t want = n - *got < (1u << 30) ? n - *got : (1u << 30);
        int r = gzread(f, p + *got, (unsigned)want);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            size_t plen = strlen(path); /* zlib prefixes its message with "path: " */
            if (!strncmp(msg, path, plen) && !strncmp(msg + plen, ": ", 2)) msg += plen + 2;
            CbStatus st = CB_ERR(CB_EFORMAT, "%s: corrupt gzip data: %s", path, msg);
            cb_err_hint("the file is damaged: fetch or install it again");
            return st;
        }
        if (r == 0) break;
        *got += (size_t)r;
    }
    return CB_OK;
}

CbStatus cb_data_gz_slurp(const char *path, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    gzFile f;
    CB_TRY(cb_data_gz_open(path, &f));
    size_t cap = 1 << 16, n = 0, got;
    char *buf = cb_malloc(cap + 1);
    for (;;) {
        CbStatus st = cb_data_gz_read(f, path, buf + n, cap - n, &got);
        if (st != CB_OK) {
            free(buf);
            gzclose(f);
            return st;
        }
        n += got;
        if (n < cap) break;
        cap *= 2;
        buf = cb_realloc(buf, cap + 1);
    }
    gzclose(f);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return CB_OK;
}

/* ---------------------------------------------------------------- CbData */

void cb_data_set_source(CbData *d, const char *a, const char *b)
{
    int w = snprintf(d->source, sizeof d->source, "%s%s%s", a, b ? " + " : "", b ? b : "");
    if (w >= (int)sizeof d->source) /* a description only: mark the cut */
        memcpy(d->source + sizeof d->source - 4, "...", 4);
}

CbStatus cb_data_alloc(CbData *out, size_t n, size_t d, size_t n_classes, size_t n_targets)
{
    memset(out, 0, sizeof *out);
    if (d == 0) return CB_ERR(CB_EINVAL, "data: expected at least one feature, found d = 0");
    if (n > SIZE_MAX / sizeof(float) / d || (n_targets && n > SIZE_MAX / sizeof(float) / n_targets))
        return CB_ERR(CB_EINVAL, "data: %zu x %zu values do not fit in memory", n, d);
    /* Plain malloc, not cb_malloc: a corrupt header claiming 2^32 images must fail
     * this load (a "failed" task), not kill the worker. */
    out->x = malloc(n * d * sizeof(float) + 1);
    out->y = n_classes ? malloc(n * sizeof(int32_t) + 1) : NULL;
    out->t = n_targets ? malloc(n * n_targets * sizeof(float) + 1) : NULL;
    if (!out->x || (n_classes && !out->y) || (n_targets && !out->t)) {
        cb_data_free(out);
        CbStatus st = CB_ERR(CB_ENOMEM, "data: cannot allocate %zu x %zu features (%.3g GB)", n, d,
                             (double)n * (double)d * sizeof(float) / 1e9);
        cb_err_hint("use a subset (data.n_train / data.n_test); if the size is absurd the file header is corrupt");
        return st;
    }
    out->n = n;
    out->d = d;
    out->n_classes = n_classes;
    out->n_targets = n_targets;
    return CB_OK;
}

void cb_data_free(CbData *d)
{
    if (!d) return;
    free(d->x);
    free(d->y);
    free(d->t);
    memset(d, 0, sizeof *d);
}
