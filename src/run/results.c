/*
 * results — crash-safe journal + HDF5 tables (layout in include/cbound/results.h).
 *
 * Invariants:
 *   - the journal is only appended to; a record is complete iff its length and
 *     CRC-32 check out; a bad record is skipped when intact ones follow it, else
 *     (a torn tail) cut off;
 *   - OUTPUT is never written in place: it is rebuilt into OUTPUT.tmp.<pid> and
 *     renamed, so a reader (or a crash) sees the old or the new file, never half;
 *   - rows are written in task-expansion order, so the tables do not depend on
 *     scheduling, rank count or interruptions.
 * Packed records are little-endian host order with a header naming the column
 * lists' hash: a journal written by a cbound with other columns is refused
 * rather than misread.
 */
#include "cbound/results.h"
#include "cbound/h5.h"
#include "cbound/version.h"
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
#define SCHEMA_VERSION 2 /* 2: variable-length UTF-8 text columns, p_* and stage-setting columns, compressed */
#define DEFLATE_LEVEL 4

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
    /* the bounds row's layout is part of the record format too */
    static const char names[] = CB_TASK_COLUMNS(X_NAME) "|" CB_LAYER_COLUMNS(X_NAME) "|bounds:name variant scale "
                                "gamma_rule why_not value_ln error_bound gamma margin_loss complexity n applies vacuous";
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
        put(&b, x, sizeof *x); /* fixed-size strings, doubles and int32s: no pointers */
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
        get(&rd, &x, sizeof x);
        x.name[sizeof x.name - 1] = x.variant[sizeof x.variant - 1] = x.scale[sizeof x.scale - 1] = '\0';
        x.gamma_rule[sizeof x.gamma_rule - 1] = x.why_not[sizeof x.why_not - 1] = '\0';
        CbBoundRow *y = cb_result_add_bound(&r->res, x.name, x.variant, x.scale, x.value_ln, x.gamma,
                                            x.margin_loss, x.complexity);
        *y = x;
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

/* Is there an intact record at byte `at`: its length fits, its payload starts
 * with a record magic and its CRC-32 matches? */
static int intact_at(const unsigned char *all, size_t got, size_t at)
{
    if (at + 12 > got) return 0;
    uint32_t len, crc;
    memcpy(&len, all + at, 4);
    memcpy(&crc, all + at + 4, 4);
    const unsigned char *p = all + at + 8;
    if (len < 4 || len > got - at - 8 || (memcmp(p, REC_MAGIC, 4) && memcmp(p, SES_MAGIC, 4))) return 0;
    return (uint32_t)crc32(0L, p, len) == crc;
}

/* Read every intact record. A damaged record with intact ones after it (a flipped
 * byte, a bad sector) is skipped and reported with its offset, the later records
 * are kept and its task runs again; a damaged tail (a crash mid-write) is cut off. */
static CbStatus journal_load(CbResults *r, int retry)
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
        uint32_t len;
        memcpy(&len, all + at, 4);
        if (!intact_at(all, got, at)) {
            size_t next = at + 1;
            while (next + 12 <= got && !intact_at(all, got, next)) ++next;
            if (next + 12 > got) break; /* nothing intact after it: a torn tail */
            fprintf(stderr, "cbound: note: %s: skipping a damaged record at byte %zu (%zu bytes up to the next intact "
                            "record); the records after it are kept, its task runs again\n", r->journal_path, at,
                    next - at);
            ++r->n_damaged;
            at = next;
            continue;
        }
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
            } else if (r->done[(*hit)->index] && !r->done[(*hit)->index]->failed) { /* a repeat: keep the first */
                cb_record_free(rec);
                free(rec);
            } else {
                /* A task rerun by --retry-failed: the later record replaces the failed one. */
                CbRecord *old = r->done[(*hit)->index];
                if (old) {
                    --r->n_done;
                    --r->n_failed;
                    cb_record_free(old);
                    free(old);
                }
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
    for (int i = 0; retry && i < s->n_tasks; ++i)
        if (r->done[i] && r->done[i]->failed) {
            cb_record_free(r->done[i]);
            free(r->done[i]);
            r->done[i] = NULL;
            --r->n_done;
            --r->n_failed;
            ++r->n_retry;
        }
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
    if ((mode == CB_RESULTS_RESUME || mode == CB_RESULTS_RETRY) && have_out && !have_j) {
        CbStatus st = CB_ERR(CB_EIO, "%s: cannot resume: its journal %s is missing", s->output, r->journal_path);
        cb_err_hint("the journal is the record of finished tasks; without it start over with --force");
        return st;
    }
    CB_TRY(make_parent(s->output));
    if (have_j) CB_TRY(journal_load(r, mode == CB_RESULTS_RETRY));
    r->fd = open(r->journal_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (r->fd < 0) return CB_ERR(CB_EIO, "%s: cannot open for writing: %s", r->journal_path, strerror(errno));
    if (flock(r->fd, LOCK_EX | LOCK_NB) != 0)
        return CB_ERR(CB_EEXIST, "%s: another cbound run is writing this journal right now", r->journal_path);
    if (!have_j) CB_TRY(write_all(r->fd, JOURNAL_MAGIC, strlen(JOURNAL_MAGIC), r->journal_path));
    char now[32], ses[4096];
    cb_results_iso(cb_results_now(), now, sizeof now);
    if (!r->start_time[0]) snprintf(r->start_time, sizeof r->start_time, "%s", now);
    char shard[48] = "";
    if (s->shard_n > 0) snprintf(shard, sizeof shard, " shard=%d/%d", s->shard_i, s->shard_n);
    snprintf(ses, sizeof ses, "start=%s ranks=%d sweep_hash=%016llx%s cbound=%s git=%s hosts=%s", now, mpi_size,
             (unsigned long long)s->text_hash, shard, cb_version_string(), cb_version_git_rev(), r->hosts);
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

/* ------------------------------------------------------------------ merging shards */

CbStatus cb_results_import(CbResults *r, const char *journal, char *shard, size_t shard_len, int *added)
{
    const CbSweep *s = r->sweep;
    *added = 0;
    shard[0] = '\0';
    FILE *f = fopen(journal, "rb");
    if (!f) {
        CbStatus st = CB_ERR(CB_EIO, "%s: cannot open: %s", journal, strerror(errno));
        cb_err_hint("merge reads each shard's journal (SHARD.h5.journal) beside its .h5");
        return st;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *all = cb_malloc((size_t)size + 1);
    size_t got = fread(all, 1, (size_t)size, f), hl = strlen(JOURNAL_MAGIC);
    fclose(f);
    CbStatus st = CB_OK;
    if (got != (size_t)size || got < hl || memcmp(all, JOURNAL_MAGIC, hl))
        st = CB_ERR(CB_EFORMAT, "%s: expected a cbound journal (starting with CBJOURNAL1)", journal);
    char want[64];
    snprintf(want, sizeof want, "sweep_hash=%016llx", (unsigned long long)s->text_hash);
    const CbTask **by_key = cb_malloc((size_t)(s->n_tasks ? s->n_tasks : 1) * sizeof *by_key);
    for (int i = 0; i < s->n_tasks; ++i) by_key[i] = &s->tasks[i];
    qsort(by_key, (size_t)s->n_tasks, sizeof *by_key, cmp_key);
    for (size_t at = hl; st == CB_OK && at + 8 <= got;) {
        uint32_t len;
        memcpy(&len, all + at, 4);
        if (!intact_at(all, got, at)) { /* damaged: skip to the next intact record (or the end) */
            size_t next = at + 1;
            while (next + 12 <= got && !intact_at(all, got, next)) ++next;
            fprintf(stderr, "cbound: note: %s: skipping %zu damaged bytes at byte %zu\n", journal,
                    (next + 12 <= got ? next : got) - at, at);
            at = next + 12 <= got ? next : got;
            continue;
        }
        const unsigned char *p = all + at + 8;
        if (!memcmp(p, SES_MAGIC, 4)) {
            char text[4096];
            snprintf(text, sizeof text, "%.*s", (int)(len - 4 < 4000 ? len - 4 : 4000), (const char *)p + 4);
            if (!strstr(text, want)) {
                const char *h = strstr(text, "sweep_hash=");
                st = CB_ERR(CB_EINVAL, "%s: comes from another sweep (%.27s; %s has %s)", journal, h ? h : "no hash",
                            s->file, want);
                cb_err_hint("merge the shards of one sweep file, unchanged since they ran");
                break;
            }
            const char *sh = strstr(text, " shard=");
            if (sh) snprintf(shard, shard_len, "%.*s", (int)strcspn(sh + 7, " "), sh + 7);
            else shard[0] = '\0';
        } else {
            CbRecord rec;
            char where[1200];
            snprintf(where, sizeof where, "%s (byte %zu)", journal, at);
            st = cb_record_unpack(p, len, where, &rec);
            if (st != CB_OK) break;
            CbTask probe, *pp = &probe;
            snprintf(probe.key_hex, sizeof probe.key_hex, "%s", rec.key);
            const CbTask **hit = bsearch(&pp, by_key, (size_t)s->n_tasks, sizeof *by_key, cmp_key);
            int i = hit ? (int)(*hit - s->tasks) : -1;
            int later_wins = i >= 0 && r->done[i] && r->done[i]->failed; /* a --retry-failed rerun */
            if (i >= 0 && (!r->done[i] || later_wins)) {
                rec.task = i;
                size_t n;
                unsigned char *buf = cb_record_pack(&rec, &n);
                if (later_wins) {
                    cb_record_free(r->done[i]);
                    free(r->done[i]);
                    r->done[i] = NULL;
                    --r->n_done;
                    --r->n_failed;
                } else {
                    ++*added;
                }
                int task;
                st = cb_results_add(r, buf, n, &task);
                free(buf);
            }
            cb_record_free(&rec);
        }
        at += 8 + len;
    }
    free(by_key);
    free(all);
    return st;
}

/* ------------------------------------------------------------------ HDF5 tables */

/* Column kinds. C_STR: fixed-length ASCII for identifiers of known length (keys,
 * method and bound names), which shuffle + deflate shrink to their information;
 * C_VSTR: variable-length UTF-8 for free text (params, reasons), no length limit.
 * In a row in memory a C_VSTR cell is a `const char *` (never NULL). */
typedef enum { C_F64, C_I32, C_I64, C_STR, C_VSTR } ColKind;

typedef struct {
    const char *name, *unit, *doc;
    ColKind kind;
    size_t size, off;
} Col;

#define MAX_COLS 256
typedef struct {
    const char *name, *doc;
    Col col[MAX_COLS];
    int n;
    size_t row;
} Table;

static void col(Table *t, const char *name, ColKind kind, size_t size, const char *unit, const char *doc)
{
    Col *c = &t->col[t->n++];
    c->name = name;
    c->kind = kind;
    c->size = kind == C_STR ? size : kind == C_VSTR ? sizeof(const char *) : kind == C_I32 ? 4 : 8;
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
    col(t, "params", C_VSTR, 0, "", "method parameters, canonical (sorted, defaults left out); each also in its p_<name> column");
    col(t, "width", C_I64, 0, "count", "hidden width of the model (0: standalone method)");
    col(t, "seed", C_I64, 0, "", "training seed");
    col(t, "status", C_STR, 8, "", "ok or failed");
    col(t, "reason", C_VSTR, 0, "", "why the task failed (empty when ok)");
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
    col(t, "scale", C_STR, 12, "", "error: a bound on the test 0-1 error (R^_gamma + sqrt(complexity/n)); complexity: not a bound (the authors' code's terms)");
    col(t, "value_ln", C_F64, 0, "ln", "natural log of the bound (or of the complexity term)");
    col(t, "error_bound", C_F64, 0, "1", "the bound on the test 0-1 error, exp(value_ln), for scale error; NaN otherwise");
    col(t, "vacuous", C_I32, 0, "", "1 unless error_bound < 1 (rows that are not bounds on the error count as vacuous)");
    col(t, "applies", C_I32, 0, "", "1 when every hypothesis of the theorem that cbound can check holds");
    col(t, "why_not", C_VSTR, 0, "", "why the theorem does not apply (\"; \"-joined; empty when applies)");
    col(t, "gamma", C_F64, 0, "1", "margin used");
    col(t, "gamma_rule", C_VSTR, 0, "", "how gamma was chosen");
    col(t, "margin_loss", C_F64, 0, "1", "empirical margin loss at gamma");
    col(t, "complexity", C_F64, 0, "1", "parameter count (ln of the number of models) or complexity term before sqrt(./n)");
    col(t, "n", C_F64, 0, "count", "training samples the bound uses");
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

static void curves_table(Table *t)
{
    memset(t, 0, sizeof *t);
    t->name = "curves";
    t->doc = "one row per (training stage, epoch): the learning curve stored in the stage's model file (/curve); "
             "none for model files brought with model.file or written before curves were kept";
    col(t, "stage", C_STR, 16, "", "training stage key (tasks.stage; model file DIR/models/STAGE.h5)");
    col(t, "width", C_I64, 0, "count", "hidden width of the stage's model");
    col(t, "seed", C_I64, 0, "", "training seed");
    col(t, "epoch", C_I32, 0, "count", "epochs finished (1 = after the first)");
    col(t, "train_loss", C_F64, 0, "nats", "mean training loss over the epoch's batches (as the progress line prints it)");
    col(t, "train_acc", C_F64, 0, "1", "training accuracy over the epoch's batches (NaN for regression)");
    col(t, "test_acc", C_F64, 0, "1", "test accuracy after the epoch; NaN unless cheap (test set <= 0.6 x training set)");
}

static void set_col(const Table *t, unsigned char *row, int c, const void *v)
{
    const Col *k = &t->col[c];
    if (k->kind == C_STR) {
        memset(row + k->off, 0, k->size);
        memcpy(row + k->off, v, strnlen(v, k->size));
    } else if (k->kind == C_VSTR) {
        const char *p = v ? v : "";
        memcpy(row + k->off, &p, sizeof p);
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
        } else if (c->kind == C_VSTR) {
            m = H5Tcopy(H5T_C_S1);
            H5Tset_size(m, H5T_VARIABLE);
            H5Tset_cset(m, H5T_CSET_UTF8);
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

static CbStatus write_table(hid_t f, const Table *t, const unsigned char *rows, size_t n, const char *path)
{
    /* Chunks of ~1 MiB of rows; shuffle (byte k of every row together: a compound's
     * shuffle groups each column's bytes) then deflate. NaN columns, repeated
     * identifiers and NUL padding shrink to almost nothing. */
    size_t per = ((size_t)1 << 20) / t->row;
    if (per < 1) per = 1;
    hsize_t dims[1] = {n}, maxd[1] = {H5S_UNLIMITED}, chunk[1] = {n < per ? (n ? n : 1) : per};
    hid_t mt = h5_types(t, 0), ft = h5_types(t, 1);
    hid_t sp = H5Screate_simple(1, dims, maxd);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    if (H5Pset_chunk(pl, 1, chunk) < 0 || H5Pset_shuffle(pl) < 0 || H5Pset_deflate(pl, DEFLATE_LEVEL) < 0) {
        H5Pclose(pl);
        pl = -1;
    }
    hid_t d = mt >= 0 && ft >= 0 && sp >= 0 && pl >= 0 ? H5Dcreate2(f, t->name, ft, sp, H5P_DEFAULT, pl, H5P_DEFAULT) : -1;
    herr_t e = d < 0 ? -1 : n ? H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) : 0;
    if (d >= 0 && e >= 0) {
        e = cb_h5_attr_str(d, "doc", t->doc);
        char an[128];
        for (int i = 0; i < t->n && e >= 0; ++i) {
            snprintf(an, sizeof an, "unit_%s", t->col[i].name);
            e = cb_h5_attr_str(d, an, t->col[i].unit);
            snprintf(an, sizeof an, "doc_%s", t->col[i].name);
            if (e >= 0) e = cb_h5_attr_str(d, an, t->col[i].doc);
        }
    }
    if (d >= 0) H5Dclose(d);
    if (pl >= 0) H5Pclose(pl);
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

/* ------------------------------------------------------------------ grid columns
 * One tasks column per method parameter, p_<name>, from the canonical params text,
 * and one per training-stage setting whose value differs between the sweep's
 * stages (from their cb_model_spec_text(spec, 1) "key: value" lines), named after
 * the setting, and one per measure setting that differs between the sweep's measure
 * combinations, measure_<setting>. float64 when every value in the sweep is a number,
 * else text; NaN / "" where the task has no such value. Computed from the sweep alone,
 * so a resumed or merged run gets the same columns. */

#define MAX_EXTRA (MAX_COLS - 100)
typedef struct {
    char name[80];     /* column name                                         */
    char key[64];      /* parameter name, or the setting's key                */
    int numeric;       /* float64 column, else variable-length text           */
    int setting;       /* EXTRA_PARAM, EXTRA_STAGE or EXTRA_MEASURE           */
    int slot;          /* EXTRA_STAGE: its column in stage_val                */
} Extra;
enum { EXTRA_PARAM, EXTRA_STAGE, EXTRA_MEASURE };

typedef struct {
    Extra x[MAX_EXTRA];
    int n, n_set;
    char **stage_val;  /* (n_stages, n_set) the stages' values, owned         */
    int n_stages;
    const CbMeasureSet *measures; /* the sweep's measure combinations          */
    char **pool;       /* strings the rows point to, owned                    */
    size_t n_pool, cap_pool;
} Extras;

static int is_number(const char *v)
{
    char *end;
    if (!v || !*v) return 0;
    strtod(v, &end);
    return *end == '\0';
}

/* The value of the first entry named `key` in text made of "KEY<delim>VALUE" entries
 * separated by `sep` into buf (cut to len - 1 characters); 0 when absent. */
static int entry_value(const char *text, char sep, const char *delim, const char *key, char *buf, size_t len)
{
    size_t kl = strlen(key), dl = strlen(delim);
    for (const char *p = text; p && *p;) {
        const char *next = strchr(p, sep), *end = next ? next : p + strlen(p);
        if ((size_t)(end - p) >= kl + dl && !strncmp(p, key, kl) && !strncmp(p + kl, delim, dl)) {
            size_t vl = (size_t)(end - p) - kl - dl;
            if (vl >= len) vl = len - 1;
            memcpy(buf, p + kl + dl, vl);
            buf[vl] = '\0';
            return 1;
        }
        p = next ? next + 1 : NULL;
    }
    return 0;
}

/* The value of `name` in a params text "a=1;b=x" into buf; 0 when absent. */
static int param_value(const char *text, const char *name, char *buf, size_t len)
{
    return entry_value(text, ';', "=", name, buf, len);
}

/* The value of `key` in "key: value" lines (cb_model_spec_text) into buf; 0 when absent. */
static int setting_value(const char *text, const char *key, char *buf, size_t len)
{
    return entry_value(text, '\n', ": ", key, buf, len);
}

static int extra_find(const Extras *e, const char *name)
{
    for (int i = 0; i < e->n; ++i)
        if (!strcmp(e->x[i].name, name)) return i;
    return -1;
}

/* Adds a column unless the name is taken (by a fixed column or another extra). */
static Extra *extra_add(Extras *e, const Table *t, const char *name, const char *key, int setting)
{
    for (int i = 0; i < t->n; ++i)
        if (!strcmp(t->col[i].name, name)) return NULL;
    if (extra_find(e, name) >= 0) return NULL;
    if (e->n == MAX_EXTRA || strlen(name) >= sizeof e->x[0].name) {
        /* the values stay in the params text / the stage settings; say that this column is missing */
        static int said;
        if (!said++)
            fprintf(stderr, "cbound: note: no typed column for '%s' (more than %d grid columns, or a name over %zu "
                            "characters); its values are in the params text and the sweep\n",
                    name, MAX_EXTRA, sizeof e->x[0].name - 1);
        return NULL;
    }
    Extra *x = &e->x[e->n++];
    snprintf(x->name, sizeof x->name, "%s", name);
    snprintf(x->key, sizeof x->key, "%s", key);
    x->numeric = 1;
    x->setting = setting;
    return x;
}

static const char *pool_str(Extras *e, const char *v)
{
    if (e->n_pool == e->cap_pool) {
        e->cap_pool = e->cap_pool ? 2 * e->cap_pool : 256;
        e->pool = cb_realloc(e->pool, e->cap_pool * sizeof *e->pool);
    }
    return e->pool[e->n_pool++] = strdup(v);
}

static void extras_free(Extras *e)
{
    for (size_t i = 0; i < e->n_pool; ++i) free(e->pool[i]);
    free(e->pool);
    for (int i = 0; i < e->n_stages * e->n_set; ++i) free(e->stage_val[i]);
    free(e->stage_val);
}

static void extras_stages(Extras *e, const CbSweep *s, const Table *t);

/* The p_* columns (names sorted), the varying stage settings (in the spec's order)
 * and the varying measure settings of sweep s, given the fixed columns of table t. */
static void extras_init(Extras *e, const CbSweep *s, const Table *t)
{
    memset(e, 0, sizeof *e);
    char name[80], val[1024];
    for (int i = 0; i < s->n_tasks; ++i) {
        const char *p = s->tasks[i].params_text;
        while (p && *p) {
            const char *eq = strchr(p, '='), *semi = strchr(p, ';');
            if (!eq || (semi && semi < eq)) break;
            int kl = (int)(eq - p);
            snprintf(name, sizeof name, "p_%.*s", kl, p);
            if (extra_find(e, name) < 0) {
                char key[64];
                snprintf(key, sizeof key, "%.*s", kl, p);
                extra_add(e, t, name, key, 0);
            }
            p = semi ? semi + 1 : NULL;
        }
    }
    for (int i = 1; i < e->n; ++i) /* insertion sort by name: a stable schema */
        for (int j = i; j > 0 && strcmp(e->x[j - 1].name, e->x[j].name) > 0; --j) {
            Extra tmp = e->x[j];
            e->x[j] = e->x[j - 1];
            e->x[j - 1] = tmp;
        }
    for (int k = 0; k < e->n; ++k)
        for (int i = 0; i < s->n_tasks && e->x[k].numeric; ++i)
            if (param_value(s->tasks[i].params_text, e->x[k].key, val, sizeof val) && !is_number(val))
                e->x[k].numeric = 0;
    extras_stages(e, s, t);
    /* measure settings that differ between the sweep's measure combinations */
    e->measures = s->measures;
    for (int i = 0; i < s->n_measure_vary; ++i) {
        char cname[80];
        snprintf(cname, sizeof cname, "measure_%s", s->measure_vary[i] + strlen("measure."));
        extra_add(e, t, cname, s->measure_vary[i], EXTRA_MEASURE); /* every value is a number */
    }
}

/* The varying stage settings: the keys of the first stage's full text whose value
 * differs in another stage. */
static void extras_stages(Extras *e, const CbSweep *s, const Table *t)
{
    char val[1024];
    if (s->n_stages < 2) return;
    char **text = cb_calloc((size_t)s->n_stages, sizeof *text);
    for (int k = 0; k < s->n_stages; ++k) text[k] = cb_model_spec_text(&s->stages[k].spec, 1);
    int first_set = e->n;
    char v0[1024];
    for (const char *p = text[0]; p && *p;) {
        const char *colon = strstr(p, ": "), *nl = strchr(p, '\n');
        if (!colon || (nl && nl < colon)) break;
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(colon - p), p);
        setting_value(text[0], key, v0, sizeof v0);
        int varies = 0;
        for (int k = 1; k < s->n_stages && !varies; ++k)
            varies = !setting_value(text[k], key, val, sizeof val) || strcmp(val, v0);
        if (varies && strcmp(key, "seed")) { /* the seed is the seed column already */
            char cname[80];
            snprintf(cname, sizeof cname, "%s", key);
            for (int i = 0; i < t->n; ++i) /* a setting named like a result column (n_train) */
                if (!strcmp(t->col[i].name, key)) snprintf(cname, sizeof cname, "stage_%s", key);
            Extra *x = extra_add(e, t, cname, key, EXTRA_STAGE);
            if (x) x->slot = e->n - 1 - first_set;
        }
        p = nl ? nl + 1 : NULL;
    }
    e->n_set = e->n - first_set;
    e->n_stages = s->n_stages;
    e->stage_val = cb_calloc((size_t)(s->n_stages * e->n_set) + 1, sizeof *e->stage_val);
    for (int j = 0; j < e->n_set; ++j) {
        Extra *x = &e->x[first_set + j];
        for (int k = 0; k < s->n_stages; ++k) {
            if (!setting_value(text[k], x->key, val, sizeof val)) val[0] = '\0';
            e->stage_val[k * e->n_set + j] = strdup(val);
            if (!is_number(val)) x->numeric = 0;
        }
    }
    for (int k = 0; k < s->n_stages; ++k) free(text[k]);
    free(text);
}

/* Appends the extra columns to the tasks table. */
static void extras_columns(const Extras *e, Table *t)
{
    for (int i = 0; i < e->n; ++i) {
        const Extra *x = &e->x[i];
        col(t, x->name, x->numeric ? C_F64 : C_VSTR, 0, "",
            x->setting == EXTRA_STAGE ? "training-stage setting that differs between the sweep's stages (the model "
                                        "file's train_config value; NaN or empty for standalone methods)"
            : x->setting == EXTRA_MEASURE ? "measure setting that differs between the sweep's measure combinations "
                                            "(1/0 for true/false)"
                                          : "method parameter from params (NaN or empty: not given, the method's "
                                            "default applies if it has one)");
    }
}

/* Task t's value of extra column i into val; 0 when it has none (a parameter the task
 * does not give; a stage setting of a standalone method's task, which has no stage). */
static int extra_value(const Extras *e, int i, const CbTask *t, char *val, size_t len)
{
    const Extra *x = &e->x[i];
    if (x->setting == EXTRA_PARAM) return param_value(t->params_text, x->key, val, len);
    if (x->setting == EXTRA_MEASURE) return param_value(e->measures[t->measure].full, x->key, val, len);
    if (t->stage < 0) return 0;
    snprintf(val, len, "%s", e->stage_val[t->stage * e->n_set + x->slot]);
    return 1;
}

/* Fills the extra cells of one tasks row; c = index of the first extra column. A cell is
 * float64 (NaN when the task has no value) or text ("" when it has none). */
static void extras_row(Extras *e, const Table *tt, unsigned char *row, int c, const CbTask *t)
{
    char val[1024];
    for (int i = 0; i < e->n; ++i, ++c) {
        int have = extra_value(e, i, t, val, sizeof val);
        if (e->x[i].numeric) {
            double d = have ? strtod(val, NULL) : NAN;
            set_col(tt, row, c, &d);
        } else {
            set_col(tt, row, c, have && val[0] ? pool_str(e, val) : "");
        }
    }
}

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

static void fill_tables(const CbResults *r, Extras *ex, Rows *tk, Rows *ly, Rows *bd, Rows *se)
{
    const CbSweep *s = r->sweep;
    for (int i = 0; i < s->n_tasks; ++i) {
        const CbRecord *rec = r->done[i];
        if (!rec) continue;
        const CbTask *t = &s->tasks[i];
        unsigned char *row = new_row(tk);
        int64_t idx = t->index, width = (int64_t)t->width, seed = (int64_t)t->seed; /* index: the full sweep's */
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
        extras_row(ex, &tk->t, row, c, t);
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
            c = 0;
            set_col(&bd->t, row, c++, t->key_hex);
            set_col(&bd->t, row, c++, B->name);
            set_col(&bd->t, row, c++, B->variant);
            set_col(&bd->t, row, c++, B->scale);
            set_col(&bd->t, row, c++, &B->value_ln);
            set_col(&bd->t, row, c++, &B->error_bound);
            set_col(&bd->t, row, c++, &B->vacuous);
            set_col(&bd->t, row, c++, &B->applies);
            set_col(&bd->t, row, c++, B->why_not);
            set_col(&bd->t, row, c++, &B->gamma);
            set_col(&bd->t, row, c++, B->gamma_rule);
            set_col(&bd->t, row, c++, &B->margin_loss);
            set_col(&bd->t, row, c++, &B->complexity);
            set_col(&bd->t, row, c++, &B->n);
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

/* Curves of the trained stages that have a finished task (so a shard's file and the
 * merged file agree), read from their model files; a missing file gives no rows. */
static void fill_curves(const CbResults *r, Rows *cv)
{
    const CbSweep *s = r->sweep;
    char *has = cb_calloc((size_t)s->n_stages + 1, 1);
    for (int i = 0; i < s->n_tasks; ++i)
        if (r->done[i] && s->tasks[i].stage >= 0) has[s->tasks[i].stage] = 1;
    for (int k = 0; k < s->n_stages; ++k) {
        const CbStage *g = &s->stages[k];
        double *c = NULL;
        int n = 0;
        if (!has[k] || g->file[0] || !file_exists(g->model_path)) continue;
        if (cb_model_read_curve(g->model_path, &c, &n) != CB_OK) { /* the tasks' rows do not depend on it */
            fprintf(stderr, "cbound: note: no curve rows for stage %s: %s\n", g->key_hex, cb_err_msg());
            cb_err_clear();
            continue;
        }
        int64_t width = (int64_t)g->width, seed = (int64_t)g->seed;
        for (int e = 0; e < n; ++e) {
            unsigned char *row = new_row(cv);
            int32_t ep = e + 1;
            set_col(&cv->t, row, 0, g->key_hex);
            set_col(&cv->t, row, 1, &width);
            set_col(&cv->t, row, 2, &seed);
            set_col(&cv->t, row, 3, &ep);
            for (int j = 0; j < 3; ++j) set_col(&cv->t, row, 4 + j, &c[3 * e + j]);
        }
        free(c);
    }
    free(has);
}

static CbStatus write_provenance(const CbResults *r, hid_t f)
{
    const CbSweep *s = r->sweep;
    char buf[256], now[32];
    cb_results_iso(cb_results_now(), now, sizeof now);
    herr_t e = 0;
    e |= cb_h5_attr_str(f, "schema", "cbound-results");
    e |= cb_h5_attr_i64(f, "schema_version", SCHEMA_VERSION);
    e |= cb_h5_attr_str(f, "sweep_name", s->name);
    e |= cb_h5_attr_str(f, "sweep_file", s->file);
    e |= cb_h5_attr_str(f, "sweep_text", s->text);
    snprintf(buf, sizeof buf, "%016llx", (unsigned long long)s->text_hash);
    e |= cb_h5_attr_str(f, "sweep_hash", buf);
    e |= cb_h5_attr_i64(f, "sweep_seed", (int64_t)s->seed);
    e |= cb_h5_attr_str(f, "rng", "Random123 Philox4x32-10; task streams keyed by (sweep_seed, task key, purpose, index)");
    e |= cb_h5_attr_str(f, "cbound_version", cb_version_string());
    e |= cb_h5_attr_str(f, "cbound_git_rev", cb_version_git_rev());
    CbVersionLibs lv;
    cb_version_libs(&lv);
    e |= cb_h5_attr_str(f, "hdf5_version", lv.hdf5);
    e |= cb_h5_attr_str(f, "mpi_version", lv.mpi);
    e |= cb_h5_attr_str(f, "gsl_version", lv.gsl);
    e |= cb_h5_attr_str(f, "openblas_config", lv.openblas);
    e |= cb_h5_attr_i64(f, "mpi_size", r->mpi_size);
    e |= cb_h5_attr_str(f, "hosts", r->hosts);
    e |= cb_h5_attr_str(f, "start_time", r->start_time);
    e |= cb_h5_attr_str(f, "end_time", now);
    e |= cb_h5_attr_str(f, "sessions", r->sessions ? r->sessions : "");
    if (s->shard_n > 0) { /* a slice: `cbound merge` combines the slices into the sweep's file */
        snprintf(buf, sizeof buf, "%d/%d", s->shard_i, s->shard_n);
        e |= cb_h5_attr_str(f, "shard", buf);
    }
    e |= cb_h5_attr_i64(f, "n_tasks", s->n_tasks);
    e |= cb_h5_attr_i64(f, "n_done", r->n_done);
    e |= cb_h5_attr_i64(f, "n_failed", r->n_failed);
    e |= cb_h5_attr_i64(f, "complete", r->n_done == s->n_tasks);
    e |= cb_h5_attr_str(f, "timing_columns", "worker t_start t_end wall_s and every column whose unit is s");
    return e < 0 ? CB_ERR(CB_EHDF5, "%s: cannot write the provenance attributes", s->output) : CB_OK;
}

CbStatus cb_results_write(CbResults *r)
{
    const CbSweep *s = r->sweep;
    Rows tk = {0}, ly = {0}, bd = {0}, se = {0}, cv = {0};
    tasks_table(&tk.t);
    layers_table(&ly.t);
    bounds_table(&bd.t);
    series_table(&se.t);
    curves_table(&cv.t);
    Extras *ex = cb_malloc(sizeof *ex);
    extras_init(ex, s, &tk.t);
    extras_columns(ex, &tk.t);
    double t0 = cb_results_now();
    fill_tables(r, ex, &tk, &ly, &bd, &se);
    fill_curves(r, &cv);
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
    if (st == CB_OK) st = write_table(f, &cv.t, cv.rows, cv.n, tmp);
    if (f >= 0 && H5Fclose(f) < 0 && st == CB_OK) st = CB_ERR(CB_EHDF5, "%s: cannot close", tmp);
    if (st == CB_OK && rename(tmp, s->output) != 0)
        st = CB_ERR(CB_EIO, "cannot rename %s to %s: %s", tmp, s->output, strerror(errno));
    if (st != CB_OK) unlink(tmp);
    free(tk.rows);
    free(ly.rows);
    free(bd.rows);
    free(se.rows);
    free(cv.rows);
    extras_free(ex);
    free(ex);
    r->write_s = cb_results_now() - t0;
    return st;
}

/* ------------------------------------------------------------------ schema */

void cb_results_print_schema(FILE *f)
{
    static void (*const makers[])(Table *) = {tasks_table, layers_table, bounds_table, series_table, curves_table};
    fprintf(f, "Every table is chunked and compressed (shuffle + deflate); `string[N]` columns are fixed-length "
               "ASCII, `string` columns variable-length UTF-8 (h5py gives bytes for both inside a compound "
               "row: `cbound.load()` decodes them to `str`).\n\n");
    for (int m = 0; m < 5; ++m) {
        Table t;
        makers[m](&t);
        fprintf(f, "Table `/%s` — %s:\n\n| column | type | unit | meaning |\n|---|---|---|---|\n", t.name, t.doc);
        for (int i = 0; i < t.n; ++i) {
            const Col *c = &t.col[i];
            char ty[32];
            if (c->kind == C_STR) snprintf(ty, sizeof ty, "string[%zu]", c->size);
            else if (c->kind == C_VSTR) snprintf(ty, sizeof ty, "string");
            else snprintf(ty, sizeof ty, "%s", c->kind == C_F64 ? "float64" : c->kind == C_I32 ? "int32" : "int64");
            fprintf(f, "| `%s` | %s | %s | %s |\n", c->name, ty, c->unit[0] ? c->unit : "", c->doc);
        }
        if (m == 0)
            fprintf(f, "| `p_<name>` | float64 or string | | one column per method parameter of the sweep, the value in "
                       "`params` (float64 when every value of it in the sweep is a number, else string); NaN or "
                       "empty where the task does not give it (the method's default applies if it has the "
                       "parameter: `cbound run --list-methods`) |\n"
                       "| `<setting>` | float64 or string | | one column per training-stage setting whose value "
                       "differs between the sweep's stages, named after the setting (`widths`, `lr`, `epochs`, ...; "
                       "`stage_<setting>` when a result column has its name, e.g. `stage_n_train`; "
                       "the stage's value as in its model file's `train_config`; `seed` is the `seed` column); "
                       "NaN or empty for standalone methods |\n"
                       "| `measure_<setting>` | float64 | | one column per measure setting given as a list or "
                       "generator (`measure: {code: [0, 4]}`): the task's value, 1/0 for true/false |\n");
        fprintf(f, "\n");
    }
}
