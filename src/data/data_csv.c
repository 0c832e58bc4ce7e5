/*
 * data_csv — numeric CSV tables (plain or .gz) with a target column or a
 * separate target file.
 *
 * Format accepted: one row per line ("\n" or "\r\n"), blank lines skipped;
 * fields separated by ',' if the first line has one, else ';' if it has one, else
 * runs of spaces/tabs (sklearn's diabetes_data_raw.csv.gz is space-separated);
 * surrounding double quotes are stripped, quoted delimiters are not supported.
 * The first row is a header iff one of its fields is not a number. Every other
 * field must be a finite number; every row must have the first row's field count.
 * Target: "" = last column, an index (0-based) or a header name, or a separate
 * file (name ends in .csv, .csv.gz, .txt or holds a '/'; relative to the data
 * file's directory) with one value per row (regression: one or more columns).
 * Class labels must be integers >= 0; K = max + 1 and each class 0..K-1 must
 * occur (a missing class usually means 1-based labels).
 * Errors: "file:line:column: expected ..., found '...'" (column = character).
 */
#include "cbound/data.h"
#include "dataio.h"
#include "readers.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *path;
    char *text;        /* whole file, NUL-terminated; fields are cut in place         */
    size_t rows, cols;
    double *v;         /* (rows, cols) row-major                                       */
    size_t *line;      /* (rows) 1-based line number of each row                       */
    size_t *col_at;    /* (rows, cols) 1-based character column of each field          */
    char **names;      /* (cols) header fields, or NULL without a header               */
} CsvTable;

static void table_free(CsvTable *t)
{
    free(t->text);
    free(t->v);
    free(t->line);
    free(t->col_at);
    free(t->names);
    memset(t, 0, sizeof *t);
}

/* Number of fields of line [s, e). */
static size_t count_fields(const char *s, const char *e, char delim)
{
    size_t n = 0;
    if (delim == ' ') {
        for (const char *p = s; p < e; ++p)
            n += (*p != ' ' && *p != '\t') && (p == s || p[-1] == ' ' || p[-1] == '\t');
        return n;
    }
    for (const char *p = s; p < e; ++p) n += *p == delim;
    return n + 1;
}

/* Splits line [s, e) in place into its fields (trimmed, quotes stripped); the
 * caller sized fields/starts by count_fields. starts[] get character offsets. */
static void split_fields(char *s, char *e, char delim, char **fields, size_t *starts)
{
    size_t n = 0;
    char *p = s;
    if (delim == ' ') {
        for (;;) {
            while (p < e && (*p == ' ' || *p == '\t')) ++p;
            if (p >= e) break;
            char *q = p;
            while (q < e && *q != ' ' && *q != '\t') ++q;
            fields[n] = p;
            starts[n++] = (size_t)(p - s);
            *q = '\0';
            p = q + 1;
        }
        return;
    }
    for (;;) {
        char *q = p;
        while (q < e && *q != delim) ++q;
        char *a = p, *b = q;
        while (a < b && isspace((unsigned char)*a)) ++a;
        while (b > a && isspace((unsigned char)b[-1])) --b;
        if (b - a >= 2 && *a == '"' && b[-1] == '"') ++a, --b;
        fields[n] = a;
        starts[n++] = (size_t)(a - s);
        *b = '\0';
        if (q >= e) break;
        p = q + 1;
    }
}

static int parse_number(const char *f, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(f, &end);
    return *f && !*end && isfinite(*v);
}

static CbStatus parse_csv(const char *path, CsvTable *t)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    size_t len;
    CB_TRY(cb_data_gz_slurp(path, &t->text, &len));
    char *s = t->text, *end = t->text + len;
    if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) s += 3; /* UTF-8 byte-order mark */
    char delim = 0;
    size_t cap = 0, line_no = 0, header_line = 0, first_line = 0;
    size_t fcap = 16;
    char **fields = cb_malloc(fcap * sizeof *fields);
    size_t *starts = cb_malloc(fcap * sizeof *starts);
    CbStatus st = CB_OK;
    while (s < end && st == CB_OK) {
        char *e = memchr(s, '\n', (size_t)(end - s));
        if (!e) e = end;
        ++line_no;
        char *le = e > s && e[-1] == '\r' ? e - 1 : e;
        char *next = e < end ? e + 1 : end;
        int blank = 1;
        for (char *p = s; p < le; ++p) blank &= isspace((unsigned char)*p) != 0;
        if (blank) {
            s = next;
            continue;
        }
        if (!delim) delim = memchr(s, ',', (size_t)(le - s)) ? ',' : memchr(s, ';', (size_t)(le - s)) ? ';' : ' ';
        size_t nf = count_fields(s, le, delim);
        if (nf > fcap) {
            fcap = nf;
            fields = cb_realloc(fields, fcap * sizeof *fields);
            starts = cb_realloc(starts, fcap * sizeof *starts);
        }
        if (t->cols && nf != t->cols) {
            st = CB_ERR(CB_EFORMAT, "%s:%zu: expected %zu fields (as in line %zu), found %zu", path, line_no,
                        t->cols, first_line, nf);
            cb_err_hint("every row needs the same number of %s-separated fields",
                        delim == ' ' ? "space" : delim == ',' ? "comma" : "semicolon");
            break;
        }
        split_fields(s, le, delim, fields, starts);
        if (t->cols == 0) { /* first row: header or data? */
            t->cols = nf;
            first_line = line_no;
            int numeric = 1;
            double v;
            for (size_t j = 0; j < nf; ++j) numeric &= parse_number(fields[j], &v);
            if (!numeric) {
                header_line = line_no;
                t->names = cb_malloc(nf * sizeof *t->names);
                memcpy(t->names, fields, nf * sizeof *fields);
                s = next;
                continue;
            }
        }
        if (t->rows == cap) {
            cap = cap ? 2 * cap : 1024;
            t->v = cb_realloc(t->v, cap * t->cols * sizeof(double));
            t->line = cb_realloc(t->line, cap * sizeof(size_t));
            t->col_at = cb_realloc(t->col_at, cap * t->cols * sizeof(size_t));
        }
        for (size_t j = 0; j < nf; ++j) {
            size_t col = starts[j] + 1;
            if (!parse_number(fields[j], &t->v[t->rows * t->cols + j])) {
                st = CB_ERR(CB_EFORMAT, "%s:%zu:%zu: expected a finite number in field %zu, found %s%.40s%s",
                            path, line_no, col, j + 1, fields[j][0] ? "'" : "an empty field",
                            fields[j], fields[j][0] ? "'" : "");
                cb_err_hint("cbound reads numeric CSV only (a header row is allowed as the first line)");
                break;
            }
            t->col_at[t->rows * t->cols + j] = col;
        }
        t->line[t->rows++] = line_no;
        s = next;
    }
    free(fields);
    free(starts);
    if (st == CB_OK && t->rows == 0) {
        st = CB_ERR(CB_EFORMAT, "%s: expected at least one data row, found %s", path,
                    header_line ? "only a header" : "an empty file");
        cb_err_hint("check the file");
    }
    if (st != CB_OK) table_free(t);
    return st;
}

/* Is `target` a separate file rather than a column? */
static int target_is_file(const char *target)
{
    size_t n = strlen(target);
    const char *ext[] = {".csv", ".csv.gz", ".txt", ".gz"};
    if (strchr(target, '/')) return 1;
    for (int i = 0; i < 4; ++i) {
        size_t m = strlen(ext[i]);
        if (n > m && !strcmp(target + n - m, ext[i])) return 1;
    }
    return 0;
}

int cb_data_csv_target_file(const char *data_path, const char *target, char *out, size_t len)
{
    if (!target_is_file(target)) return 0;
    const char *slash = strrchr(data_path, '/');
    if (target[0] == '/' || !slash) snprintf(out, len, "%s", target);
    else snprintf(out, len, "%.*s/%s", (int)(slash - data_path), data_path, target);
    return 1;
}

static CbStatus target_column(const CsvTable *t, const char *target, size_t *col)
{
    if (!target[0]) {
        *col = t->cols - 1;
        return CB_OK;
    }
    char *end;
    long k = strtol(target, &end, 10);
    if (!*end && end != target) {
        if (k < 0 || (size_t)k >= t->cols) {
            CbStatus st = CB_ERR(CB_EINVAL, "%s: target column index %ld out of range: expected 0..%zu", t->path,
                                 k, t->cols - 1);
            cb_err_hint("data.target is a 0-based column index, a header name, or a target file");
            return st;
        }
        *col = (size_t)k;
        return CB_OK;
    }
    for (size_t j = 0; t->names && j < t->cols; ++j)
        if (!strcmp(t->names[j], target)) {
            *col = j;
            return CB_OK;
        }
    CbStatus st = CB_ERR(CB_EINVAL, "%s: expected a column named '%s', found %s", t->path, target,
                         t->names ? "no such name in the header row" : "no header row");
    if (t->names)
        cb_err_hint("the header's first columns are '%s', '%s'%s", t->names[0], t->cols > 1 ? t->names[1] : "",
                    t->cols > 2 ? ", ..." : "");
    else
        cb_err_hint("without a header, name the target by its 0-based index");
    return st;
}

/* Labels from column `col` of t into y; K = max + 1; every class present unless
 * `partial` (a test file need not hold every class). */
static CbStatus read_labels(const CsvTable *t, size_t col, int partial, int32_t *y, size_t *n_classes)
{
    int32_t max = -1;
    for (size_t i = 0; i < t->rows; ++i) {
        double v = t->v[i * t->cols + col];
        if (!(v >= 0 && v < 2147483647.0 && v == floor(v))) {
            CbStatus st = CB_ERR(CB_EFORMAT, "%s:%zu:%zu: expected an integer class label >= 0, found %.17g",
                                 t->path, t->line[i], t->col_at[i * t->cols + col], v);
            cb_err_hint("labels must be 0..K-1; for a real-valued target set data.regression = 1");
            return st;
        }
        y[i] = (int32_t)v;
        if (y[i] > max) max = y[i];
    }
    size_t k = (size_t)max + 1;
    size_t *count = cb_calloc(k, sizeof(size_t));
    for (size_t i = 0; i < t->rows; ++i) count[y[i]]++;
    size_t empty = k;
    for (size_t c = 0; c < k && empty == k; ++c)
        if (!count[c]) empty = c;
    free(count);
    if (empty < k && !partial) {
        CbStatus st = CB_ERR(CB_EFORMAT,
                             "%s: labels range over 0..%zu, but class %zu has no sample; expected every "
                             "class 0..%zu to occur",
                             t->path, k - 1, empty, k - 1);
        cb_err_hint("labels must be consecutive integers from 0 (1-based labels? subtract 1); for a "
                    "real-valued target set data.regression = 1");
        return st;
    }
    *n_classes = k;
    return CB_OK;
}

CbStatus cb_data_read_csv(const char *path, const char *target, int regression, CbData *out)
{
    return cb_data_read_csv_part(path, target, regression, 0, out);
}

CbStatus cb_data_read_csv_part(const char *path, const char *target, int regression, int partial, CbData *out)
{
    memset(out, 0, sizeof *out);
    CsvTable t, tt = {0};
    CB_TRY(parse_csv(path, &t));
    char tp[1100];
    size_t tcol = t.cols; /* = no target column */
    CbStatus st = CB_OK;
    if (cb_data_csv_target_file(path, target, tp, sizeof tp)) {
        st = parse_csv(tp, &tt);
        if (st == CB_OK && tt.rows != t.rows) {
            st = CB_ERR(CB_EFORMAT, "%s: expected %zu target rows (one per row of %s), found %zu", tp,
                        t.rows, path, tt.rows);
            cb_err_hint("the data and target files must have the same rows in the same order");
        } else if (st == CB_OK && !regression && tt.cols != 1) {
            st = CB_ERR(CB_EFORMAT, "%s: expected 1 label column, found %zu", tp, tt.cols);
            cb_err_hint("a classification target file holds one label per line");
        }
        if (st == CB_OK) {
            st = cb_data_alloc(out, t.rows, t.cols, regression ? 0 : 1, regression ? tt.cols : 0);
        }
        if (st == CB_OK) {
            for (size_t i = 0; i < t.rows * t.cols; ++i) out->x[i] = (float)t.v[i];
            if (regression)
                for (size_t i = 0; i < tt.rows * tt.cols; ++i) out->t[i] = (float)tt.v[i];
            else
                st = read_labels(&tt, 0, partial, out->y, &out->n_classes);
        }
        if (st == CB_OK) cb_data_set_source(out, path, tp);
    } else {
        st = target_column(&t, target, &tcol);
        if (st == CB_OK && t.cols < 2) {
            st = CB_ERR(CB_EFORMAT, "%s: expected at least 2 columns (features and a target), found %zu", path,
                        t.cols);
            cb_err_hint("with the target in another file, set data.target to that file's name");
        }
        if (st == CB_OK) st = cb_data_alloc(out, t.rows, t.cols - 1, regression ? 0 : 1, regression ? 1 : 0);
        if (st == CB_OK) {
            for (size_t i = 0; i < t.rows; ++i) {
                float *xi = out->x + i * out->d; // (d) features in file order, target removed
                for (size_t j = 0, k = 0; j < t.cols; ++j)
                    if (j != tcol) xi[k++] = (float)t.v[i * t.cols + j];
                if (regression) out->t[i] = (float)t.v[i * t.cols + tcol];
            }
            if (!regression) st = read_labels(&t, tcol, partial, out->y, &out->n_classes);
        }
        if (st == CB_OK) cb_data_set_source(out, path, NULL);
    }
    table_free(&t);
    table_free(&tt);
    if (st != CB_OK) cb_data_free(out);
    return st;
}
