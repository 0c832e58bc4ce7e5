/*
 * farm — manager/worker task farm (protocol in include/cbound/farm.h).
 *
 * Sections: worker (what any worker does with an item: shared by remote ranks,
 * rank 0's local thread and `cbound task`), local worker thread, remote worker
 * loop, manager (schedule, messages, signals, progress), entry point.
 *
 * Schedule: stages whose model file is missing are queued largest first; a
 * stage's tasks enter the ready queue (largest estimated cost first) when its
 * model exists; standalone tasks are ready at once. An idle worker gets a queued
 * stage if any, else the head of the ready queue, else waits. Every item is
 * handed out once; a stage that fails to train turns its tasks into failed rows.
 * Waiting is by polling with a capped exponential back-off (≤ 1 ms), never by
 * blocking MPI calls, which spin in Open MPI and would steal a core from work.
 */
#include "cbound/farm.h"
#include "cbound/err.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { TAG_READY = 1, TAG_RESULT, TAG_STAGE, TAG_WORK, TAG_STOP, TAG_BYE, TAG_ENV, TAG_SIGNAL, TAG_PROGRESS };
enum { DEPTH = 2 }; /* items a remote worker may hold: one running, one queued */

/* HDF5 is not thread-safe in Debian's parallel build: model files (worker
 * thread) and the results file (manager) are written under this lock. */
static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Sleep for the k-th idle round: nothing for the first rounds, then 2 µs doubling
 * up to `cap` seconds. */
static void backoff(int k, double cap)
{
    if (k < 64) return;
    double s = 2e-6 * (double)(1L << (k - 64 < 20 ? k - 64 : 20));
    struct timespec ts = {0, (long)(1e9 * (s < cap ? s : cap))};
    nanosleep(&ts, NULL);
}

void cb_farm_opts_default(CbFarmOpts *o)
{
    o->quiet = 0;
    o->grace = 60;
    o->flush_every = 60;
    o->progress_every = 10;
    o->local_worker = 1;
    o->checkpoint_every = 1;
}

/* ------------------------------------------------------------------ signals */

static volatile sig_atomic_t stop_signals;

static void on_signal(int sig)
{
    (void)sig;
    if (stop_signals < 100) ++stop_signals;
}

/* The signals that ask a run to stop. */
static const int STOP_SIGNALS[] = {SIGTERM, SIGINT, SIGUSR1};
#define N_STOP_SIGNALS ((int)(sizeof STOP_SIGNALS / sizeof *STOP_SIGNALS))

/* Blocks (SIG_BLOCK) or unblocks (SIG_UNBLOCK) the stop signals in the calling thread. */
static void stop_signals_mask(int how)
{
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < N_STOP_SIGNALS; ++i) sigaddset(&set, STOP_SIGNALS[i]);
    pthread_sigmask(how, &set, NULL);
}

void cb_farm_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < N_STOP_SIGNALS; ++i) sigaction(STOP_SIGNALS[i], &sa, NULL);
    /* A launcher may have started us with these signals blocked (the mask is
     * inherited across exec): a stop must still arrive. */
    stop_signals_mask(SIG_UNBLOCK);
}

int cb_farm_stop_requested(void) { return stop_signals; }

/* Set when this process should wind down its work: a STOP from the manager while
 * an item runs (remote worker) or the manager stopping (rank 0). Training polls it
 * (with the signals) after every batch and checkpoints. */
static volatile sig_atomic_t work_stop;
static int farm_should_stop(void) { return stop_signals || work_stop; }

void cb_farm_hosts(MPI_Comm comm, char *buf, size_t len)
{
    int rank, size, n;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    char me[MPI_MAX_PROCESSOR_NAME] = {0};
    MPI_Get_processor_name(me, &n);
    char *all = rank == 0 ? cb_calloc((size_t)size, MPI_MAX_PROCESSOR_NAME) : NULL;
    MPI_Gather(me, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, comm);
    buf[0] = '\0';
    if (rank != 0) return;
    for (int i = 0; i < size; ++i) {
        const char *h = all + (size_t)i * MPI_MAX_PROCESSOR_NAME;
        int seen = 0;
        for (int j = 0; j < i; ++j) seen |= !strcmp(h, all + (size_t)j * MPI_MAX_PROCESSOR_NAME);
        if (!seen) snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "," : "", h);
    }
    free(all);
}

/* ------------------------------------------------------------------ worker */

/* Environmental failures (the machine, not the task: I/O error, disk full, out of
 * memory, MPI, a stop request) leave the task pending and stop the run; every
 * other status (bad values, NaN, malformed input) is the task's own outcome and
 * becomes a failed row. */
int cb_farm_status_environmental(CbStatus st)
{
    return st == CB_EIO || st == CB_ENOMEM || st == CB_EHDF5 || st == CB_EMPI || st == CB_ESTOP;
}

typedef struct {
    const CbSweep *s;
    int rank;
    int have_data;
    CbDataSpec data_spec; /* the spec of the cached data (stages may differ in data) */
    CbData train, test;
    int model_stage;     /* stage of the cached model, -1 none */
    CbMlp **comp_out;    /* replay: hand the compressed model to the caller (NULL: free it) */
    CbModel model;
    CbTrainSpec spec;    /* the cached stage's spec, resolved against the data */
    double *logits;      /* (train.n, outputs) the cached model's logits in double, shared
                            by every task of the stage (CbTaskCtx.logits_orig)          */
} Worker;

static void worker_init(Worker *w, const CbSweep *s, int rank)
{
    memset(w, 0, sizeof *w);
    w->s = s;
    w->rank = rank;
    w->model_stage = -1;
}

static void worker_free(Worker *w)
{
    if (w->have_data) {
        cb_data_free(&w->train);
        cb_data_free(&w->test);
    }
    if (w->model_stage >= 0) cb_model_free(&w->model);
    free(w->logits);
    w->logits = NULL;
    w->have_data = 0;
    w->model_stage = -1;
}

/* The data of stage k, cached: loaded again only when a stage uses other data. */
static CbStatus worker_data(Worker *w, int k)
{
    const CbDataSpec *d = &w->s->stages[k].spec.data;
    if (w->have_data && !memcmp(&w->data_spec, d, sizeof *d)) return CB_OK;
    if (w->have_data) {
        if (w->model_stage >= 0) cb_model_free(&w->model); /* its logits are of the old data */
        free(w->logits);
        w->logits = NULL;
        w->model_stage = -1;
        cb_data_free(&w->train);
        cb_data_free(&w->test);
        w->have_data = 0;
    }
    CB_TRY(cb_data_load(d, &w->train, &w->test));
    w->data_spec = *d;
    w->have_data = 1;
    return CB_OK;
}

static CbStatus mkdir_p(const char *dir)
{
    char d[1200];
    snprintf(d, sizeof d, "%s/", dir);
    for (char *p = d + 1; *p; ++p) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(d, 0777) != 0 && errno != EEXIST) return CB_ERR(CB_EIO, "%s: cannot create directory: %s", d, strerror(errno));
        *p = '/';
    }
    return CB_OK;
}

/* ------------------------------------------------------------------ training stages: checkpoints, progress */

static int ckpt_every = 1; /* CbFarmOpts.checkpoint_every of this run (every rank) */

/* Progress of the stage this process is training (one compute thread per process):
 * written by the training thread after every epoch, read by the manager (rank 0)
 * or sent to it by a remote worker's main thread (PROGRESS). */
static pthread_mutex_t prog_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int seq, stage, epoch, epochs;
    double loss;
} prog = {0, -1, 0, 0, 0};

typedef struct {
    const char *path; /* DIR/models/STAGE.ckpt */
    uint64_t id;      /* the stage key         */
    int stage;
} CkptCtx;

static CbStatus ckpt_save(void *arg, const CbTrainState *st)
{
    const CkptCtx *cx = arg;
    return cb_model_checkpoint_save(cx->path, cx->id, st);
}

static void train_progress(void *arg, int epochs_done, int epochs, double loss)
{
    const CkptCtx *cx = arg;
    pthread_mutex_lock(&prog_lock);
    prog.stage = cx->stage;
    prog.epoch = epochs_done;
    prog.epochs = epochs;
    prog.loss = loss;
    ++prog.seq;
    pthread_mutex_unlock(&prog_lock);
}

static void ckpt_path(const CbStage *stage, char *buf, size_t len)
{
    size_t n = strlen(stage->model_path);
    snprintf(buf, len, "%.*s.ckpt", (int)(n > 3 ? n - 3 : n), stage->model_path);
}

/* Train stage `k` and save its model file (atomically, by cb_model_save, then its
 * checksum sidecar). With checkpoints on, the full training state is saved beside
 * it every ckpt_every epochs and when a stop is requested (CB_ESTOP), and a
 * checkpoint found at the start is continued: the model is the same bit for bit. */
static CbStatus worker_train(Worker *w, int k)
{
    const CbStage *stage = &w->s->stages[k];
    if (stage->file[0]) /* never train over a researcher's file */
        return CB_ERR(CB_EIO, "model file %s: missing or unreadable (the sweep's model.file): %s", stage->file,
                      strerror(errno));
    CB_TRY(worker_data(w, k));
    CbTrainSpec spec = stage->spec;
    CB_TRY(cb_model_spec_resolve(&spec, &w->train));
    char dir[1100], ckpt[1200];
    snprintf(dir, sizeof dir, "%s/models", w->s->dir);
    ckpt_path(stage, ckpt, sizeof ckpt);
    CB_TRY(mkdir_p(dir));
    CkptCtx cx = {ckpt, stage->key, k};
    CbTrainState rs;
    memset(&rs, 0, sizeof rs);
    int resumed = 0;
    if (ckpt_every > 0 && access(ckpt, R_OK) == 0) {
        cb_err_clear();
        if (cb_model_checkpoint_load(ckpt, stage->key, &rs) == CB_OK) {
            resumed = 1;
            fprintf(stderr, "cbound: stage %s continues from its checkpoint (epoch %d of %d, step %ld)\n",
                    stage->key_hex, rs.epoch + 1, spec.train.epochs, rs.step);
        } else {
            fprintf(stderr, "cbound: note: retraining stage %s from the start: %s\n", stage->key_hex, cb_err_msg());
            unlink(ckpt);
        }
    }
    spec.train.hook_arg = &cx;
    spec.train.progress = train_progress;
    if (ckpt_every > 0) {
        spec.train.checkpoint = ckpt_save;
        spec.train.checkpoint_every = ckpt_every;
        spec.train.should_stop = farm_should_stop;
        spec.train.resume = resumed ? &rs : NULL;
    }
    CbModel m;
    CbStatus st = cb_model_train(&spec, &w->train, &w->test, &m);
    cb_train_state_free(&rs);
    pthread_mutex_lock(&prog_lock);
    prog.stage = -1;
    ++prog.seq;
    pthread_mutex_unlock(&prog_lock);
    CB_TRY(st);
    pthread_mutex_lock(&h5_lock);
    st = cb_model_save(stage->model_path, &m);
    pthread_mutex_unlock(&h5_lock);
    if (st == CB_OK) st = cb_model_sum_write(stage->model_path);
    if (st == CB_OK) unlink(ckpt);
    cb_model_free(&m);
    return st;
}

/* Make stage k's model the cached one. */
static CbStatus worker_model(Worker *w, int k)
{
    if (w->model_stage == k) return CB_OK;
    if (w->model_stage >= 0) cb_model_free(&w->model);
    free(w->logits);
    w->logits = NULL;
    w->model_stage = -1;
    int checked;
    CB_TRY(cb_model_sum_check(w->s->stages[k].model_path, &checked));
    pthread_mutex_lock(&h5_lock);
    CbStatus st = cb_model_load(w->s->stages[k].model_path, &w->model);
    pthread_mutex_unlock(&h5_lock);
    CB_TRY(st);
    const CbStage *g = &w->s->stages[k];
    if (g->file[0] && strcmp(w->model.content_hash, g->file_hash)) {
        st = CB_ERR(CB_EINVAL, "model file %s changed since the sweep was loaded (content %s, now %s)", g->file,
                    g->file_hash, w->model.content_hash);
        cb_model_free(&w->model);
        return st;
    }
    w->spec = w->s->stages[k].spec;
    st = cb_model_spec_resolve(&w->spec, &w->train);
    /* The file must be this stage's network: a model put in models/ by hand (or a stale
     * one) must not be measured under the stage's label. */
    const CbMlp *f = w->model.mlp;
    int same = st == CB_OK && f->depth == w->spec.depth && f->act == w->spec.act && f->bias == w->spec.bias;
    for (int l = 0; same && l <= f->depth; ++l) same = f->widths[l] == w->spec.widths[l];
    if (st == CB_OK && !same) {
        char a[256] = "", b[256] = "";
        for (int l = 0; l <= f->depth; ++l)
            snprintf(a + strlen(a), sizeof a - strlen(a), "%s%zu", l ? "-" : "", f->widths[l]);
        for (int l = 0; l <= w->spec.depth; ++l)
            snprintf(b + strlen(b), sizeof b - strlen(b), "%s%zu", l ? "-" : "", w->spec.widths[l]);
        st = CB_ERR(CB_EINVAL, "%s holds a %s %s network%s, but stage %s is %s %s%s", g->model_path, a,
                    cb_mlp_act_name(f->act), f->bias ? " with biases" : "", g->key_hex, b,
                    cb_mlp_act_name(w->spec.act), w->spec.bias ? " with biases" : "");
        cb_err_hint("remove the file (cbound trains the stage's model) or sweep over it with model.file");
    }
    if (st != CB_OK) {
        cb_model_free(&w->model);
        return st;
    }
    w->logits = cb_mlp_logits_d(w->model.mlp, w->train.x, w->train.n);
    w->model_stage = k;
    return CB_OK;
}

/* A task's compressed model (or its 0/1 mask) as a model file DIR/compressed/<key>.h5,
 * written atomically; an existing file (a resumed run) is rewritten with the same bytes'
 * content. */
static CbStatus save_compressed(const Worker *w, const CbTask *t, CbMlp *comp)
{
    char dir[1100], path[1200];
    snprintf(dir, sizeof dir, "%s/compressed", w->s->dir);
    CB_TRY(mkdir_p(dir));
    snprintf(path, sizeof path, "%s/%s.h5", dir, t->key_hex);
    if (t->save == CB_SAVE_MASKS) {
        for (size_t i = 0; i < comp->n_params; ++i) comp->params[i] = comp->params[i] != 0.0f;
        if (comp->bias)
            for (int l = 0; l < comp->depth; ++l)
                for (size_t j = 0; j < comp->widths[l + 1]; ++j) comp->b[l][j] = 1.0f;
    }
    CbModel m = {.mlp = comp};
    snprintf(m.dataset, sizeof m.dataset, "%s of task %s (%s %.160s) of stage %s",
             t->save == CB_SAVE_MASKS ? "mask" : "compressed", t->key_hex, t->method->name, t->params_text,
             t->stage >= 0 ? w->s->stages[t->stage].key_hex : "-");
    m.metrics.train_loss = m.metrics.train_acc = m.metrics.test_loss = m.metrics.test_acc = NAN;
    pthread_mutex_lock(&h5_lock);
    CbStatus st = cb_model_save(path, &m);
    pthread_mutex_unlock(&h5_lock);
    return st;
}

/* Run task i: data -> model -> cb_task_run -> record. A failure is a failed
 * record carrying cb_err_msg(); the status returned says which kind. */
static CbStatus worker_task(Worker *w, int i, CbRecord *rec)
{
    const CbTask *t = &w->s->tasks[i];
    memset(rec, 0, sizeof *rec);
    rec->task = i;
    snprintf(rec->key, sizeof rec->key, "%s", t->key_hex);
    rec->worker = w->rank;
    rec->t_start = cb_results_now();
    cb_err_clear();
    CbStatus st = CB_OK;
    if (t->stage >= 0) {
        st = worker_data(w, t->stage);
        if (st == CB_OK) st = worker_model(w, t->stage);
    }
    CbTaskCtx ctx = {
        .seed = w->s->seed,
        .key = t->key,
        .method = t->method->name,
        .params = &t->params,
        .train = t->stage >= 0 ? &w->train : NULL,
        .test = t->stage >= 0 ? &w->test : NULL,
        .model = t->stage >= 0 ? &w->model : NULL,
        .train_config = t->stage >= 0 ? &w->spec.train : NULL,
        .logits_orig = t->stage >= 0 ? w->logits : NULL,
        .measure = &w->s->measures[t->measure].opts,
        .quiet = 1,
    };
    snprintf(ctx.key_hex, sizeof ctx.key_hex, "%s", t->key_hex);
    CbMlp *comp = NULL;
    if (t->save != CB_SAVE_NONE || w->comp_out) ctx.comp_out = &comp;
    if (st == CB_OK) {
        st = cb_task_run(&ctx, &rec->res);
        if (st == CB_OK && comp && t->save != CB_SAVE_NONE) st = save_compressed(w, t, comp);
        if (w->comp_out) *w->comp_out = comp; /* a replay's caller takes it */
        else cb_mlp_free(comp);
    } else {
        cb_result_init(&rec->res, 0);
    }
    rec->t_end = cb_results_now();
    if (st != CB_OK) {
        rec->failed = 1;
        snprintf(rec->reason, sizeof rec->reason, "%s", cb_err_msg()[0] ? cb_err_msg() : cb_err_name(st));
    }
    return st;
}

/* Do item; returns the packed reply and its tag. */
static unsigned char *worker_do(Worker *w, int item, size_t *len, int *tag)
{
    if (item >= 0) {
        CbRecord rec;
        CbStatus st = worker_task(w, item, &rec);
        unsigned char *buf;
        if (rec.failed && cb_farm_status_environmental(st)) { /* [i32 task][reason]: the task stays pending */
            size_t n = strlen(rec.reason);
            buf = cb_malloc(4 + n);
            int32_t t32 = item;
            memcpy(buf, &t32, 4);
            memcpy(buf + 4, rec.reason, n);
            *len = 4 + n;
            *tag = TAG_ENV;
        } else {
            buf = cb_record_pack(&rec, len);
            *tag = TAG_RESULT;
        }
        cb_record_free(&rec);
        return buf;
    }
    int k = -(item + 1);
    cb_err_clear();
    CbStatus st = worker_train(w, k);
    const char *why = st == CB_OK ? "" : cb_err_msg()[0] ? cb_err_msg() : cb_err_name(st);
    size_t n = strlen(why);
    unsigned char *buf = cb_malloc(8 + n);
    /* ok: 1 trained, 0 failed (its tasks become failed rows), -1 environmental,
     * -2 stopped on request (checkpointed: the next run continues it) */
    int32_t hdr[2] = {k, st == CB_OK ? 1 : st == CB_ESTOP ? -2 : cb_farm_status_environmental(st) ? -1 : 0};
    memcpy(buf, hdr, 8);
    memcpy(buf + 8, why, n);
    *len = 8 + n;
    *tag = TAG_STAGE;
    return buf;
}

CbStatus cb_farm_replay(const CbSweep *s, int task, CbRecord *rec) { return cb_farm_replay_keep(s, task, rec, NULL); }

CbStatus cb_farm_replay_keep(const CbSweep *s, int task, CbRecord *rec, CbMlp **comp_out)
{
    Worker w;
    worker_init(&w, s, 0);
    w.comp_out = comp_out;
    const CbTask *t = &s->tasks[task];
    CbStatus st = CB_OK;
    if (t->stage >= 0 && access(s->stages[t->stage].model_path, R_OK) != 0) {
        fprintf(stderr, "cbound: training stage %s (its model file %s is missing)\n", s->stages[t->stage].key_hex,
                s->stages[t->stage].model_path);
        st = worker_train(&w, t->stage);
    }
    if (st == CB_OK) worker_task(&w, task, rec);
    worker_free(&w);
    return st;
}

/* ------------------------------------------------------------------ local worker thread */

typedef struct {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int in[DEPTH], n_in;   /* items handed to the thread, not started yet */
    struct {
        unsigned char *buf;
        size_t len;
        int tag;
    } out[DEPTH];          /* results not yet collected by the manager    */
    int n_out, quit;
    Worker w;
} Local;

static void *local_main(void *arg)
{
    Local *L = arg;
    stop_signals_mask(SIG_BLOCK); /* signals go to the manager thread */
    for (;;) {
        pthread_mutex_lock(&L->mu);
        /* The manager usually answers within microseconds: look a few hundred
         * times before sleeping on the condition variable. */
        for (int spin = 0; spin < 500 && !L->n_in && !L->quit; ++spin) {
            pthread_mutex_unlock(&L->mu);
            sched_yield();
            pthread_mutex_lock(&L->mu);
        }
        while (!L->n_in && !L->quit) pthread_cond_wait(&L->cv, &L->mu);
        if (L->quit) {
            pthread_mutex_unlock(&L->mu);
            break;
        }
        int item = L->in[0];
        memmove(L->in, L->in + 1, (size_t)--L->n_in * sizeof *L->in);
        pthread_mutex_unlock(&L->mu);
        size_t len;
        int tag;
        unsigned char *out = worker_do(&L->w, item, &len, &tag);
        pthread_mutex_lock(&L->mu);
        L->out[L->n_out].buf = out;
        L->out[L->n_out].len = len;
        L->out[L->n_out++].tag = tag;
        pthread_mutex_unlock(&L->mu);
    }
    worker_free(&L->w);
    return NULL;
}

static void local_start(Local *L, const CbSweep *s, int rank)
{
    memset(L, 0, sizeof *L);
    pthread_mutex_init(&L->mu, NULL);
    pthread_cond_init(&L->cv, NULL);
    worker_init(&L->w, s, rank);
    if (pthread_create(&L->th, NULL, local_main, L) != 0) CB_DIE("cannot start the worker thread");
}

static void local_stop(Local *L)
{
    pthread_mutex_lock(&L->mu);
    L->quit = 1;
    pthread_cond_signal(&L->cv);
    pthread_mutex_unlock(&L->mu);
    pthread_join(L->th, NULL);
    pthread_mutex_destroy(&L->mu);
    pthread_cond_destroy(&L->cv);
}

/* ------------------------------------------------------------------ remote worker */

/* The main thread talks to the manager; items run in a compute thread (the same
 * Local thread as rank 0's), so a signal to this rank reaches the manager at once
 * (SIGNAL with the rank's signal count) even in the middle of a long item. */
static void local_start(Local *L, const CbSweep *s, int rank);
static void local_stop(Local *L);

static int worker_loop(const CbSweep *s, MPI_Comm comm, int rank)
{
    Local L;
    local_start(&L, s, rank);
    int stop = 0, rc = 0, msg = 0, told = 0, given = 0; /* given: items in the thread, not yet answered */
    int prog_sent = 0;
    MPI_Request rq;
    MPI_Status status;
    if (MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_READY, comm) != MPI_SUCCESS ||
        MPI_Irecv(&msg, 1, MPI_INT, 0, MPI_ANY_TAG, comm, &rq) != MPI_SUCCESS)
        rc = 1;
    for (int k = 0; rc == 0 && !(stop && given == 0); ++k) {
        int flag = 0;
        if (!stop && MPI_Test(&rq, &flag, &status) != MPI_SUCCESS) {
            rc = 1;
            break;
        }
        if (flag) {
            pthread_mutex_lock(&L.mu);
            if (status.MPI_TAG == TAG_STOP) { /* drop items not started; the manager knows (BYE) */
                stop = 1;
                given -= L.n_in;
                L.n_in = 0;
                work_stop = 1; /* a stage in training checkpoints and ends */
            } else if (L.n_in < DEPTH) {
                L.in[L.n_in++] = msg;
                ++given;
                pthread_cond_signal(&L.cv);
            }
            pthread_mutex_unlock(&L.mu);
            if (!stop && MPI_Irecv(&msg, 1, MPI_INT, 0, MPI_ANY_TAG, comm, &rq) != MPI_SUCCESS) rc = 1;
            k = -1;
        }
        /* Results, in hand-out order. */
        unsigned char *bufs[DEPTH];
        size_t lens[DEPTH];
        int tags[DEPTH], n = 0;
        pthread_mutex_lock(&L.mu);
        for (; n < L.n_out; ++n) {
            bufs[n] = L.out[n].buf;
            lens[n] = L.out[n].len;
            tags[n] = L.out[n].tag;
        }
        L.n_out = 0;
        pthread_mutex_unlock(&L.mu);
        for (int j = 0; j < n; ++j) {
            if (rc == 0 && MPI_Send(bufs[j], (int)lens[j], MPI_BYTE, 0, tags[j], comm) != MPI_SUCCESS) rc = 1;
            free(bufs[j]);
            --given;
            k = -1;
        }
        /* A training stage's epoch: tell the manager (progress line). */
        pthread_mutex_lock(&prog_lock);
        int seq = prog.seq;
        double pm[4] = {prog.stage, prog.epoch, prog.epochs, prog.loss};
        pthread_mutex_unlock(&prog_lock);
        if (rc == 0 && seq != prog_sent) {
            prog_sent = seq;
            if (MPI_Send(pm, 4, MPI_DOUBLE, 0, TAG_PROGRESS, comm) != MPI_SUCCESS) rc = 1;
        }
        /* A signal to this rank: tell the manager (it decides; a second one counts). */
        int sig = cb_farm_stop_requested();
        if (rc == 0 && sig > told && told < 2) {
            told = sig > 2 ? 2 : sig;
            if (MPI_Send(&told, 1, MPI_INT, 0, TAG_SIGNAL, comm) != MPI_SUCCESS) rc = 1;
        }
        backoff(k, given ? 2e-4 : 1e-3);
    }
    if (rc == 0 && MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_BYE, comm) != MPI_SUCCESS) rc = 1;
    if (rc) fprintf(stderr, "cbound[rank %d]: lost contact with the manager (rank 0); stopping\n", rank);
    if (rc) _exit(1); /* the compute thread may be mid-item: do not wait for it */
    local_stop(&L);
    return rc;
}

/* ------------------------------------------------------------------ manager */

enum { S_NONE = 0, S_QUEUED, S_TRAINING, S_READY, S_FAILED };
enum { T_PENDING = 0, T_RUNNING, T_DONE };

typedef struct {
    const CbSweep *s;
    CbResults *r;
    const CbFarmOpts *o;
    MPI_Comm comm;
    int size;
    char *task_state;   /* (n_tasks) */
    char *stage_state;  /* (n_stages) */
    int *stage_queue, n_stage_queue, stage_head;
    int *ready, n_ready, ready_head;
    int **stage_tasks, *stage_ntasks; /* pending tasks per stage, cost order */
    int (*held)[DEPTH];       /* (size) items a rank holds, oldest first (rank 0: the local thread) */
    double (*held_at)[DEPTH]; /* (size) when they were handed out                                  */
    int *n_held;              /* (size)                                                            */
    double *last_done;        /* (size) when the rank's last result arrived                        */
    int *ready_seen;          /* (size) remote rank has said READY                                 */
    int *stop_sent, *gone;    /* (size) STOP sent / BYE received                                   */
    int workers;
    double busy;        /* sum over items of (result received - handed out): worker time      */
    double item_s;      /* running mean of an item's time: the manager polls at ~1% of it    */
    int n_running, n_pending;
    int done_this_run, failed_this_run;
    double t0, last_progress, last_flush;
    double t_first;     /* when this run's first result arrived: the rate is measured from it */
    Local *local;
    int env_stop;       /* an environmental failure: stop like a signal, exit 5 */
    char env_why[512];  /* the first one's message                               */
    int broke;          /* the manager itself failed: workers may still wait     */
    int remote_signals; /* most stop signals any worker rank has received        */
    double (*train_prog)[3]; /* (n_stages) epochs done, epochs, last epoch's loss (remote stages) */
} Manager;

#define NO_ITEM (-2147483647 - 1)

static const CbSweep *sort_sweep; /* qsort context: cost order, then expansion order */
static int cmp_task_cost(const void *a, const void *b)
{
    const CbTask *x = &sort_sweep->tasks[*(const int *)a], *y = &sort_sweep->tasks[*(const int *)b];
    if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
    return x->index - y->index;
}
static int cmp_stage_cost(const void *a, const void *b)
{
    const CbStage *x = &sort_sweep->stages[*(const int *)a], *y = &sort_sweep->stages[*(const int *)b];
    if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

static void push_ready(Manager *m, const int *tasks, int n)
{
    for (int i = 0; i < n; ++i) m->ready[m->n_ready++] = tasks[i];
}

static CbStatus manager_init(Manager *m)
{
    const CbSweep *s = m->s;
    m->task_state = cb_calloc((size_t)s->n_tasks + 1, 1);
    m->stage_state = cb_calloc((size_t)s->n_stages + 1, 1);
    m->stage_queue = cb_calloc((size_t)s->n_stages + 1, sizeof(int));
    m->ready = cb_calloc((size_t)s->n_tasks + 1, sizeof(int));
    m->stage_tasks = cb_calloc((size_t)s->n_stages + 1, sizeof(int *));
    m->stage_ntasks = cb_calloc((size_t)s->n_stages + 1, sizeof(int));
    m->held = cb_calloc((size_t)m->size, sizeof *m->held);
    m->held_at = cb_calloc((size_t)m->size, sizeof *m->held_at);
    m->n_held = cb_calloc((size_t)m->size, sizeof(int));
    m->last_done = cb_calloc((size_t)m->size, sizeof(double));
    m->ready_seen = cb_calloc((size_t)m->size, sizeof(int));
    m->stop_sent = cb_calloc((size_t)m->size, sizeof(int));
    m->gone = cb_calloc((size_t)m->size, sizeof(int));
    m->train_prog = cb_calloc((size_t)s->n_stages + 1, sizeof *m->train_prog);
    int *order = cb_malloc(((size_t)s->n_tasks + 1) * sizeof *order), n = 0;
    for (int i = 0; i < s->n_tasks; ++i) {
        if (m->r->done[i]) {
            m->task_state[i] = T_DONE;
            continue;
        }
        order[n++] = i;
    }
    m->n_pending = n;
    sort_sweep = s;
    qsort(order, (size_t)n, sizeof *order, cmp_task_cost);
    for (int j = 0; j < n; ++j) {
        const CbTask *t = &s->tasks[order[j]];
        if (t->stage < 0) {
            m->ready[m->n_ready++] = order[j];
            continue;
        }
        int k = t->stage;
        m->stage_tasks[k] = cb_realloc(m->stage_tasks[k], (size_t)(m->stage_ntasks[k] + 1) * sizeof(int));
        m->stage_tasks[k][m->stage_ntasks[k]++] = order[j];
    }
    free(order);
    /* Stages: needed ones are ready if their model file loads, else queued. */
    for (int k = 0; k < s->n_stages; ++k) {
        if (!m->stage_ntasks[k]) continue;
        CbModel probe;
        if (access(s->stages[k].model_path, R_OK) == 0) {
            cb_err_clear();
            int checked; /* the checksum first: HDF5 never reads a damaged file */
            if (cb_model_sum_check(s->stages[k].model_path, &checked) == CB_OK &&
                cb_model_load(s->stages[k].model_path, &probe) == CB_OK) {
                cb_model_free(&probe);
                m->stage_state[k] = S_READY;
                push_ready(m, m->stage_tasks[k], m->stage_ntasks[k]);
                continue;
            }
            fprintf(stderr, "cbound: note: retraining stage %s: %s\n", s->stages[k].key_hex, cb_err_msg());
        }
        m->stage_state[k] = S_QUEUED;
        m->stage_queue[m->n_stage_queue++] = k;
    }
    qsort(m->stage_queue, (size_t)m->n_stage_queue, sizeof(int), cmp_stage_cost);
    return CB_OK;
}

static void manager_free(Manager *m)
{
    for (int k = 0; k < m->s->n_stages; ++k) free(m->stage_tasks[k]);
    free(m->stage_tasks);
    free(m->stage_ntasks);
    free(m->task_state);
    free(m->stage_state);
    free(m->stage_queue);
    free(m->ready);
    free(m->held);
    free(m->held_at);
    free(m->n_held);
    free(m->last_done);
    free(m->ready_seen);
    free(m->stop_sent);
    free(m->gone);
    free(m->train_prog);
}

/* May a rank that already holds an item get a second (queued) one? Only when items
 * are short (then the round trip to the manager matters) and plenty of ready tasks
 * remain (so the end of the sweep still balances). */
static int may_queue(const Manager *m)
{
    return m->item_s > 0 && m->item_s < 0.5 && m->stage_head == m->n_stage_queue &&
           m->n_ready - m->ready_head > m->workers;
}

/* Next item to hand out, or NO_ITEM. */
static int next_item(Manager *m)
{
    if (m->stage_head < m->n_stage_queue) {
        int k = m->stage_queue[m->stage_head++];
        m->stage_state[k] = S_TRAINING;
        return -(k + 1);
    }
    if (m->ready_head < m->n_ready) {
        int i = m->ready[m->ready_head++];
        m->task_state[i] = T_RUNNING;
        return i;
    }
    return NO_ITEM;
}

static CbStatus record_done(Manager *m, const unsigned char *buf, size_t len)
{
    int task;
    CB_TRY(cb_results_add(m->r, buf, len, &task));
    if (m->task_state[task] != T_DONE) {
        m->task_state[task] = T_DONE;
        --m->n_pending;
        if (++m->done_this_run == 1) m->t_first = mono_now();
        m->failed_this_run += m->r->done[task]->failed != 0;
    }
    return CB_OK;
}

/* An environmental failure on `rank`: remember the first, stop handing out work. */
static void env_failure(Manager *m, int rank, const char *what, const unsigned char *why, size_t n)
{
    if (!m->env_stop)
        snprintf(m->env_why, sizeof m->env_why, "%s on rank %d: %.*s", what, rank, (int)(n < 400 ? n : 400),
                 (const char *)why);
    m->env_stop = 1;
}

static CbStatus stage_done(Manager *m, const unsigned char *buf, size_t len, int rank)
{
    int32_t hdr[2];
    memcpy(hdr, buf, 8);
    int k = hdr[0];
    if (k < 0 || k >= m->s->n_stages) return CB_ERR(CB_EMPI, "rank %d reported an unknown stage %d", rank, k);
    if (hdr[1] == -2) { /* stopped on request: checkpointed, continued by the next run */
        m->stage_state[k] = S_QUEUED;
        fprintf(stderr, "cbound: training stage %s stopped: %.*s\n", m->s->stages[k].key_hex,
                (int)(len - 8 < 200 ? len - 8 : 200), (const char *)buf + 8);
        return CB_OK;
    }
    if (hdr[1] < 0) { /* not the stage's fault: it stays untrained, its tasks pending */
        char what[64];
        snprintf(what, sizeof what, "training stage %s", m->s->stages[k].key_hex);
        env_failure(m, rank, what, buf + 8, len - 8);
        m->stage_state[k] = S_QUEUED;
        return CB_OK;
    }
    if (hdr[1]) {
        m->stage_state[k] = S_READY;
        push_ready(m, m->stage_tasks[k], m->stage_ntasks[k]);
        return CB_OK;
    }
    /* Training failed: every pending task of the stage becomes a failed row. */
    m->stage_state[k] = S_FAILED;
    char why[256];
    snprintf(why, sizeof why, "training stage %s failed: %.*s", m->s->stages[k].key_hex, (int)(len - 8 < 200 ? len - 8 : 200),
             (const char *)buf + 8);
    if (!m->o->quiet) fprintf(stderr, "cbound: %s\n", why);
    double now = cb_results_now();
    for (int j = 0; j < m->stage_ntasks[k]; ++j) {
        int i = m->stage_tasks[k][j];
        CbRecord rec;
        memset(&rec, 0, sizeof rec);
        rec.task = i;
        snprintf(rec.key, sizeof rec.key, "%s", m->s->tasks[i].key_hex);
        rec.failed = 1;
        rec.worker = rank;
        rec.t_start = rec.t_end = now;
        snprintf(rec.reason, sizeof rec.reason, "%s", why);
        cb_result_init(&rec.res, 0);
        size_t n;
        unsigned char *p = cb_record_pack(&rec, &n);
        cb_record_free(&rec);
        CbStatus st = record_done(m, p, n);
        free(p);
        CB_TRY(st);
    }
    return CB_OK;
}

static CbStatus handle(Manager *m, int rank, int tag, const unsigned char *buf, size_t len)
{
    if (tag == TAG_READY) {
        m->ready_seen[rank] = 1;
        return CB_OK;
    }
    if (tag == TAG_PROGRESS) { /* f64 stage (-1: none), epoch, epochs, loss */
        double pm[4] = {-1, 0, 0, 0};
        if (len >= sizeof pm) memcpy(pm, buf, sizeof pm);
        int k = (int)pm[0];
        if (k >= 0 && k < m->s->n_stages) {
            m->train_prog[k][0] = pm[1];
            m->train_prog[k][1] = pm[2];
            m->train_prog[k][2] = pm[3];
        }
        return CB_OK;
    }
    if (tag == TAG_SIGNAL) { /* a worker was signalled: i32 its signal count */
        int32_t n = 1;
        if (len >= 4) memcpy(&n, buf, 4);
        if (n > m->remote_signals) m->remote_signals = n;
        if (!m->o->quiet || n == 1) fprintf(stderr, "cbound: rank %d received a stop signal\n", rank);
        return CB_OK;
    }
    if (tag == TAG_BYE) { /* items it still held were never started */
        m->gone[rank] = 1;
        m->n_running -= m->n_held[rank];
        m->n_held[rank] = 0;
        return CB_OK;
    }
    if (m->n_held[rank] > 0) { /* results come back in hand-out order */
        double now = mono_now(), from = m->held_at[rank][0];
        if (m->last_done[rank] > from) from = m->last_done[rank]; /* it was queued behind another */
        double t = now - from;
        m->busy += t;
        m->item_s = m->item_s > 0 ? 0.9 * m->item_s + 0.1 * t : t;
        m->last_done[rank] = now;
        for (int j = 1; j < m->n_held[rank]; ++j) {
            m->held[rank][j - 1] = m->held[rank][j];
            m->held_at[rank][j - 1] = m->held_at[rank][j];
        }
        --m->n_held[rank];
        --m->n_running;
    }
    if (tag == TAG_RESULT) return record_done(m, buf, len);
    if (tag == TAG_STAGE) return stage_done(m, buf, len, rank);
    if (tag == TAG_ENV && len >= 4) {
        int32_t task;
        memcpy(&task, buf, 4);
        if (task < 0 || task >= m->s->n_tasks) return CB_ERR(CB_EMPI, "rank %d reported an unknown task %d", rank, task);
        m->task_state[task] = T_PENDING; /* not recorded: a resume runs it again */
        char what[64];
        snprintf(what, sizeof what, "task %s", m->s->tasks[task].key_hex);
        env_failure(m, rank, what, buf + 4, len - 4);
        return CB_OK;
    }
    return CB_ERR(CB_EMPI, "rank %d sent a message with unknown tag %d", rank, tag);
}

static void fmt_duration(double s, char *buf, size_t len)
{
    if (!isfinite(s) || s < 0) snprintf(buf, len, "?");
    else if (s < 120) snprintf(buf, len, "%.0fs", s);
    else if (s < 3600) snprintf(buf, len, "%.0fm%02.0fs", floor(s / 60), floor(fmod(s, 60)));
    else snprintf(buf, len, "%.0fh%02.0fm", floor(s / 3600), fmod(floor(s / 60), 60));
}

static void progress(Manager *m, double now)
{
    const CbSweep *s = m->s;
    int stages_total = 0, stages_ready = 0;
    for (int k = 0; k < s->n_stages; ++k) {
        stages_total += m->stage_state[k] != S_NONE;
        stages_ready += m->stage_state[k] == S_READY || m->stage_state[k] == S_FAILED;
    }
    /* The rate counts the results after this run's first, over the time since it: the start-up
     * (data, training the models) would otherwise stretch the ETA by its whole length. The
     * ETA waits for a few results ("?" until then). */
    double el = now - m->t0, since = now - m->t_first;
    int after = m->done_this_run - 1;
    double rate = after > 0 && since > 0 ? after / since : 0;
    char eta[32], elapsed[32];
    fmt_duration(after >= 3 && rate > 0 ? m->n_pending / rate : NAN, eta, sizeof eta);
    fmt_duration(el, elapsed, sizeof elapsed);
    /* Models in training: epoch k/N and the last epoch's training loss. */
    char tr[512] = "";
    pthread_mutex_lock(&prog_lock);
    if (prog.stage >= 0 && prog.stage < s->n_stages) {
        m->train_prog[prog.stage][0] = prog.epoch;
        m->train_prog[prog.stage][1] = prog.epochs;
        m->train_prog[prog.stage][2] = prog.loss;
    }
    pthread_mutex_unlock(&prog_lock);
    for (int k = 0, shown = 0; k < s->n_stages; ++k) {
        if (m->stage_state[k] != S_TRAINING) continue;
        size_t at = strlen(tr);
        if (shown++ == 4) {
            snprintf(tr + at, sizeof tr - at, " ...");
            break;
        }
        if (m->train_prog[k][1] > 0)
            snprintf(tr + at, sizeof tr - at, " %.8s epoch %.0f/%.0f loss %.4g", s->stages[k].key_hex,
                     m->train_prog[k][0], m->train_prog[k][1], m->train_prog[k][2]);
        else
            snprintf(tr + at, sizeof tr - at, " %.8s starting", s->stages[k].key_hex);
    }
    /* A worker holds up to DEPTH items: one running, the others queued behind it. */
    int busy = 0;
    for (int rank = 0; rank < m->size; ++rank) busy += m->n_held[rank] > 0;
    printf("cbound: [%s] %d/%d tasks done, %d failed | models %d/%d%s%s | %d running, %d queued | %.3g tasks/s | "
           "ETA %s\n", elapsed, m->r->n_done, s->n_tasks, m->r->n_failed, stages_ready, stages_total,
           tr[0] ? " | training:" : "", tr, busy, m->n_running - busy, rate, eta);
    fflush(stdout);
}

static CbStatus flush_h5(Manager *m)
{
    pthread_mutex_lock(&h5_lock);
    CbStatus st = cb_results_sync(m->r, 1);
    if (st == CB_OK) st = cb_results_write(m->r);
    pthread_mutex_unlock(&h5_lock);
    return st;
}

/* "SWEEP" or "--shard I/N SWEEP": what `cbound run --resume` needs to continue this run. */
static const char *run_args(const CbSweep *s)
{
    static char buf[1200];
    if (s->shard_n > 0) snprintf(buf, sizeof buf, "--shard %d/%d %s", s->shard_i, s->shard_n, s->file);
    else snprintf(buf, sizeof buf, "%s", s->file);
    return buf;
}

/* Returns 0 (done), 3 (stopped), 1 (error). */
static int manager_loop(Manager *m)
{
    const CbFarmOpts *o = m->o;
    int stopping = 0, abandoned = 0;
    double t_stop = 0;
    CbStatus st = CB_OK;
    size_t cap = 1 << 16;
    unsigned char *buf = cb_malloc(cap);
    for (int idle = 0;; ++idle) {
        double now = mono_now();
        /* Signals: first one stops dispatching; a second one, or the grace
         * period running out, abandons running items. */
        int sig = cb_farm_stop_requested();
        if (m->remote_signals > sig) sig = m->remote_signals;
        if ((sig || m->env_stop) && !stopping) {
            stopping = 1;
            t_stop = now;
            work_stop = 1; /* rank 0's own stage in training checkpoints and ends */
            if (m->env_stop)
                fprintf(stderr, "cbound: error: %s\ncbound: stopping: no new tasks; waiting up to %.0f s for %d running "
                                "item%s\n", m->env_why, o->grace, m->n_running, m->n_running == 1 ? "" : "s");
            else
                fprintf(stderr, "cbound: stop requested (signal): no new tasks; waiting up to %.0f s for %d running "
                                "item%s\n", o->grace, m->n_running, m->n_running == 1 ? "" : "s");
            /* Save what is finished at once: a job killed during the grace period keeps it. */
            if (sig) {
                st = flush_h5(m);
                if (st != CB_OK) break;
            }
        }
        if (stopping && m->n_running > 0 && (sig > 1 || now - t_stop > o->grace)) {
            abandoned = m->n_running;
            break;
        }
        /* Local worker's results (at most DEPTH). */
        if (m->local) {
            int n = 0;
            unsigned char *bufs[DEPTH];
            size_t lens[DEPTH];
            int tags[DEPTH];
            pthread_mutex_lock(&m->local->mu);
            for (; n < m->local->n_out; ++n) {
                bufs[n] = m->local->out[n].buf;
                lens[n] = m->local->out[n].len;
                tags[n] = m->local->out[n].tag;
            }
            m->local->n_out = 0;
            if (stopping && m->local->n_in) { /* queued, not started: drop */
                m->n_held[0] -= m->local->n_in;
                m->n_running -= m->local->n_in;
                m->local->n_in = 0;
            }
            pthread_mutex_unlock(&m->local->mu);
            for (int j = 0; j < n; ++j) {
                if (st == CB_OK) st = handle(m, 0, tags[j], bufs[j], lens[j]);
                free(bufs[j]);
                idle = 0;
            }
            if (st != CB_OK) break;
        }
        /* Messages from remote workers. */
        int flag = 0;
        MPI_Status ms;
        if (m->size > 1) {
            if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, m->comm, &flag, &ms) != MPI_SUCCESS) {
                st = CB_ERR(CB_EMPI, "MPI_Iprobe failed (a worker died?)");
                break;
            }
        }
        if (flag) {
            int count;
            MPI_Get_count(&ms, MPI_BYTE, &count);
            if ((size_t)count > cap) buf = cb_realloc(buf, cap = (size_t)count);
            if (MPI_Recv(buf, count, MPI_BYTE, ms.MPI_SOURCE, ms.MPI_TAG, m->comm, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
                st = CB_ERR(CB_EMPI, "receiving from rank %d failed (did it die?)", ms.MPI_SOURCE);
                break;
            }
            st = handle(m, ms.MPI_SOURCE, ms.MPI_TAG, buf, (size_t)count);
            if (st != CB_OK) break;
            idle = 0;
        }
        /* Hand out work (or STOP). A rank gets a second, queued item only while
         * plenty of ready tasks remain, so the tail of the sweep still balances. */
        for (int rank = 1; rank < m->size && st == CB_OK; ++rank) {
            if (!m->ready_seen[rank] || m->stop_sent[rank]) continue;
            if (stopping || (m->n_pending == 0 && m->n_running == 0)) {
                int none = 0;
                if (MPI_Send(&none, 1, MPI_INT, rank, TAG_STOP, m->comm) != MPI_SUCCESS)
                    st = CB_ERR(CB_EMPI, "sending STOP to rank %d failed", rank);
                m->stop_sent[rank] = 1;
                continue;
            }
            while (m->n_held[rank] < DEPTH) {
                if (m->n_held[rank] > 0 && !may_queue(m)) break;
                int item = next_item(m);
                if (item == NO_ITEM) break;
                if (MPI_Send(&item, 1, MPI_INT, rank, TAG_WORK, m->comm) != MPI_SUCCESS) {
                    st = CB_ERR(CB_EMPI, "sending work to rank %d failed", rank);
                    break;
                }
                m->held[rank][m->n_held[rank]] = item;
                m->held_at[rank][m->n_held[rank]++] = mono_now();
                ++m->n_running;
            }
        }
        if (st != CB_OK) break;
        while (m->local && !stopping && m->n_held[0] < DEPTH) {
            if (m->n_held[0] > 0 && !may_queue(m)) break;
            int item = next_item(m);
            if (item == NO_ITEM) break;
            pthread_mutex_lock(&m->local->mu);
            m->local->in[m->local->n_in++] = item;
            pthread_cond_signal(&m->local->cv);
            pthread_mutex_unlock(&m->local->mu);
            m->held[0][m->n_held[0]] = item;
            m->held_at[0][m->n_held[0]++] = mono_now();
            ++m->n_running;
        }
        /* Finished? */
        int remote_left = 0;
        for (int rank = 1; rank < m->size; ++rank) remote_left += !m->gone[rank];
        if ((m->n_pending == 0 || stopping) && m->n_running == 0 && remote_left == 0) break;
        if (m->n_running == 0 && m->n_pending > 0 && !stopping && m->stage_head == m->n_stage_queue &&
            m->ready_head == m->n_ready) {
            st = CB_ERR(CB_EINVAL, "internal error: %d tasks are pending but none can run", m->n_pending);
            break;
        }
        /* Periodic: journal sync, .h5 rebuild, progress. */
        /* A rebuild costs time linear in the finished tasks: spacing rebuilds by 20x
         * the last one's duration keeps them under ~5% of the run (not quadratic). */
        if (now - m->last_flush > o->flush_every && now - m->last_flush > 20 * m->r->write_s) {
            st = flush_h5(m);
            m->last_flush = now;
            if (st != CB_OK) break;
        }
        if (!o->quiet && now - m->last_progress > o->progress_every) {
            progress(m, now);
            m->last_progress = now;
        }
        /* Poll again soon enough that a result waits ~1% of an item's time
         * (between 5 µs and 10 ms): short items get low latency, long ones a quiet
         * manager. */
        double nap = m->item_s > 0 ? 0.01 * m->item_s : 1e-3;
        backoff(idle, nap < 5e-6 ? 5e-6 : nap > 1e-2 ? 1e-2 : nap);
    }
    free(buf);
    if (st != CB_OK) {
        /* The manager's own failure: writing the journal or the file (disk full, I/O:
         * environmental, exit 5) or a broken worker (exit 1). */
        int env = cb_farm_status_environmental(st) && st != CB_EMPI;
        m->broke = 1;
        cb_err_report("cbound");
        CbStatus st2 = flush_h5(m);
        if (st2 == CB_OK || env)
            fprintf(stderr, "cbound: %d finished tasks are saved in %s; %sresume with `cbound run --resume %s`\n",
                    m->r->n_done, m->r->journal_path, env ? "free space or fix the file system, then " : "",
                    run_args(m->s));
        return env ? 5 : 1;
    }
    CbStatus fs = flush_h5(m);
    if (fs != CB_OK) {
        m->broke = 1;
        cb_err_report("cbound");
        if (cb_farm_status_environmental(fs))
            fprintf(stderr, "cbound: the journal %s holds every finished task; free space or fix the file system, "
                            "then `cbound run --resume %s`\n", m->r->journal_path, run_args(m->s));
        return cb_farm_status_environmental(fs) ? 5 : 1;
    }
    if (!o->quiet) {
        double now = mono_now(), wall = now - m->t0;
        int workers = m->workers;
        progress(m, now);
        /* Farm efficiency: the fraction of the workers' time spent inside items (from
         * hand-out to result), i.e. not waiting for the manager or for ready work. */
        if (wall > 0 && workers > 0)
            printf("cbound: workers busy %.1f%% of %d x %.1f s\n", 100 * m->busy / (workers * wall), workers, wall);
    }
    if (stopping && m->env_stop) {
        fprintf(stderr,
                "cbound: stopped by an environmental failure with %d of %d tasks done; the rest stay pending.\n"
                "cbound: %s\n"
                "cbound: results so far: %s (journal %s)\n"
                "cbound: fix the cause (disk space, file system, memory), then:  cbound run --resume %s\n",
                m->r->n_done, m->s->n_tasks, m->env_why, m->s->output, m->r->journal_path, run_args(m->s));
        return abandoned ? -5 : 5;
    }
    if (stopping) {
        char ab[64] = "";
        if (abandoned) snprintf(ab, sizeof ab, " (%d running item%s abandoned)", abandoned, abandoned == 1 ? "" : "s");
        fprintf(stderr,
                "cbound: stopped by a signal with %d of %d tasks done%s.\n"
                "cbound: results so far: %s (journal %s)\n"
                "cbound: to continue:  cbound run --resume %s\n",
                m->r->n_done, m->s->n_tasks, ab, m->s->output, m->r->journal_path, run_args(m->s));
        return abandoned ? -3 : 3;
    }
    return 0;
}

/* ------------------------------------------------------------------ entry */

int cb_farm_run(const CbSweep *s, CbResults *r, const CbFarmOpts *o, MPI_Comm comm)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* short sleeps in the polling loops */
    ckpt_every = o->checkpoint_every;
    if (rank != 0) return worker_loop(s, comm, rank);

    Manager m;
    memset(&m, 0, sizeof m);
    m.s = s;
    m.r = r;
    m.o = o;
    m.comm = comm;
    m.size = size;
    m.t0 = m.last_progress = m.last_flush = mono_now();
    manager_init(&m);
    m.workers = size - 1 + (o->local_worker || size == 1);
    Local local;
    if (o->local_worker || size == 1) {
        local_start(&local, s, 0);
        m.local = &local;
    }
    if (!o->quiet) {
        int queued = m.n_stage_queue;
        printf("cbound: %s: %d tasks (%d done before), %d model%s to train, %d rank%s%s\n", s->name, s->n_tasks,
               r->n_reloaded, queued, queued == 1 ? "" : "s", size, size == 1 ? "" : "s",
               m.local ? " (rank 0 manages and works)" : " (rank 0 manages)");
        fflush(stdout);
    }
    int rc = manager_loop(&m);
    if (rc < 0 || m.broke) {
        /* Items still running: they cannot be interrupted safely; the file is
         * written, so end the job (MPI_Abort ends every rank). */
        if (rc < 0 || m.n_running > 0) {
            fflush(stdout);
            fflush(stderr);
            MPI_Abort(comm, rc < 0 ? -rc : rc);
        }
    }
    if (m.local) local_stop(&local);
    /* On error, remote workers may still wait for work: end them. */
    if (m.broke && size > 1) {
        fflush(stderr);
        MPI_Abort(comm, rc);
    }
    manager_free(&m);
    return rc;
}
