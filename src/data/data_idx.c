/*
 * data_idx — binary image formats: IDX (MNIST, Fashion-MNIST) and CIFAR-10 batches.
 *
 * IDX (LeCun et al., http://yann.lecun.com/exdb/mnist/): a 4-byte big-endian
 * magic 0x00000803 (unsigned bytes, 3 dimensions) for images / 0x00000801 for
 * labels, then one big-endian uint32 per dimension (n, rows, cols / n), then the
 * bytes, row-major. Read through zlib, so .gz and plain files both work.
 * Validated: magic, non-zero dimensions, image and label counts equal, labels
 * in [0, 10), no truncation, no trailing bytes.
 *
 * CIFAR-10 binary (https://www.cs.toronto.edu/~kriz/cifar.html): records of
 * 1 + 3072 bytes — label in [0, 10), then the 32x32 red, green and blue planes,
 * each row-major. We keep that layout: x is (n, 3072) channel-major. A file
 * whose size is not a multiple of 3073 is rejected before anything is read.
 * Pixels are stored as 0..255 floats; scaling happens in cb_data_load.
 */
#include "cbound/data.h"
#include "dataio.h"
#include "readers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_CLASSES 10
#define CIFAR_PIXELS 3072
#define CIFAR_RECORD (1 + CIFAR_PIXELS)
#define CIFAR_CLASSES 10

static const char *const truncation_hint =
    "the file is incomplete (an interrupted download or copy?): fetch or install it again";

/* ---------------------------------------------------------------- IDX header */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Read magic and `ndim` dimensions; dims[0] is the count. */
static CbStatus idx_header(gzFile f, const char *path, uint32_t magic, int ndim, uint32_t *dims)
{
    unsigned char h[16];
    size_t want = 4 + 4 * (size_t)ndim, got;
    CB_TRY(cb_data_gz_read(f, path, h, want, &got));
    if (got < 4) {
        CbStatus st = CB_ERR(CB_EFORMAT, "%s: expected an IDX header (%zu bytes), found %zu bytes",
                             path, want, got);
        cb_err_hint("%s", truncation_hint);
        return st;
    }
    uint32_t found = be32(h);
    if (found != magic) {
        CbStatus st = CB_ERR(CB_EFORMAT,
                             "%s: expected IDX magic 0x%08x (%s), found 0x%08x", path, magic,
                             magic == IDX_MAGIC_IMAGES ? "unsigned-byte images, 3 dimensions"
                                                       : "unsigned-byte labels, 1 dimension",
                             found);
        if (found == IDX_MAGIC_IMAGES || found == IDX_MAGIC_LABELS)
            cb_err_hint("this is an IDX %s file: are the images and labels files swapped?",
                        found == IDX_MAGIC_IMAGES ? "images" : "labels");
        else
            cb_err_hint("not an IDX file: pass the directory holding "
                        "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]");
        return st;
    }
    if (got < want) {
        CbStatus st = CB_ERR(CB_EFORMAT, "%s: expected an IDX header (%zu bytes), found %zu bytes",
                             path, want, got);
        cb_err_hint("%s", truncation_hint);
        return st;
    }
    for (int i = 0; i < ndim; ++i) {
        dims[i] = be32(h + 4 + 4 * i);
        if (dims[i] == 0)
            return CB_ERR(CB_EFORMAT, "%s: expected a non-zero IDX dimension %d, found 0", path, i);
    }
    return CB_OK;
}

/* After the last record: the file must end here. */
static CbStatus expect_eof(gzFile f, const char *path, size_t n, const char *what)
{
    unsigned char extra[64];
    size_t got;
    CB_TRY(cb_data_gz_read(f, path, extra, sizeof extra, &got));
    if (got > 0) {
        CbStatus st = CB_ERR(CB_EFORMAT, "%s: expected the end of the file after %zu %s, found more data",
                             path, n, what);
        cb_err_hint("the header's count does not match the file: is it corrupted or concatenated?");
        return st;
    }
    return CB_OK;
}

static CbStatus count_mismatch(const char *images_path, const char *labels_path, uint32_t ni, uint32_t nl)
{
    CbStatus st = CB_ERR(CB_EFORMAT, "%s: expected as many labels as %s has images (%u), found %u",
                         labels_path, images_path, ni, nl);
    cb_err_hint("the images and labels files belong to different sets (train vs t10k?)");
    return st;
}

/* ---------------------------------------------------------------- IDX reader */

/* Images: read `n` (of the header's count) records of d bytes into x as floats, in
 * chunks so no second full-size byte buffer is needed. */
static CbStatus idx_read_images(gzFile f, const char *path, size_t n, size_t d, size_t total,
                                float *x)
{
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = cb_malloc(CHUNK);
    size_t need = n * d, done = 0;
    CbStatus st = CB_OK;
    while (done < need) {
        size_t want = need - done < CHUNK ? need - done : CHUNK, got;
        st = cb_data_gz_read(f, path, buf, want, &got);
        if (st != CB_OK) break;
        for (size_t i = 0; i < got; ++i) x[done + i] = (float)buf[i];
        done += got;
        if (got < want) {
            st = CB_ERR(CB_EFORMAT,
                        "%s: truncated: expected %zu images of %zu bytes (%zu bytes of pixels), "
                        "found %zu bytes (%zu whole images)",
                        path, total, d, total * d, done, done / d);
            cb_err_hint("%s", truncation_hint);
            break;
        }
    }
    free(buf);
    return st;
}

CbStatus cb_data_read_idx(const char *images_path, const char *labels_path, size_t max_n,
                          CbData *out)
{
    memset(out, 0, sizeof *out);
    gzFile fi = NULL, fl = NULL;
    uint32_t di[3], dl[1];
    CbStatus st = cb_data_gz_open(images_path, &fi);
    if (st == CB_OK) st = idx_header(fi, images_path, IDX_MAGIC_IMAGES, 3, di);
    if (st == CB_OK) st = cb_data_gz_open(labels_path, &fl);
    if (st == CB_OK) st = idx_header(fl, labels_path, IDX_MAGIC_LABELS, 1, dl);
    if (st == CB_OK && di[0] != dl[0]) st = count_mismatch(images_path, labels_path, di[0], dl[0]);
    size_t total = st == CB_OK ? di[0] : 0, n = total;
    if (max_n > 0 && max_n < n) n = max_n;
    if (st == CB_OK) st = cb_data_alloc(out, n, (size_t)di[1] * di[2], IDX_CLASSES, 0);
    if (st == CB_OK) out->shape[0] = 1, out->shape[1] = di[1], out->shape[2] = di[2];
    if (st == CB_OK) st = idx_read_images(fi, images_path, n, out->d, total, out->x);
    if (st == CB_OK && n == total) st = expect_eof(fi, images_path, total, "images");

    unsigned char *lab = st == CB_OK ? cb_malloc(n) : NULL;
    size_t got = 0;
    if (st == CB_OK) st = cb_data_gz_read(fl, labels_path, lab, n, &got);
    if (st == CB_OK && got < n) {
        st = CB_ERR(CB_EFORMAT, "%s: truncated: expected %zu labels, found %zu", labels_path, total, got);
        cb_err_hint("%s", truncation_hint);
    }
    for (size_t i = 0; st == CB_OK && i < n; ++i) {
        if (lab[i] >= IDX_CLASSES) {
            st = CB_ERR(CB_EFORMAT, "%s: label of sample %zu is out of range: expected 0..%d, found %u",
                        labels_path, i, IDX_CLASSES - 1, lab[i]);
            cb_err_hint("MNIST-format label files hold digits 0..9: is this the right file?");
        }
        out->y[i] = lab[i];
    }
    if (st == CB_OK && n == total) st = expect_eof(fl, labels_path, total, "labels");
    free(lab);
    if (fi) gzclose(fi);
    if (fl) gzclose(fl);
    if (st != CB_OK) {
        cb_data_free(out);
        return st;
    }
    cb_data_set_source(out, images_path, labels_path);
    return CB_OK;
}

CbStatus cb_data_idx_check(const char *images_path, const char *labels_path)
{
    gzFile fi = NULL, fl = NULL;
    uint32_t di[3], dl[1];
    CbStatus st = cb_data_gz_open(images_path, &fi);
    if (st == CB_OK) st = idx_header(fi, images_path, IDX_MAGIC_IMAGES, 3, di);
    if (st == CB_OK) st = cb_data_gz_open(labels_path, &fl);
    if (st == CB_OK) st = idx_header(fl, labels_path, IDX_MAGIC_LABELS, 1, dl);
    if (st == CB_OK && di[0] != dl[0]) st = count_mismatch(images_path, labels_path, di[0], dl[0]);
    if (fi) gzclose(fi);
    if (fl) gzclose(fl);
    return st;
}

/* ---------------------------------------------------------------- CIFAR-10 */

/* Open every batch and check its size; records[b] = its record count. On failure
 * the files opened so far stay in files[] for the caller to close. */
static CbStatus cifar_open(const char *const *batch_paths, int n_batches, FILE **files, size_t *records,
                           size_t *total)
{
    if (n_batches < 1 || n_batches > 16)
        return CB_ERR(CB_EINVAL, "cifar10: expected 1..16 batch files, got %d", n_batches);
    *total = 0;
    for (int b = 0; b < n_batches; ++b) {
        struct stat sb;
        files[b] = fopen(batch_paths[b], "rb");
        if (!files[b] || fstat(fileno(files[b]), &sb) != 0) {
            CbStatus st = CB_ERR(CB_EIO, "%s: cannot open: %s", batch_paths[b], strerror(errno));
            cb_err_hint("pass data.path = the cifar-10-batches-bin directory of "
                        "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz");
            return st;
        }
        long long size = (long long)sb.st_size;
        if (size == 0 || size % CIFAR_RECORD != 0) {
            CbStatus st = CB_ERR(CB_EFORMAT,
                                 "%s: expected a size that is a non-zero multiple of %d bytes "
                                 "(1 label + %d pixel bytes per image), found %lld bytes "
                                 "(%lld records + %lld bytes)",
                                 batch_paths[b], CIFAR_RECORD, CIFAR_PIXELS, size, size / CIFAR_RECORD,
                                 size % CIFAR_RECORD);
            cb_err_hint("is this a CIFAR-10 *binary* batch (not the Python pickle version), "
                        "and is it complete?");
            return st;
        }
        records[b] = (size_t)(size / CIFAR_RECORD);
        *total += records[b];
    }
    return CB_OK;
}

CbStatus cb_data_cifar_check(const char *const *batch_paths, int n_batches)
{
    FILE *files[16] = {0};
    size_t records[16], total;
    CbStatus st = cifar_open(batch_paths, n_batches, files, records, &total);
    for (int b = 0; b < 16; ++b)
        if (files[b]) fclose(files[b]);
    return st;
}

CbStatus cb_data_read_cifar10(const char *const *batch_paths, int n_batches, size_t max_n,
                              CbData *out)
{
    memset(out, 0, sizeof *out);
    FILE *files[16] = {0};
    size_t records[16] = {0}, total = 0;
    CbStatus st = cifar_open(batch_paths, n_batches, files, records, &total);
    size_t n = max_n > 0 && max_n < total ? max_n : total, i = 0;
    if (st == CB_OK) st = cb_data_alloc(out, n, CIFAR_PIXELS, CIFAR_CLASSES, 0);
    if (st == CB_OK) out->shape[0] = 3, out->shape[1] = 32, out->shape[2] = 32; /* channel-major */
    unsigned char *rec = cb_malloc(CIFAR_RECORD);
    for (int b = 0; st == CB_OK && b < n_batches && i < n; ++b) {
        for (size_t r = 0; r < records[b] && i < n; ++r, ++i) {
            /* The size was checked above; a short read means the file changed meanwhile. */
            if (fread(rec, 1, CIFAR_RECORD, files[b]) != CIFAR_RECORD) {
                st = CB_ERR(CB_EIO, "%s: read error in record %zu of %zu", batch_paths[b], r,
                            records[b]);
                break;
            }
            if (rec[0] >= CIFAR_CLASSES) {
                st = CB_ERR(CB_EFORMAT,
                            "%s: label of record %zu (byte offset %zu) is out of range: "
                            "expected 0..%d, found %u",
                            batch_paths[b], r, r * CIFAR_RECORD, CIFAR_CLASSES - 1, rec[0]);
                cb_err_hint("CIFAR-100 batches have 2 label bytes per record; cbound reads CIFAR-10");
                break;
            }
            out->y[i] = rec[0];
            float *xi = out->x + i * CIFAR_PIXELS; // (3, 32, 32) red, green, blue planes
            for (int p = 0; p < CIFAR_PIXELS; ++p) xi[p] = (float)rec[1 + p];
        }
    }
    free(rec);
    for (int b = 0; b < 16; ++b)
        if (files[b]) fclose(files[b]);
    if (st != CB_OK) {
        cb_data_free(out);
        return st;
    }
    size_t used = 0;
    for (int b = 0; b < n_batches; ++b) {
        int w = snprintf(out->source + used, sizeof out->source - used, "%s%s", b ? " + " : "",
                         batch_paths[b]);
        if (w < 0 || (size_t)w >= sizeof out->source - used) break;
        used += (size_t)w;
    }
    return CB_OK;
}
