/*
 * results — crash-safe journal + HDF5 tables (layout in include/cbound/results.h).
 *
 * Invariants:
 *   - the journal is only appended to; a record is complete iff its length and
 *     CRC-32 check out, and everything after the first bad record is discarded;
 *   - OUTPUT is never written in place: it is rebuilt into OUTPUT.tmp.<pid> and
 *     renamed, so a reader (or a crash) sees the old or the new file, never half;
 *   - rows are written in task-expansion order, so the tables do not depend on
 *     scheduling, rank count or interruptions.
 * Packed records are little-endian host order with a header naming the column
 * lists' hash: a journal written by a cbound with other columns is refused
 * rather than misread.
 */
#include "cbound/results.h"
#include "cbound/cli.h"
#include "cbound/err.h"
#include "cbound/rng.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define JOURNAL_MAGIC "CBJOURNAL1\n"
#define REC_MAGIC "CBR1"
#define SES_MAGIC "CBS1"
#define SCHEMA_VERSION 1

/* ------------------------------------------------------------------ time */

double cb_results_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cb_results_iso(double t, char *buf, size_t len)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------------ packing */

#define X_NAME(name, unit, doc) #name "\n"
static uint64_t columns_hash(void)
{
    static const char names[] = CB_TASK_COLUMNS(X_NAME) "|" CB_LAYER_COLUMNS(X_NAME);
    return cb_rng_hash64(names, sizeof names - 1, CB_RNG_HASH_INIT);
}
#undef X_NAME

typedef struct {
    unsigned char *p;
    size_t n, cap;
} Buf;

static void put(Buf *b, const void *x, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = 2 * (b->n + n) + 256;
        b->p = cb_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, x, n);
    b->n += n;
}
#define PUT(b, v) put((b), &(v), sizeof(v))

unsigned char *cb_record_pack(const CbRecord *r, size_t *len)
{
    Buf b = {0};
    uint64_t h = columns_hash();
    int32_t nt = CB_T_COUNT, nl = CB_L_COUNT;
    put(&b, REC_MAGIC, 4);
    PUT(&b, h);
    PUT(&b, nt);
    PUT(&b, nl);
    PUT(&b, r->task);
    put(&b, r->key, 16);
    PUT(&b, r->failed);
    PUT(&b, r->worker);
    PUT(&b, r->t_start);
    PUT(&b, r->t_end);
    uint32_t rl = (uint32_t)strnlen(r->reason, sizeof r->reason - 1);
    PUT(&b, rl);
    put(&b, r->reason, rl);
    put(&b, r->res.task, sizeof r->res.task);
    int32_t n = r->res.n_layers;
    PUT(&b, n);
    for (int i = 0; i < n; ++i) {
        const CbLayerRow *l = &r->res.layers[i];
        PUT(&b, l->layer);
        PUT(&b, l->d_out);
        PUT(&b, l->d_in);
        put(&b, l->v, sizeof l->v);
    }
    n = r->res.n_bounds;
    PUT(&b, n);
    for (int i = 0; i < n; ++i) {
        const CbBoundRow *x = &r->res.bounds[i];
        put(&b, x->name, sizeof x->name);
        put(&b, x->variant, sizeof x->variant);
        PUT(&b, x->log_value);
        PUT(&b, x->gamma);
        PUT(&b, x->margin_loss);
        PUT(&b, x->complexity);
    }
    n = r->res.n_series;
    PUT(&b, n);
    for (int i = 0; i < n; ++i) {
        const CbSeriesRow *x = &r->res.series[i];
        put(&b, x->name, sizeof x->name);
        PUT(&b, x->i);
        PUT(&b, x->x);
        PUT(&b, x->y);
    }
    *len = b.n;
    return b.p;
}

typedef struct {
    const unsigned char *p;
    size_t n, at;
    int bad;
} Rd;

static void get(Rd *r, void *x, size_t n)
{
    if (r->bad || r->at + n > r->n) {
        r->bad = 1;
        memset(x, 0, n);
        return;
    }
    memcpy(x, r->p + r->at, n);
    r->at += n;
}
#define GET(r, v) get((r), &(v), sizeof(v))

CbStatus cb_record_unpack(const unsigned char *buf, size_t len, const char *where, CbRecord *r)
{
    memset(r, 0, sizeof *r);
    Rd rd = {buf, len, 0, 0};
    char magic[4];
    uint64_t h;
    int32_t nt, nl;
    get(&rd, magic, 4);
    GET(&rd, h);
    GET(&rd, nt);
    GET(&rd, nl);
    if (rd.bad || memcmp(magic, REC_MAGIC, 4))
        return CB_ERR(CB_EFORMAT, "%s: expected a task record (magic CBR1), found something else", where);
    if (h != columns_hash() || nt != CB_T_COUNT || nl != CB_L_COUNT) {
        CbStatus st = CB_ERR(CB_EFORMAT,
                             "%s: the record has %d task and %d layer columns of another cbound version "
                             "(this one has %d and %d)", where, nt, nl, CB_T_COUNT, CB_L_COUNT);
        cb_err_hint("finish the run with the cbound that started it, or start over with --force");
        return st;
    }
    GET(&rd, r->task);
    get(&rd, r->key, 16);
    r->key[16] = '\0';
    GET(&rd, r->failed);
    GET(&rd, r->worker);
    GET(&rd, r->t_start);
    GET(&rd, r->t_end);
    uint32_t rl;
    GET(&rd, rl);
    if (rl >= sizeof r->reason) rd.bad = 1;
    else get(&rd, r->reason, rl);
    int32_t n;
    double task[CB_T_COUNT];
    get(&rd, task, sizeof task);
    GET(&rd, n);
    if (n < 0 || (size_t)n > len) rd.bad = 1;
    cb_result_init(&r->res, rd.bad ? 0 : n);
    memcpy(r->res.task, task, sizeof task);
    for (int i = 0; i < r->res.n_layers; ++i) {
        CbLayerRow *l = &r->res.layers[i];
        GET(&rd, l->layer);
        GET(&rd, l->d_out);
        GET(&rd, l->d_in);
        get(&rd, l->v, sizeof l->v);
    }
    GET(&rd, n);
    if (n < 0 || (size_t)n > len) rd.bad = 1;
    for (int i = 0; i < n && !rd.bad; ++i) {
        CbBoundRow x;
        get(&rd, x.name, sizeof x.name);
        get(&rd, x.variant, sizeof x.variant);
        GET(&rd, x.log_value);
        GET(&rd, x.gamma);
        GET(&rd, x.margin_loss);
        GET(&rd, x.complexity);
        x.name[sizeof x.name - 1] = x.variant[sizeof x.variant - 1] = '\0';
        cb_result_add_bound(&r->res, x.name, x.variant, x.log_value, x.gamma, x.margin_loss, x.complexity);
    }
    GET(&rd, n);
    if (n < 0 || (size_t)n > len) rd.bad = 1;
    for (int i = 0; i < n && !rd.bad; ++i) {
        CbSeriesRow x;
        get(&rd, x.name, sizeof x.name);
        GET(&rd, x.i);
        GET(&rd, x.x);
        GET(&rd, x.y);
        x.name[sizeof x.name - 1] = '\0';
        cb_result_add_series(&r->res, x.name, x.i, x.x, x.y);
    }
    if (rd.bad || rd.at != len) {
        cb_result_free(&r->res);
        return CB_ERR(CB_EFORMAT, "%s: task record of %zu bytes is malformed (read %zu)", where, len, rd.at);
    }
    return CB_OK;
}

void cb_record_free(CbRecord *r)
{
    if (!r) return;
    cb_result_free(&r->res);
}

/* ------------------------------------------------------------------ journal */

static CbStatus write_all(int fd, const void *p, size_t n, const char *path)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return CB_ERR(CB_EIO, "%s: write failed: %s", path, strerror(errno));
        c += w;
        n -= (size_t)w;
    }
    return CB_OK;
}

/* One framed record in one write(). */
static CbStatus journal_append(CbResults *r, const void *payload, size_t len)
{
    size_t n = 8 + len;
    unsigned char *frame = cb_malloc(n);
    uint32_t l32 = (uint32_t)len, crc = (uint32_t)crc32(0L, payload, (uInt)len);
    memcpy(frame, &l32, 4);
    memcpy(frame + 4, &crc, 4);
    memcpy(frame + 8, payload, len);
    CbStatus st = write_all(r->fd, frame, n, r->journal_path);
    free(frame);
    return st;
}

static int file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static void session_line(CbResults *r, const char *text)
{
    size_t old = r->sessions ? strlen(r->sessions) : 0, add = strlen(text);
    r->sessions = cb_realloc(r->sessions, old + add + 2);
    memcpy(r->sessions + old, text, add);
    r->sessions[old + add] = '\n';
    r->sessions[old + add + 1] = '\0';
}

static int cmp_key(const void *a, const void *b)
{
    const CbTask *const *x = a, *const *y = b;
    return strcmp((*x)->key_hex, (*y)->key_hex);
}

/* Read every complete record; truncate a damaged tail. */
static CbStatus journal_load(CbResults *r)
{
    const CbSweep *s = r->sweep;
    FILE *f = fopen(r->journal_path, "rb");
    if (!f) return CB_ERR(CB_EIO, "%s: cannot open: %s", r->journal_path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *all = cb_malloc((size_t)size + 1);
    size_t got = fread(all, 1, (size_t)size, f);
    fclose(f);
    size_t hl = strlen(JOURNAL_MAGIC);
    if (got != (size_t)size || got < hl || memcmp(all, JOURNAL_MAGIC, hl)) {
        free(all);
        CbStatus st = CB_ERR(CB_EFORMAT, "%s: expected a cbound journal (starting with CBJOURNAL1), found %s",
                             r->journal_path, got < hl ? "a shorter file" : "other content");
        cb_err_hint("this is not the journal of a cbound run; move it away or start over with --force");
        return st;
    }
    /* key -> task index through a sorted array of task pointers */
    const CbTask **by_key = cb_malloc((size_t)(s->n_tasks ? s->n_tasks : 1) * sizeof *by_key);
    for (int i = 0; i < s->n_tasks; ++i) by_key[i] = &s->tasks[i];
    qsort(by_key, (size_t)s->n_tasks, sizeof *by_key, cmp_key);

    size_t at = hl;
    int n_records = 0;
    CbStatus st = CB_OK;
    while (at + 8 <= got) {
        uint32_t len, crc;
        memcpy(&len, all + at, 4);
        memcpy(&crc, all + at + 4, 4);
        if (at + 8 + len > got || (uint32_t)crc32(0L, all + at + 8, len) != crc || len < 4) break;
        const unsigned char *p = all + at + 8;
        char where[1200];
        snprintf(where, sizeof where, "%s (record %d at byte %zu)", r->journal_path, n_records + 1, at);
        if (!memcmp(p, SES_MAGIC, 4)) {
            char *text = cb_malloc(len - 4 + 1);
            memcpy(text, p + 4, len - 4);
            text[len - 4] = '\0';
            if (!r->start_time[0]) sscanf(text, "start=%31s", r->start_time);
            char want[64];
            snprintf(want, sizeof want, "sweep_hash=%016llx ", (unsigned long long)s->text_hash);
            if (!strstr(text, want)) r->sweep_changed = 1;
            session_line(r, text);
            free(text);
        } else {
            CbRecord *rec = cb_malloc(sizeof *rec);
            st = cb_record_unpack(p, len, where, rec);
            if (st != CB_OK) {
                free(rec);
                break;
            }
            CbTask probe, *pp = &probe;
            snprintf(probe.key_hex, sizeof probe.key_hex, "%s", rec->key);
            const CbTask **hit = bsearch(&pp, by_key, (size_t)s->n_tasks, sizeof *by_key, cmp_key);
            if (!hit) {
                ++r->n_foreign;
                cb_record_free(rec);
                free(rec);
            } else if (r->done[(*hit)->index]) { /* a repeat: keep the first */
                cb_record_free(rec);
                free(rec);
            } else {
                rec->task = (*hit)->index;
                r->done[rec->task] = rec;
                ++r->n_done;
                r->n_failed += rec->failed != 0;
            }
        }
        ++n_records;
        at += 8 + len;
    }
    free(by_key);
    free(all);
    if (st != CB_OK) return st;
    if (at != got) {
        fprintf(stderr, "cbound: note: %s: ignoring %zu bytes of a record cut off by a crash (after %d complete "
                        "records)\n", r->journal_path, got - at, n_records);
        if (truncate(r->journal_path, (off_t)at) != 0)
            return CB_ERR(CB_EIO, "%s: cannot truncate the damaged tail: %s", r->journal_path, strerror(errno));
    }
    r->n_reloaded = r->n_done;
    return CB_OK;
}

static CbStatus remove_file(const char *p)
{
    if (unlink(p) != 0 && errno != ENOENT) return CB_ERR(CB_EIO, "%s: cannot delete: %s", p, strerror(errno));
    return CB_OK;
}

/* mkdir -p of the directory part of path */
static CbStatus make_parent(const char *path)
{
    char d[1200];
    snprintf(d, sizeof d, "%s", path);
    for (char *p = d + 1; *p; ++p) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(d, 0777) != 0 && errno != EEXIST) return CB_ERR(CB_EIO, "%s: cannot create directory: %s", d, strerror(errno));
        *p = '/';
    }
    return CB_OK;
}

CbStatus cb_results_open(CbResults *r, const CbSweep *s, CbResultsMode mode, int mpi_size, const char *hosts)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->sweep = s;
    r->mpi_size = mpi_size;
    r->hosts = strdup(hosts ? hosts : "");
    r->done = cb_calloc((size_t)(s->n_tasks ? s->n_tasks : 1), sizeof *r->done);
    snprintf(r->journal_path, sizeof r->journal_path, "%s.journal", s->output);
    int have_out = file_exists(s->output), have_j = file_exists(r->journal_path);
    if (mode == CB_RESULTS_NEW && (have_out || have_j)) {
        CbStatus st = CB_ERR(CB_EEXIST, "%s: the results %s already exist%s", have_out ? s->output : r->journal_path,
                             have_out ? "file" : "journal", have_out && have_j ? " (with its journal)" : "");
        cb_err_hint("continue it with `cbound run --resume %s`, or start over (deleting it) with --force", s->file);
        return st;
    }
    /* A journal is written by one run at a time: a second cbound (or ranks
     * orphaned by a killed mpirun, still finishing) holds its lock. */
    if (have_j) {
        int fd = open(r->journal_path, O_RDONLY);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
            close(fd);
            CbStatus st = CB_ERR(CB_EEXIST, "%s: another cbound run is writing this journal right now",
                                 r->journal_path);
            cb_err_hint("wait for it to end (or stop it: its ranks may outlive a killed mpirun for a moment), "
                        "then run again");
            return st;
        }
        if (fd >= 0) close(fd);
    }
    if (mode == CB_RESULTS_FORCE) {
        CB_TRY(remove_file(s->output));
        CB_TRY(remove_file(r->journal_path));
        have_out = have_j = 0;
    }
    if (mode == CB_RESULTS_RESUME && have_out && !have_j) {
        CbStatus st = CB_ERR(CB_EIO, "%s: cannot resume: its journal %s is missing", s->output, r->journal_path);
        cb_err_hint("the journal is the record of finished tasks; without it start over with --force");
        return st;
    }
    CB_TRY(make_parent(s->output));
    if (have_j) CB_TRY(journal_load(r));
    r->fd = open(r->journal_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (r->fd < 0) return CB_ERR(CB_EIO, "%s: cannot open for writing: %s", r->journal_path, strerror(errno));
    if (flock(r->fd, LOCK_EX | LOCK_NB) != 0)
        return CB_ERR(CB_EEXIST, "%s: another cbound run is writing this journal right now", r->journal_path);
    if (!have_j) CB_TRY(write_all(r->fd, JOURNAL_MAGIC, strlen(JOURNAL_MAGIC), r->journal_path));
    char now[32], ses[4096];
    cb_results_iso(cb_results_now(), now, sizeof now);
    if (!r->start_time[0]) snprintf(r->start_time, sizeof r->start_time, "%s", now);
    snprintf(ses, sizeof ses, "start=%s ranks=%d sweep_hash=%016llx cbound=%s git=%s hosts=%s", now, mpi_size,
             (unsigned long long)s->text_hash, cb_cli_version_string(), cb_cli_git_rev(), r->hosts);
    size_t sl = strlen(ses);
    unsigned char *pl = cb_malloc(sl + 4);
    memcpy(pl, SES_MAGIC, 4);
    memcpy(pl + 4, ses, sl);
    CbStatus st = journal_append(r, pl, sl + 4);
    free(pl);
    session_line(r, ses);
    if (st == CB_OK) st = cb_results_sync(r, 1);
    return st;
}

CbStatus cb_results_add(CbResults *r, const unsigned char *buf, size_t len, int *task)
{
    CbRecord *rec = cb_malloc(sizeof *rec);
    CbStatus st = cb_record_unpack(buf, len, "a worker's result", rec);
    if (st != CB_OK) {
        free(rec);
        return st;
    }
    if (rec->task < 0 || rec->task >= r->sweep->n_tasks || strcmp(rec->key, r->sweep->tasks[rec->task].key_hex)) {
        int bad_task = rec->task;
        cb_record_free(rec);
        free(rec);
        return CB_ERR(CB_EFORMAT, "a worker's result names task %d with a key that does not match the sweep", bad_task);
    }
    *task = rec->task;
    if (r->done[rec->task]) { /* cannot happen: the manager dispatches each task once */
        cb_record_free(rec);
        free(rec);
        return CB_OK;
    }
    st = journal_append(r, buf, len);
    if (st != CB_OK) {
        cb_record_free(rec);
        free(rec);
        return st;
    }
    *task = rec->task;
    r->done[rec->task] = rec;
    ++r->n_done;
    r->n_failed += rec->failed != 0;
    return cb_results_sync(r, 0);
}

CbStatus cb_results_sync(CbResults *r, int force)
{
    double now = cb_results_now();
    if (!force && now - r->last_sync < 0.5) return CB_OK;
    if (fdatasync(r->fd) != 0) return CB_ERR(CB_EIO, "%s: fdatasync failed: %s", r->journal_path, strerror(errno));
    r->last_sync = now;
    return CB_OK;
}

void cb_results_close(CbResults *r)
{
    if (r->fd >= 0) {
        cb_results_sync(r, 1);
        close(r->fd);
    }
    if (r->done)
        for (int i = 0; i < r->sweep->n_tasks; ++i)
            if (r->done[i]) {
                cb_record_free(r->done[i]);
                free(r->done[i]);
            }
    free(r->done);
    free(r->sessions);
    free(r->hosts);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

/* ------------------------------------------------------------------ HDF5 tables */

typedef enum { C_F64, C_I32, C_I64, C_STR } ColKind;

typedef struct {
    const char *name, *unit, *doc;
    ColKind kind;
    size_t size, off;
} Col;

typedef struct {
    const char *name, *doc;
    Col col[160];
    int n;
    size_t row;
} Table;

static void col(Table *t, const char *name, ColKind kind, size_t size, const char *unit, const char *doc)
{
    Col *c = &t->col[t->n++];
    c->name = name;
    c->kind = kind;
    c->size = kind == C_STR ? size : kind == C_I32 ? 4 : 8;
    c->unit = unit;
    c->doc = doc;
    c->off = t->row;
    t->row += c->size;
}

#define KEY_COL(t) col(t, "key", C_STR, 16, "", "task key (16 hex digits): cbound task --key KEY SWEEP replays it")

static void tasks_table(Table *t)
{
    memset(t, 0, sizeof *t);
    t->name = "tasks";
    t->doc = "one row per task, in expansion order";
    col(t, "task", C_I64, 0, "", "position in the sweep's expansion order");
    KEY_COL(t);
    col(t, "stage", C_STR, 16, "", "training stage key (model file DIR/models/STAGE.h5); empty for standalone methods");
    col(t, "method", C_STR, 32, "", "compression method");
    col(t, "params", C_STR, 256, "", "method parameters, canonical (sorted, defaults left out)");
    col(t, "width", C_I64, 0, "count", "hidden width of the model (0: standalone method)");
    col(t, "seed", C_I64, 0, "", "training seed");
    col(t, "status", C_STR, 8, "", "ok or failed");
    col(t, "reason", C_STR, 256, "", "why the task failed (empty when ok)");
    col(t, "worker", C_I32, 0, "", "MPI rank that ran the task (timing/worker column)");
    col(t, "t_start", C_F64, 0, "s", "start, unix time (timing column)");
    col(t, "t_end", C_F64, 0, "s", "end, unix time (timing column)");
    col(t, "wall_s", C_F64, 0, "s", "t_end - t_start (timing column)");
#define X(name, unit, doc) col(t, #name, C_F64, 0, unit, doc);
    CB_TASK_COLUMNS(X)
#undef X
}

static void layers_table(Table *t)
{
    memset(t, 0, sizeof *t);
    t->name = "layers";
    t->doc = "one row per (task, layer)";
    KEY_COL(t);
    col(t, "layer", C_I32, 0, "", "layer index, 0 = first linear layer");
    col(t, "d_out", C_I32, 0, "count", "rows of W (outputs)");
    col(t, "d_in", C_I32, 0, "count", "columns of W (inputs)");
#define X(name, unit, doc) col(t, #name, C_F64, 0, unit, doc);
    CB_LAYER_COLUMNS(X)
#undef X
}

static void bounds_table(Table *t)
{
    memset(t, 0, sizeof *t);
    t->name = "bounds";
    t->doc = "one row per (task, bound, variant)";
    KEY_COL(t);
    col(t, "name", C_STR, 48, "", "bound, e.g. sketch_004_thm5.2, bartlett2017");
    col(t, "variant", C_STR, 32, "", "variant, e.g. predicted_j, measured_j");
    col(t, "log_value", C_F64, 0, "ln", "natural log of the bound (or of its complexity term)");
    col(t, "gamma", C_F64, 0, "1", "margin used");
    col(t, "margin_loss", C_F64, 0, "1", "empirical margin loss at gamma");
    col(t, "complexity", C_F64, 0, "1", "parameter count / complexity term before sqrt(./n)");
}

static void series_table(Table *t)
{
    memset(t, 0, sizeof *t);
    t->name = "series";
    t->doc = "one row per (task, series, i): curves such as IMP levels or GD iterations";
    KEY_COL(t);
    col(t, "name", C_STR, 32, "", "series name");
    col(t, "i", C_I64, 0, "", "index along the series");
    col(t, "x", C_F64, 0, "", "abscissa");
    col(t, "y", C_F64, 0, "", "value");
}

static void set_col(const Table *t, unsigned char *row, int c, const void *v)
{
    const Col *k = &t->col[c];
    if (k->kind == C_STR) {
        memset(row + k->off, 0, k->size);
        memcpy(row + k->off, v, strnlen(v, k->size));
    } else {
        memcpy(row + k->off, v, k->size);
    }
}

static hid_t h5_types(const Table *t, int file)
{
    hid_t ty = H5Tcreate(H5T_COMPOUND, t->row);
    for (int i = 0; i < t->n && ty >= 0; ++i) {
        const Col *c = &t->col[i];
        hid_t m;
        if (c->kind == C_STR) {
            m = H5Tcopy(H5T_C_S1);
            H5Tset_size(m, c->size);
            H5Tset_strpad(m, H5T_STR_NULLPAD);
        } else if (c->kind == C_F64) {
            m = H5Tcopy(file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
        } else if (c->kind == C_I32) {
            m = H5Tcopy(file ? H5T_STD_I32LE : H5T_NATIVE_INT32);
        } else {
            m = H5Tcopy(file ? H5T_STD_I64LE : H5T_NATIVE_INT64);
        }
        if (H5Tinsert(ty, c->name, c->off, m) < 0) {
            H5Tclose(m);
            H5Tclose(ty);
            return -1;
        }
        H5Tclose(m);
    }
    return ty;
}

static herr_t attr_str(hid_t obj, const char *name, const char *value)
{
    hid_t ty = H5Tcopy(H5T_C_S1);
    H5Tset_size(ty, strlen(value) + 1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, ty, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, ty, value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(ty);
    return e;
}

static herr_t attr_i64(hid_t obj, const char *name, int64_t v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_INT64, &v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return e;
}

static CbStatus write_table(hid_t f, const Table *t, const unsigned char *rows, size_t n, const char *path)
{
    hsize_t dims[1] = {n}, maxd[1] = {H5S_UNLIMITED}, chunk[1] = {n > 4096 ? 4096 : n ? n : 1};
    hid_t mt = h5_types(t, 0), ft = h5_types(t, 1);
    hid_t sp = H5Screate_simple(1, dims, maxd);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 1, chunk);
    hid_t d = mt >= 0 && ft >= 0 && sp >= 0 ? H5Dcreate2(f, t->name, ft, sp, H5P_DEFAULT, pl, H5P_DEFAULT) : -1;
    herr_t e = d < 0 ? -1 : n ? H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) : 0;
    if (d >= 0 && e >= 0) {
        e = attr_str(d, "doc", t->doc);
        char an[128];
        for (int i = 0; i < t->n && e >= 0; ++i) {
            snprintf(an, sizeof an, "unit_%s", t->col[i].name);
            e = attr_str(d, an, t->col[i].unit);
            snprintf(an, sizeof an, "doc_%s", t->col[i].name);
            if (e >= 0) e = attr_str(d, an, t->col[i].doc);
        }
    }
    if (d >= 0) H5Dclose(d);
    H5Pclose(pl);
    if (sp >= 0) H5Sclose(sp);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (d < 0 || e < 0) return CB_ERR(CB_EHDF5, "%s: cannot write table /%s", path, t->name);
    return CB_OK;
}

typedef struct {
    Table t;
    unsigned char *rows;
    size_t n, cap;
} Rows;

static unsigned char *new_row(Rows *r)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->rows = cb_realloc(r->rows, r->cap * r->t.row);
    }
    unsigned char *p = r->rows + r->n++ * r->t.row;
    memset(p, 0, r->t.row);
    return p;
}

static void fill_tables(const CbResults *r, Rows *tk, Rows *ly, Rows *bd, Rows *se)
{
    const CbSweep *s = r->sweep;
    for (int i = 0; i < s->n_tasks; ++i) {
        const CbRecord *rec = r->done[i];
        if (!rec) continue;
        const CbTask *t = &s->tasks[i];
        unsigned char *row = new_row(tk);
        int64_t idx = i, width = (int64_t)t->width, seed = (int64_t)t->seed;
        double wall = rec->t_end - rec->t_start;
        int c = 0;
        set_col(&tk->t, row, c++, &idx);
        set_col(&tk->t, row, c++, t->key_hex);
        set_col(&tk->t, row, c++, t->stage >= 0 ? s->stages[t->stage].key_hex : "");
        set_col(&tk->t, row, c++, t->method->name);
        set_col(&tk->t, row, c++, t->params_text);
        set_col(&tk->t, row, c++, &width);
        set_col(&tk->t, row, c++, &seed);
        set_col(&tk->t, row, c++, rec->failed ? "failed" : "ok");
        set_col(&tk->t, row, c++, rec->reason);
        set_col(&tk->t, row, c++, &rec->worker);
        set_col(&tk->t, row, c++, &rec->t_start);
        set_col(&tk->t, row, c++, &rec->t_end);
        set_col(&tk->t, row, c++, &wall);
        for (int k = 0; k < CB_T_COUNT; ++k) set_col(&tk->t, row, c++, &rec->res.task[k]);
        for (int l = 0; l < rec->res.n_layers; ++l) {
            const CbLayerRow *L = &rec->res.layers[l];
            row = new_row(ly);
            c = 0;
            set_col(&ly->t, row, c++, t->key_hex);
            set_col(&ly->t, row, c++, &L->layer);
            set_col(&ly->t, row, c++, &L->d_out);
            set_col(&ly->t, row, c++, &L->d_in);
            for (int k = 0; k < CB_L_COUNT; ++k) set_col(&ly->t, row, c++, &L->v[k]);
        }
        for (int b = 0; b < rec->res.n_bounds; ++b) {
            const CbBoundRow *B = &rec->res.bounds[b];
            row = new_row(bd);
            set_col(&bd->t, row, 0, t->key_hex);
            set_col(&bd->t, row, 1, B->name);
            set_col(&bd->t, row, 2, B->variant);
            set_col(&bd->t, row, 3, &B->log_value);
            set_col(&bd->t, row, 4, &B->gamma);
            set_col(&bd->t, row, 5, &B->margin_loss);
            set_col(&bd->t, row, 6, &B->complexity);
        }
        for (int k = 0; k < rec->res.n_series; ++k) {
            const CbSeriesRow *S = &rec->res.series[k];
            row = new_row(se);
            set_col(&se->t, row, 0, t->key_hex);
            set_col(&se->t, row, 1, S->name);
            set_col(&se->t, row, 2, &S->i);
            set_col(&se->t, row, 3, &S->x);
            set_col(&se->t, row, 4, &S->y);
        }
    }
}

static CbStatus write_provenance(const CbResults *r, hid_t f)
{
    const CbSweep *s = r->sweep;
    char buf[256], now[32];
    cb_results_iso(cb_results_now(), now, sizeof now);
    herr_t e = 0;
    e |= attr_str(f, "schema", "cbound-results");
    e |= attr_i64(f, "schema_version", SCHEMA_VERSION);
    e |= attr_str(f, "sweep_name", s->name);
    e |= attr_str(f, "sweep_file", s->file);
    e |= attr_str(f, "sweep_text", s->text);
    snprintf(buf, sizeof buf, "%016llx", (unsigned long long)s->text_hash);
    e |= attr_str(f, "sweep_hash", buf);
    e |= attr_i64(f, "sweep_seed", (int64_t)s->seed);
    e |= attr_str(f, "rng", "Random123 Philox4x32-10; task streams keyed by (sweep_seed, task key, purpose, index)");
    e |= attr_str(f, "cbound_version", cb_cli_version_string());
    e |= attr_str(f, "cbound_git_rev", cb_cli_git_rev());
    CbLibVersions lv;
    cb_cli_lib_versions(&lv);
    e |= attr_str(f, "hdf5_version", lv.hdf5);
    e |= attr_str(f, "mpi_version", lv.mpi);
    e |= attr_str(f, "gsl_version", lv.gsl);
    e |= attr_str(f, "openblas_config", lv.openblas);
    e |= attr_i64(f, "mpi_size", r->mpi_size);
    e |= attr_str(f, "hosts", r->hosts);
    e |= attr_str(f, "start_time", r->start_time);
    e |= attr_str(f, "end_time", now);
    e |= attr_str(f, "sessions", r->sessions ? r->sessions : "");
    e |= attr_i64(f, "n_tasks", s->n_tasks);
    e |= attr_i64(f, "n_done", r->n_done);
    e |= attr_i64(f, "n_failed", r->n_failed);
    e |= attr_i64(f, "complete", r->n_done == s->n_tasks);
    e |= attr_str(f, "timing_columns", "worker t_start t_end wall_s and every column whose unit is s");
    return e < 0 ? CB_ERR(CB_EHDF5, "%s: cannot write the provenance attributes", s->output) : CB_OK;
}

CbStatus cb_results_write(CbResults *r)
{
    const CbSweep *s = r->sweep;
    Rows tk = {0}, ly = {0}, bd = {0}, se = {0};
    tasks_table(&tk.t);
    layers_table(&ly.t);
    bounds_table(&bd.t);
    series_table(&se.t);
    fill_tables(r, &tk, &ly, &bd, &se);
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", s->output, (long)getpid());
    CbStatus st = CB_OK;
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) st = CB_ERR(CB_EHDF5, "%s: cannot create", tmp);
    if (st == CB_OK) st = write_provenance(r, f);
    if (st == CB_OK) st = write_table(f, &tk.t, tk.rows, tk.n, tmp);
    if (st == CB_OK) st = write_table(f, &ly.t, ly.rows, ly.n, tmp);
    if (st == CB_OK) st = write_table(f, &bd.t, bd.rows, bd.n, tmp);
    if (st == CB_OK) st = write_table(f, &se.t, se.rows, se.n, tmp);
    if (f >= 0 && H5Fclose(f) < 0 && st == CB_OK) st = CB_ERR(CB_EHDF5, "%s: cannot close", tmp);
    if (st == CB_OK && rename(tmp, s->output) != 0)
        st = CB_ERR(CB_EIO, "cannot rename %s to %s: %s", tmp, s->output, strerror(errno));
    if (st != CB_OK) unlink(tmp);
    free(tk.rows);
    free(ly.rows);
    free(bd.rows);
    free(se.rows);
    return st;
}

/* ------------------------------------------------------------------ schema */

void cb_results_print_schema(FILE *f)
{
    static void (*const makers[])(Table *) = {tasks_table, layers_table, bounds_table, series_table};
    for (int m = 0; m < 4; ++m) {
        Table t;
        makers[m](&t);
        fprintf(f, "Table `/%s` — %s:\n\n| column | type | unit | meaning |\n|---|---|---|---|\n", t.name, t.doc);
        for (int i = 0; i < t.n; ++i) {
            const Col *c = &t.col[i];
            char ty[32];
            if (c->kind == C_STR) snprintf(ty, sizeof ty, "string[%zu]", c->size);
            else snprintf(ty, sizeof ty, "%s", c->kind == C_F64 ? "float64" : c->kind == C_I32 ? "int32" : "int64");
            fprintf(f, "| `%s` | %s | %s | %s |\n", c->name, ty, c->unit[0] ? c->unit : "", c->doc);
        }
        fprintf(f, "\n");
    }
}
