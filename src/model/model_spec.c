/*
 * model_spec — the training stage: the settings that determine a trained model
 * (CbTrainSpec), their canonical text and stream key, and cb_model_train.
 *
 * The text is flat YAML, one "key: value" line per field, from one table (FIELDS)
 * that both the printer and the parser walk, so text -> spec -> text is the
 * identity. Two forms:
 *   full       every field, stored in the model file as train_config;
 *   canonical  what the stream key hashes: fields marked UNKEYED (paths, the
 *              stream seed, progress output) and fields at their default value
 *              are left out, so adding an option later keeps existing keys
 *              (OpenLTH's rule, /work/shared/ANCHORS.md).
 * Stream key = cb_rng_hash64(canonical text); with the seed it names every
 * stream of the stage (init: CB_RNG_INIT, shuffling: CB_RNG_DATA_ORDER), so the
 * same settings and seed give the same model bytes.
 */
#include "cbound/model.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ defaults */

void cb_model_spec_default(CbTrainSpec *s)
{
    memset(s, 0, sizeof *s);
    cb_data_spec_default(&s->data);
    s->depth = 2;
    s->widths[0] = 0;   /* from the data */
    s->widths[1] = 784;
    s->widths[2] = 0;   /* from the data */
    s->act = CB_ACT_RELU;
    s->beta = 1.0;
    s->bias = 1;
    s->init = CB_INIT_KAIMING_UNIFORM;
    s->sigma = 1.0;
    cb_train_config_default(&s->train);
}

CbStatus cb_model_spec_resolve(CbTrainSpec *s, const CbData *train)
{
    if (s->depth < 1 || s->depth > CB_MODEL_MAX_DEPTH)
        return CB_ERR(CB_EINVAL, "model depth must be 1 .. %d, got %d", CB_MODEL_MAX_DEPTH, s->depth);
    size_t n_out = train->n_classes ? train->n_classes : train->n_targets;
    if (s->widths[0] == 0) s->widths[0] = train->d;
    if (s->widths[s->depth] == 0) s->widths[s->depth] = n_out;
    if (s->widths[0] != train->d) {
        CbStatus st = CB_ERR(CB_EINVAL, "model input width %zu does not match the data (%s has %zu features)",
                             s->widths[0], train->name, train->d);
        cb_err_hint("the first of --widths is the input dimension; use 0 to take it from the data");
        return st;
    }
    if (s->widths[s->depth] != n_out) {
        CbStatus st = CB_ERR(CB_EINVAL, "model output width %zu does not match the data (%s has %zu %s)",
                             s->widths[s->depth], train->name, n_out, train->n_classes ? "classes" : "targets");
        cb_err_hint("the last of --widths is the number of classes; use 0 to take it from the data");
        return st;
    }
    for (int l = 1; l < s->depth; ++l)
        if (s->widths[l] == 0) return CB_ERR(CB_EINVAL, "hidden width %d is 0", l);
    if (!train->n_classes) s->train.loss = CB_LOSS_MSE; /* regression; labels may use either loss */
    return CB_OK;
}

/* ------------------------------------------------------------------ field table */

typedef enum { F_STR, F_DBL, F_SIZE, F_INT, F_U64, F_ACT, F_INIT, F_LOSS, F_OPT, F_SCALE, F_WIDTHS, F_DROPS } FType;

typedef struct {
    const char *key;
    FType type;
    size_t off;
    size_t size;   /* F_STR: buffer size */
    int unkeyed;   /* 1: not part of the stream key (does not change the result) */
} Field;

#define S(member) offsetof(CbTrainSpec, member)
static const Field FIELDS[] = {
    {"data", F_STR, S(data.kind), sizeof(((CbDataSpec *)0)->kind), 0},
    {"data_path", F_STR, S(data.path), sizeof(((CbDataSpec *)0)->path), 1},
    {"data_test_path", F_STR, S(data.test_path), sizeof(((CbDataSpec *)0)->test_path), 1},
    {"data_test_fraction", F_DBL, S(data.test_fraction), 0, 0},
    {"data_target", F_STR, S(data.target), sizeof(((CbDataSpec *)0)->target), 0},
    {"data_regression", F_INT, S(data.regression), 0, 0},
    {"n_train", F_SIZE, S(data.n_train), 0, 0},
    {"n_test", F_SIZE, S(data.n_test), 0, 0},
    {"random_subset", F_INT, S(data.random_subset), 0, 0},
    {"scale", F_SCALE, S(data.scale), 0, 0},
    {"data_dim", F_SIZE, S(data.dim), 0, 0},
    {"data_classes", F_SIZE, S(data.n_classes), 0, 0},
    {"teacher_width", F_SIZE, S(data.teacher_width), 0, 0},
    {"noise", F_DBL, S(data.noise), 0, 0},
    {"data_seed", F_U64, S(data.seed), 0, 0},
    {"data_content", F_STR, S(data.content), sizeof(((CbDataSpec *)0)->content), 0},
    {"features", F_STR, S(data.features), sizeof(((CbDataSpec *)0)->features), 0},
    {"conv_filters", F_SIZE, S(data.conv_filters), 0, 0},
    {"conv_pool", F_SIZE, S(data.conv_pool), 0, 0},
    {"conv_gain", F_DBL, S(data.conv_gain), 0, 0},
    {"widths", F_WIDTHS, 0, 0, 0},
    {"activation", F_ACT, S(act), 0, 0},
    {"beta", F_DBL, S(beta), 0, 0},
    {"bias", F_INT, S(bias), 0, 0},
    {"init", F_INIT, S(init), 0, 0},
    {"sigma", F_DBL, S(sigma), 0, 0},
    {"loss", F_LOSS, S(train.loss), 0, 0},
    {"opt", F_OPT, S(train.opt), 0, 0},
    {"lr", F_DBL, S(train.lr), 0, 0},
    {"momentum", F_DBL, S(train.momentum), 0, 0},
    {"weight_decay", F_DBL, S(train.weight_decay), 0, 0},
    {"adam_beta1", F_DBL, S(train.beta1), 0, 0},
    {"adam_beta2", F_DBL, S(train.beta2), 0, 0},
    {"adam_eps", F_DBL, S(train.eps), 0, 0},
    {"epochs", F_INT, S(train.epochs), 0, 0},
    {"batch", F_SIZE, S(train.batch), 0, 0},
    {"drops", F_DROPS, 0, 0, 0},
    {"drop_factor", F_DBL, S(train.drop_factor), 0, 0},
    {"stop_ce", F_DBL, S(train.stop_ce), 0, 0},
    {"seed", F_U64, S(train.seed), 0, 1},
};
#undef S
static const int N_FIELDS = (int)(sizeof FIELDS / sizeof FIELDS[0]);

static const char *const INIT_NAMES[] = {"kaiming", "gaussian"};
static const char *const LOSS_NAMES[] = {"cross-entropy", "mse"};
static const char *const OPT_NAMES[] = {"sgd", "adam"};

/* Value of field f of s as text (strings quoted, numbers exact). */
static void field_value(const Field *f, const CbTrainSpec *s, char *buf, size_t len)
{
    const char *p = (const char *)s + f->off;
    size_t n = 0;
    switch (f->type) {
    case F_STR: {
        n += (size_t)snprintf(buf, len, "\"");
        for (const char *c = p; *c && n + 3 < len; ++c) {
            if (*c == '"' || *c == '\\') buf[n++] = '\\';
            buf[n++] = *c;
        }
        snprintf(buf + n, len - n, "\"");
        break;
    }
    case F_DBL: { /* shortest of %.15g / %.17g that reads back exactly */
        double x = *(const double *)p;
        snprintf(buf, len, "%.15g", x);
        if (strtod(buf, NULL) != x) snprintf(buf, len, "%.17g", x);
        break;
    }
    case F_SIZE: snprintf(buf, len, "%zu", *(const size_t *)p); break;
    case F_INT: snprintf(buf, len, "%d", *(const int *)p); break;
    case F_U64: snprintf(buf, len, "%" PRIu64, *(const uint64_t *)p); break;
    case F_ACT: snprintf(buf, len, "%s", cb_mlp_act_name(*(const CbAct *)p)); break;
    case F_INIT: snprintf(buf, len, "%s", INIT_NAMES[*(const CbInit *)p == CB_INIT_GAUSSIAN]); break;
    case F_LOSS: snprintf(buf, len, "%s", LOSS_NAMES[*(const CbLoss *)p == CB_LOSS_MSE]); break;
    case F_OPT: snprintf(buf, len, "%s", OPT_NAMES[*(const CbOpt *)p == CB_OPT_ADAM]); break;
    case F_SCALE: snprintf(buf, len, "%s", cb_data_scale_name(*(const CbScale *)p)); break;
    case F_WIDTHS:
    case F_DROPS: {
        int count = f->type == F_WIDTHS ? s->depth + 1 : s->train.n_drops;
        n += (size_t)snprintf(buf, len, "[");
        for (int i = 0; i < count && n < len; ++i)
            n += (size_t)snprintf(buf + n, len - n, "%s%zu", i ? ", " : "",
                                  f->type == F_WIDTHS ? s->widths[i] : (size_t)s->train.drop_epochs[i]);
        if (n < len) snprintf(buf + n, len - n, "]");
        break;
    }
    }
}

char *cb_model_spec_text(const CbTrainSpec *s, int full)
{
    CbTrainSpec def;
    cb_model_spec_default(&def);
    size_t cap = 8192, n = 0;
    char *out = cb_malloc(cap);
    out[0] = '\0';
    char val[3 * 1024], dval[3 * 1024];
    for (int i = 0; i < N_FIELDS; ++i) {
        const Field *f = &FIELDS[i];
        field_value(f, s, val, sizeof val);
        if (!full) {
            if (f->unkeyed) continue;
            field_value(f, &def, dval, sizeof dval);
            if (!strcmp(val, dval)) continue;
        }
        size_t need = strlen(f->key) + strlen(val) + 4;
        if (n + need >= cap) out = cb_realloc(out, cap = 2 * cap + need);
        n += (size_t)snprintf(out + n, cap - n, "%s: %s\n", f->key, val);
    }
    return out;
}

uint64_t cb_model_spec_key(const CbTrainSpec *s)
{
    char *text = cb_model_spec_text(s, 0);
    uint64_t k = cb_rng_hash64(text, strlen(text), CB_RNG_HASH_INIT);
    free(text);
    return k;
}

/* ------------------------------------------------------------------ parse */

static CbStatus bad_value(const char *where, int line, const char *key, const char *val, const char *expected)
{
    return CB_ERR(CB_EINVAL, "%s:%d: %s: expected %s, found '%s'", where, line, key, expected, val);
}

static int parse_u64(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-') return 0;
    *out = x;
    return 1;
}

/* "[a, b, c]" -> values (at most max) */
static int parse_list(const char *v, size_t *vals, int max)
{
    if (*v++ != '[') return -1;
    int n = 0;
    while (*v == ' ') ++v;
    if (*v == ']') return v[1] ? -1 : 0;
    for (;;) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || end == v || *v == '-' || n == max) return -1;
        vals[n++] = (size_t)x;
        v = end;
        while (*v == ' ') ++v;
        if (*v == ']') return v[1] ? -1 : n;
        if (*v++ != ',') return -1;
        while (*v == ' ') ++v;
    }
}

static CbStatus parse_field(const Field *f, const char *v, const char *where, int line, CbTrainSpec *s)
{
    char *p = (char *)s + f->off;
    switch (f->type) {
    case F_STR: {
        size_t len = strlen(v), n = 0;
        if (len < 2 || v[0] != '"' || v[len - 1] != '"') return bad_value(where, line, f->key, v, "a quoted string");
        for (size_t i = 1; i + 1 < len; ++i) {
            if (v[i] == '\\' && i + 2 < len) ++i;
            if (n + 1 >= f->size) return bad_value(where, line, f->key, v, "a shorter string");
            p[n++] = v[i];
        }
        p[n] = '\0';
        return CB_OK;
    }
    case F_DBL: {
        char *end;
        double x = strtod(v, &end);
        if (end == v || *end) return bad_value(where, line, f->key, v, "a number");
        *(double *)p = x;
        return CB_OK;
    }
    case F_SIZE:
    case F_INT:
    case F_U64: {
        uint64_t x;
        if (!parse_u64(v, &x) || (f->type == F_INT && x > 1000000000))
            return bad_value(where, line, f->key, v, "a non-negative integer");
        if (f->type == F_SIZE) *(size_t *)p = (size_t)x;
        else if (f->type == F_INT) *(int *)p = (int)x;
        else *(uint64_t *)p = x;
        return CB_OK;
    }
    case F_ACT:
        if (cb_mlp_act_parse(v, (CbAct *)p) != CB_OK)
            return bad_value(where, line, f->key, v, "relu, identity, tanh or softplus");
        return CB_OK;
    case F_INIT:
    case F_LOSS:
    case F_OPT: {
        const char *const *names = f->type == F_INIT ? INIT_NAMES : f->type == F_LOSS ? LOSS_NAMES : OPT_NAMES;
        for (int i = 0; i < 2; ++i)
            if (!strcmp(v, names[i])) {
                *(int *)p = i; /* enums with values 0, 1 in the order of names */
                return CB_OK;
            }
        char exp[64];
        snprintf(exp, sizeof exp, "%s or %s", names[0], names[1]);
        return bad_value(where, line, f->key, v, exp);
    }
    case F_SCALE:
        if (cb_data_scale_parse(v, (CbScale *)p) != CB_OK)
            return bad_value(where, line, f->key, v, "none, unit, standardize, auto or signed");
        return CB_OK;
    case F_WIDTHS: {
        int n = parse_list(v, s->widths, CB_MODEL_MAX_DEPTH + 1);
        if (n < 2) return bad_value(where, line, f->key, v, "a list of at least 2 widths like [784, 784, 10]");
        s->depth = n - 1;
        return CB_OK;
    }
    case F_DROPS: {
        size_t d[8];
        int n = parse_list(v, d, 8);
        if (n < 0) return bad_value(where, line, f->key, v, "a list of at most 8 epochs like [30, 60]");
        s->train.n_drops = n;
        for (int i = 0; i < n; ++i) s->train.drop_epochs[i] = (int)d[i];
        return CB_OK;
    }
    }
    return CB_OK;
}

CbStatus cb_model_spec_parse(const char *text, const char *where, CbTrainSpec *s)
{
    cb_model_spec_default(s);
    int line = 0;
    const char *p = text;
    while (*p) {
        ++line;
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char buf[3 * 1024];
        if (len >= sizeof buf) return CB_ERR(CB_EINVAL, "%s:%d: line too long (%zu characters)", where, line, len);
        memcpy(buf, p, len);
        buf[len] = '\0';
        p += len + (eol ? 1 : 0);
        if (!buf[0] || buf[0] == '#') continue;
        char *colon = strstr(buf, ": ");
        if (!colon) return CB_ERR(CB_EINVAL, "%s:%d: expected 'key: value', found '%s'", where, line, buf);
        *colon = '\0';
        const Field *f = NULL;
        for (int i = 0; i < N_FIELDS && !f; ++i)
            if (!strcmp(FIELDS[i].key, buf)) f = &FIELDS[i];
        if (!f) {
            CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: unknown training setting '%s'", where, line, buf);
            cb_err_hint("known settings are those `cbound info` prints under 'training config'");
            return st;
        }
        CB_TRY(parse_field(f, colon + 2, where, line, s));
    }
    return CB_OK;
}

/* ------------------------------------------------------------------ train */

CbStatus cb_model_train(const CbTrainSpec *s, const CbData *train, const CbData *test, CbModel *out)
{
    memset(out, 0, sizeof *out);
    size_t n_out = train->n_classes ? train->n_classes : train->n_targets;
    if (s->depth < 1 || s->depth > CB_MODEL_MAX_DEPTH || s->widths[0] != train->d ||
        s->widths[s->depth] != n_out)
        return CB_ERR(CB_EINVAL, "cb_model_train: the spec is not resolved against %s (call cb_model_spec_resolve)",
                      train->name);
    uint64_t key = cb_model_spec_key(s);
    CB_TRY(cb_mlp_alloc(s->depth, s->widths, s->act, s->beta, s->bias, &out->mlp));
    cb_mlp_init(out->mlp, s->init, s->sigma, s->train.seed, key);
    out->init = cb_mlp_clone(out->mlp);
    CbTrainConfig c = s->train;
    c.key = key;
    if (c.epochs > 0) { /* the learning curve, saved in the model file as /curve */
        out->curve = cb_malloc((size_t)c.epochs * 3 * sizeof *out->curve);
        for (size_t i = 0; i < (size_t)c.epochs * 3; ++i) out->curve[i] = NAN;
        c.curve = out->curve;
    }
    CbStatus st = cb_train(out->mlp, &c, train, test, &out->metrics);
    if (st != CB_OK) {
        cb_model_free(out);
        return st;
    }
    out->n_curve = out->curve ? out->metrics.epochs_run : 0;
    out->train_config = cb_model_spec_text(s, 1);
    snprintf(out->dataset, sizeof out->dataset, "%s: train %zu x %zu (%s), test %zu", s->data.kind, train->n,
             train->d, train->name, test ? test->n : 0);
    cb_model_hash(out->mlp, out->content_hash);
    return CB_OK;
}
