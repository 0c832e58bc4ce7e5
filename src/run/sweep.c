/*
 * sweep — YAML sweep files: validation and expansion (see include/cbound/sweep.h).
 *
 * Parsing: libyaml loads the file into a yaml_document_t (a node tree whose
 * nodes keep their start line). The tree is walked once against SETTINGS, a
 * table of every scalar/list setting (YAML path, type, range, where its value
 * goes); `methods` is walked separately (name + grid). Every error is raised at
 * the node that caused it as "FILE:LINE: key 'a.b': expected ..., found ...".
 * Defaults come from the structs' own default functions (cb_model_spec_default,
 * measure_default), so the schema printed by `cbound run --schema` cannot drift.
 *
 * Grid values: a scalar, a list of scalars, or one of the generators
 *   {linspace: [a, b, n]}   n evenly spaced numbers from a to b inclusive (rounded
 *                           to 12 significant digits)
 *   {range: [a, b]} / {range: [a, b, step]}   integers a, a+step, ... < b
 *                           (|a|, |b|, step <= 2^53, where every integer is a double)
 * Sizes come before values: an axis holds at most 1,000,000 values and the sweep
 * at most 10,000,000 tasks, both checked before a value is made.
 * Values are canonicalized (numbers in their shortest round-trip form) before
 * they enter a key, so 0.50 and 0.5 are the same task.
 */
#include "cbound/sweep.h"
#include "cbound/err.h"
#include "cbound/method.h"
#include "cbound/rng.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <yaml.h>

/* ------------------------------------------------------------------ settings table */

typedef enum {
    T_STR, T_U64, T_SIZE, T_INT, T_DBL, T_BOOL, T_ACT, T_INIT, T_OPT, T_SCALE, T_KIND, T_FEAT,
    T_WIDTHS, T_SEEDS, T_DROPS, T_HIDDEN, T_FILES, T_LAYERS
} Type;

typedef enum { IN_TOP, IN_SPEC, IN_MEASURE } Target;

enum { LO_OPEN = 1, HI_OPEN = 2 };

typedef struct {
    const char *path;   /* YAML path, e.g. "train.lr"                              */
    Type type;
    Target target;
    size_t off;         /* offset in the target struct                             */
    size_t size;        /* T_STR: buffer size                                      */
    double lo, hi;      /* numeric range                                           */
    int open;           /* LO_OPEN / HI_OPEN                                       */
    const char *doc;
} Setting;

/* Top-level scalars live in this struct while parsing. */
typedef struct {
    char name[64];
    uint64_t seed;
    char output[1024];
    int hidden_layers;
} Top;

#define SP(m) IN_SPEC, offsetof(CbTrainSpec, m)
#define ME(m) IN_MEASURE, offsetof(CbMeasureOpts, m)
#define TO(m) IN_TOP, offsetof(Top, m)
#define STRSZ(t, m) sizeof(((t *)0)->m)
#define BIG 1e15
static const Setting SETTINGS[] = {
    {"name", T_STR, TO(name), STRSZ(Top, name), 0, 0, 0, "sweep name: letters, digits, '-', '_', '.' (default: file name)"},
    {"seed", T_U64, TO(seed), 0, 0, 0, 0, "sweep seed: keys every task's random streams"},
    {"output", T_STR, TO(output), STRSZ(Top, output), 0, 0, 0, "results file, must end in .h5 (default results/<name>.h5)"},
    {"seeds", T_SEEDS, IN_TOP, 0, 0, 0, 0, 0, "training seeds: one model per (width, seed)"},
    {"data.kind", T_KIND, SP(data.kind), STRSZ(CbDataSpec, kind), 0, 0, 0, "fashion-mnist, mnist, cifar10, csv or gaussian"},
    {"data.path", T_STR, SP(data.path), STRSZ(CbDataSpec, path), 0, 0, 0, "directory (idx, cifar10) or file (csv); \"\" = default location"},
    {"data.test_path", T_STR, SP(data.test_path), STRSZ(CbDataSpec, test_path), 0, 0, 0, "csv: separate test file"},
    {"data.test_fraction", T_DBL, SP(data.test_fraction), 0, 0, 1, LO_OPEN | HI_OPEN, "csv without test_path: fraction held out"},
    {"data.target", T_STR, SP(data.target), STRSZ(CbDataSpec, target), 0, 0, 0, "csv: target column name or index (\"\" = last)"},
    {"data.regression", T_BOOL, SP(data.regression), 0, 0, 0, 0, "csv/gaussian: real-valued target (MSE loss)"},
    {"data.n_train", T_SIZE, SP(data.n_train), 0, 0, BIG, 0, "training samples (0 = all)"},
    {"data.n_test", T_SIZE, SP(data.n_test), 0, 0, BIG, 0, "test samples (0 = all)"},
    {"data.random_subset", T_BOOL, SP(data.random_subset), 0, 0, 0, 0, "choose n_train/n_test at random (else the first n)"},
    {"data.scale", T_SCALE, SP(data.scale), 0, 0, 0, 0, "none, unit (x/255), signed (2 unit - 1), standardize or auto (unit for images)"},
    {"data.dim", T_SIZE, SP(data.dim), 0, 0, BIG, 0, "gaussian: input dimension"},
    {"data.n_classes", T_SIZE, SP(data.n_classes), 0, 0, BIG, 0, "gaussian: classes of the teacher"},
    {"data.teacher_width", T_SIZE, SP(data.teacher_width), 0, 0, BIG, 0, "gaussian: hidden width of the teacher"},
    {"data.noise", T_DBL, SP(data.noise), 0, 0, BIG, 0, "gaussian regression: target noise std"},
    {"data.seed", T_U64, SP(data.seed), 0, 0, 0, 0, "gaussian data / random subsets / csv split / feature map (default: sweep seed)"},
    {"data.features", T_FEAT, SP(data.features), STRSZ(CbDataSpec, features), 0, 0, 0, "none, conv or conv_abs: a fixed random feature map in front of the model, keyed by data.seed (images only; docs/data.md)"},
    {"data.conv_filters", T_SIZE, SP(data.conv_filters), 0, 1, CB_FEATURES_MAX_FILTERS, 0, "conv features: random 5x5 filters"},
    {"data.conv_pool", T_SIZE, SP(data.conv_pool), 0, 1, CB_FEATURES_MAX_POOL, 0, "conv features: average-pooling size (divides image size - 4)"},
    {"data.conv_gain", T_DBL, SP(data.conv_gain), 0, 0, BIG, LO_OPEN, "conv features: output gain, a bfloat16 value (10, 12, 0.125, ...)"},
    {"model.depth", T_INT, SP(depth), 0, 1, CB_MODEL_MAX_DEPTH, 0, "linear layers (hidden layers + 1)"},
    {"model.hidden_layers", T_HIDDEN, TO(hidden_layers), 0, 0, CB_MODEL_MAX_DEPTH - 1, 0, "alternative to depth: depth - 1"},
    {"model.widths", T_WIDTHS, IN_TOP, 0, 0, 1, 1e7, 0, "hidden widths: one model per entry, every hidden layer that wide (or model.layers)"},
    {"model.layers", T_LAYERS, IN_TOP, 0, 0, 0, 1e7, 0, "every width, input first ([784, 300, 100, 10]; 0 at either end = from the data), or a list of such lists: one model shape each"},
    {"model.file", T_FILES, IN_TOP, 0, 0, 0, 0, 0, "model files (cbound model HDF5, e.g. from torch_interop.py export): a path, a glob or a list; each file is a stage, nothing is trained"},
    {"model.activation", T_ACT, SP(act), 0, 0, 0, 0, "relu, identity, tanh or softplus"},
    {"model.beta", T_DBL, SP(beta), 0, 0, BIG, LO_OPEN, "softplus sharpness"},
    {"model.bias", T_BOOL, SP(bias), 0, 0, 0, 0, "layers have biases"},
    {"model.init", T_INIT, SP(init), 0, 0, 0, 0, "kaiming (PyTorch default) or gaussian"},
    {"model.sigma", T_DBL, SP(sigma), 0, 0, BIG, LO_OPEN, "gaussian init: W ~ N(0, sigma^2/fan_in)"},
    {"train.opt", T_OPT, SP(train.opt), 0, 0, 0, 0, "sgd or adam"},
    {"train.lr", T_DBL, SP(train.lr), 0, 0, BIG, LO_OPEN, "learning rate"},
    {"train.momentum", T_DBL, SP(train.momentum), 0, 0, 1, HI_OPEN, "SGD momentum"},
    {"train.weight_decay", T_DBL, SP(train.weight_decay), 0, 0, BIG, 0, "L2 added to the gradient"},
    {"train.adam_beta1", T_DBL, SP(train.beta1), 0, 0, 1, HI_OPEN, "Adam beta1"},
    {"train.adam_beta2", T_DBL, SP(train.beta2), 0, 0, 1, HI_OPEN, "Adam beta2"},
    {"train.adam_eps", T_DBL, SP(train.eps), 0, 0, BIG, LO_OPEN, "Adam epsilon"},
    {"train.epochs", T_INT, SP(train.epochs), 0, 1, 1e6, 0, "maximum epochs"},
    {"train.batch", T_SIZE, SP(train.batch), 0, 1, 1e8, 0, "minibatch size"},
    {"train.drops", T_DROPS, IN_SPEC, 0, 0, 1, 1e6, 0, "epochs at which lr *= drop_factor (at most 8)"},
    {"train.drop_factor", T_DBL, SP(train.drop_factor), 0, 0, 1, LO_OPEN, "learning-rate drop factor"},
    {"train.stop_ce", T_DBL, SP(train.stop_ce), 0, 0, BIG, 0, "> 0: stop when training cross-entropy < stop_ce"},
    {"measure.norms", T_BOOL, ME(norms), 0, 0, 0, 0, "spectral norms of W and Delta per layer"},
    {"measure.latala", T_BOOL, ME(latala), 0, 0, 0, 0, "Latala-norm bracket variants"},
    {"measure.mc_masks", T_INT, ME(mc_masks), 0, 0, 1e6, 0, "Monte Carlo mask replicates (0 = off)"},
    {"measure.sparsity", T_BOOL, ME(sparsity), 0, 0, 0, 0, "j_r / j_c vs 004 Lemma 5.1"},
    {"measure.margins", T_BOOL, ME(margins), 0, 0, 0, 0, "margins and generalization bounds"},
    {"measure.sketch", T_BOOL, ME(sketch), 0, 0, 0, 0, "sparse-matrix sketch recovery (slow)"},
    {"measure.norm_rtol", T_DBL, ME(norm_rtol), 0, 0, 1, LO_OPEN | HI_OPEN, "relative accuracy of spectral norms"},
    {"measure.code", T_INT, ME(code), 0, 0, 65536, 0, "N >= 2: code every compressed model with N k-means levels, Occam bound (0 = off)"},
};
#undef SP
#undef ME
#undef TO
static const int N_SETTINGS = (int)(sizeof SETTINGS / sizeof SETTINGS[0]);

static const char *const SECTIONS[] = {"data", "model", "train", "measure"};

/* 1 if key names one of SECTIONS (a mapping of settings). */
static int is_section(const char *key)
{
    for (size_t i = 0; i < sizeof SECTIONS / sizeof *SECTIONS; ++i)
        if (!strcmp(key, SECTIONS[i])) return 1;
    return 0;
}

static const char *const INIT_NAMES[] = {"kaiming", "gaussian"};
static const char *const OPT_NAMES[] = {"sgd", "adam"};
static const char *const KINDS[] = {"fashion-mnist", "mnist", "cifar10", "csv", "gaussian"};
enum { N_KINDS = sizeof KINDS / sizeof *KINDS };

static void measure_default(CbMeasureOpts *m)
{
    m->norms = 1;
    m->latala = 1;
    m->mc_masks = 0;
    m->sparsity = 1;
    m->margins = 1;
    m->sketch = 0;
    m->norm_rtol = 1e-9;
    m->code = 0;
}

/* ------------------------------------------------------------------ text helpers */

/* Shortest text that reads back as exactly x. */
static void num_text(double x, char *buf, size_t len)
{
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, len, "%.0f", x == 0 ? 0.0 : x); /* integers without exponent, -0 -> 0 */
        return;
    }
    for (int prec = 1; prec <= 17; ++prec) {
        snprintf(buf, len, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) return;
    }
}

/* A number (whole text, finite)? */
static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (s[0] == '-' || s[0] == '+') return 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno) return 0;
    *out = v;
    return 1;
}

/* ------------------------------------------------------------------ parse context */

typedef struct {
    const char *file;
    yaml_document_t doc;
    CbSweep *s;
    Top top;
    int given[sizeof SETTINGS / sizeof SETTINGS[0]];
    int line[sizeof SETTINGS / sizeof SETTINGS[0]];
    int methods_line, model_line;
    yaml_node_t *methods;
    double planned;     /* tasks of the methods parsed so far (before any is expanded) */
    char **model_globs; /* model.file entries as written (paths or glob patterns)   */
    int n_saxes;        /* settings given as a list or generator: the stages' grid     */
    struct SettingAxis *saxes;
    int n_shapes;       /* model.layers: full width lists, one model shape each      */
    int shape_depth[256];
    size_t (*shapes)[CB_MODEL_MAX_DEPTH + 1];
    int n_model_globs;
} Ctx;

static int line_of(const yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 0; }

static const char *scalar(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static int is_plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* "'text'" / "a list" / "a mapping" for messages */
static void describe(const yaml_node_t *n, char *buf, size_t len)
{
    if (!n) snprintf(buf, len, "nothing");
    else if (n->type == YAML_SEQUENCE_NODE) snprintf(buf, len, "a list");
    else if (n->type == YAML_MAPPING_NODE) snprintf(buf, len, "a mapping");
    else if (is_plain(n) && (!strcmp(scalar(n), "") || !strcmp(scalar(n), "~") || !strcmp(scalar(n), "null")))
        snprintf(buf, len, "an empty value");
    else if (is_plain(n)) snprintf(buf, len, "'%.200s'", scalar(n));
    else snprintf(buf, len, "the quoted string \"%.200s\"", scalar(n));
}

static CbStatus bad(const Ctx *c, const yaml_node_t *n, const char *key, const char *expected)
{
    char found[256];
    describe(n, found, sizeof found);
    return CB_ERR(CB_EINVAL, "%s:%d: key '%s': expected %s, found %s", c->file, line_of(n), key, expected, found);
}

static yaml_node_t *node(Ctx *c, int id) { return yaml_document_get_node(&c->doc, id); }

static void *target_ptr(Ctx *c, const Setting *st)
{
    char *base = st->target == IN_SPEC ? (char *)&c->s->base
               : st->target == IN_MEASURE ? (char *)&c->s->measure
                                          : (char *)&c->top;
    return base + st->off;
}

static void range_text(const Setting *st, char *buf, size_t len)
{
    if (st->hi >= BIG)
        snprintf(buf, len, "a number %s %g", st->open & LO_OPEN ? ">" : ">=", st->lo);
    else
        snprintf(buf, len, "a number in %c%g, %g%c", st->open & LO_OPEN ? '(' : '[', st->lo, st->hi,
                 st->open & HI_OPEN ? ')' : ']');
}

static int in_range(const Setting *st, double v)
{
    if (st->open & LO_OPEN ? !(v > st->lo) : !(v >= st->lo)) return 0;
    if (st->hi < BIG && (st->open & HI_OPEN ? !(v < st->hi) : !(v <= st->hi))) return 0; /* BIG = no upper bound */
    return 1;
}

static CbStatus want_choice(Ctx *c, const yaml_node_t *n, const char *key, const char *const *names, int count,
                            int *out)
{
    char exp[256] = "one of";
    for (int i = 0; i < count; ++i)
        snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "%s %s", i ? "," : "", names[i]);
    if (n->type != YAML_SCALAR_NODE) return bad(c, n, key, exp);
    for (int i = 0; i < count; ++i)
        if (!strcmp(scalar(n), names[i])) {
            *out = i;
            return CB_OK;
        }
    return bad(c, n, key, exp);
}

/* An integer list (widths, seeds, drops) with each element in [lo, hi], distinct
 * unless `repeats` (layer widths may repeat). */
static CbStatus int_list_r(Ctx *c, const yaml_node_t *n, const char *key, double lo, double hi, int max, int repeats,
                           uint64_t **out, int *count)
{
    char exp[128];
    snprintf(exp, sizeof exp, "a list of integers in [%g, %g]", lo, hi);
    if (n->type != YAML_SEQUENCE_NODE) return bad(c, n, key, exp);
    int len = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (len == 0 && lo > 0) return bad(c, n, key, "a non-empty list");
    if (len > max) {
        snprintf(exp, sizeof exp, "a list of at most %d entries", max);
        return bad(c, n, key, exp);
    }
    uint64_t *v = cb_calloc((size_t)len + 1, sizeof *v);
    for (int i = 0; i < len; ++i) {
        yaml_node_t *e = node(c, n->data.sequence.items.start[i]);
        uint64_t x;
        if (!is_plain(e) || !parse_u64(scalar(e), &x) || (double)x < lo || (double)x > hi) {
            free(v);
            char k[96];
            snprintf(k, sizeof k, "%s[%d]", key, i);
            snprintf(exp, sizeof exp, "an integer in [%g, %g]", lo, hi);
            return bad(c, e, k, exp);
        }
        for (int j = 0; j < i && !repeats; ++j)
            if (v[j] == x) {
                free(v);
                char k[96];
                snprintf(k, sizeof k, "%s[%d]", key, i);
                return bad(c, e, k, "distinct values (this one appears twice)");
            }
        v[i] = x;
    }
    *out = v;
    *count = len;
    return CB_OK;
}

static CbStatus int_list(Ctx *c, const yaml_node_t *n, const char *key, double lo, double hi, int max,
                         uint64_t **out, int *count)
{
    return int_list_r(c, n, key, lo, hi, max, 0, out, count);
}

static CbStatus set_value(Ctx *c, int idx, const yaml_node_t *n)
{
    const Setting *st = &SETTINGS[idx];
    void *p = target_ptr(c, st);
    const char *key = st->path;
    char exp[128];
    double v;
    uint64_t u;
    int choice;
    c->given[idx] = 1;
    c->line[idx] = line_of(n);
    switch (st->type) {
    case T_STR:
        if (n->type != YAML_SCALAR_NODE) return bad(c, n, key, "a string");
        if (strlen(scalar(n)) >= st->size) {
            snprintf(exp, sizeof exp, "a string of at most %zu characters", st->size - 1);
            return bad(c, n, key, exp);
        }
        snprintf(p, st->size, "%s", scalar(n));
        return CB_OK;
    case T_KIND:
    case T_FEAT: {
        const char *features[CB_FEATURES_N_KINDS]; /* the feature module's names */
        for (int k = 0; k < CB_FEATURES_N_KINDS; ++k) features[k] = cb_features_name((CbFeaturesKind)k);
        const char *const *names = st->type == T_KIND ? KINDS : features;
        int count = st->type == T_KIND ? N_KINDS : CB_FEATURES_N_KINDS;
        CB_TRY(want_choice(c, n, key, names, count, &choice));
        snprintf(p, st->size, "%s", names[choice]);
        return CB_OK;
    }
    case T_U64:
        if (!is_plain(n) || !parse_u64(scalar(n), &u)) return bad(c, n, key, "a non-negative integer");
        *(uint64_t *)p = u;
        return CB_OK;
    case T_SIZE:
    case T_INT:
    case T_HIDDEN:
        snprintf(exp, sizeof exp, "an integer in [%g, %g]", st->lo, st->hi);
        if (!is_plain(n) || !parse_u64(scalar(n), &u) || (double)u < st->lo || (double)u > st->hi)
            return bad(c, n, key, st->hi >= BIG ? "a non-negative integer" : exp);
        if (st->type == T_SIZE) *(size_t *)p = (size_t)u;
        else *(int *)p = (int)u;
        return CB_OK;
    case T_DBL:
        range_text(st, exp, sizeof exp);
        if (!is_plain(n) || !parse_double(scalar(n), &v) || !in_range(st, v)) return bad(c, n, key, exp);
        *(double *)p = v;
        return CB_OK;
    case T_BOOL: {
        static const char *const names[] = {"false", "true"};
        CB_TRY(want_choice(c, n, key, names, 2, &choice));
        *(int *)p = choice;
        return CB_OK;
    }
    case T_ACT:
        if (n->type != YAML_SCALAR_NODE || cb_mlp_act_parse(scalar(n), (CbAct *)p) != CB_OK)
            return bad(c, n, key, "relu, identity, tanh or softplus");
        return CB_OK;
    case T_INIT:
        CB_TRY(want_choice(c, n, key, INIT_NAMES, 2, &choice));
        *(CbInit *)p = choice ? CB_INIT_GAUSSIAN : CB_INIT_KAIMING_UNIFORM;
        return CB_OK;
    case T_OPT:
        CB_TRY(want_choice(c, n, key, OPT_NAMES, 2, &choice));
        *(CbOpt *)p = choice ? CB_OPT_ADAM : CB_OPT_SGD;
        return CB_OK;
    case T_SCALE:
        if (n->type != YAML_SCALAR_NODE || cb_data_scale_parse(scalar(n), (CbScale *)p) != CB_OK)
            return bad(c, n, key, "none, unit, standardize, auto or signed");
        return CB_OK;
    case T_WIDTHS: {
        uint64_t *w;
        int count;
        CB_TRY(int_list(c, n, key, st->lo, st->hi, 1 << 16, &w, &count));
        free(c->s->widths); /* a command-line override replaces the file's list */
        c->s->widths = cb_calloc((size_t)count, sizeof *c->s->widths);
        for (int i = 0; i < count; ++i) c->s->widths[i] = (size_t)w[i];
        c->s->n_widths = count;
        free(w);
        return CB_OK;
    }
    case T_SEEDS: {
        free(c->s->seeds); /* a command-line override replaces the file's list */
        c->s->seeds = NULL;
        c->s->n_seeds = 0;
        CB_TRY(int_list(c, n, key, 0, 1.8e19, 1 << 16, &c->s->seeds, &c->s->n_seeds));
        if (c->s->n_seeds == 0) return bad(c, n, key, "a non-empty list");
        return CB_OK;
    }
    case T_FILES: {
        int len = 1;
        if (n->type == YAML_SEQUENCE_NODE) {
            len = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
            if (len == 0) return bad(c, n, key, "a path, a glob or a non-empty list of them");
        } else if (n->type != YAML_SCALAR_NODE || !scalar(n)[0]) {
            return bad(c, n, key, "a path, a glob or a non-empty list of them");
        }
        for (int i = 0; i < c->n_model_globs; ++i) free(c->model_globs[i]); /* an override replaces the file's */
        free(c->model_globs);
        c->n_model_globs = 0;
        c->model_globs = cb_calloc((size_t)len, sizeof *c->model_globs);
        for (int i = 0; i < len; ++i) {
            const yaml_node_t *e = n->type == YAML_SEQUENCE_NODE ? node(c, n->data.sequence.items.start[i]) : n;
            if (e->type != YAML_SCALAR_NODE || !scalar(e)[0]) {
                char k[96];
                snprintf(k, sizeof k, "%s[%d]", key, i);
                return bad(c, e, k, "a path or a glob");
            }
            c->model_globs[c->n_model_globs++] = strdup(scalar(e));
        }
        return CB_OK;
    }
    case T_LAYERS: {
        /* one list of widths, or a list of lists */
        if (n->type != YAML_SEQUENCE_NODE) return bad(c, n, key, "a list of widths [in, hidden..., out] or a list of such lists");
        int len = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
        int nested = len > 0 && node(c, n->data.sequence.items.start[0])->type == YAML_SEQUENCE_NODE;
        int count = nested ? len : 1;
        if (count == 0 || count > 256) return bad(c, n, key, "1 to 256 model shapes");
        free(c->shapes); /* a command-line override replaces the file's shapes */
        c->n_shapes = 0;
        c->shapes = cb_calloc((size_t)count, sizeof *c->shapes);
        for (int i = 0; i < count; ++i) {
            const yaml_node_t *e = nested ? node(c, n->data.sequence.items.start[i]) : n;
            char k[96];
            if (nested) snprintf(k, sizeof k, "%s[%d]", key, i);
            else snprintf(k, sizeof k, "%s", key);
            uint64_t *w;
            int m;
            CB_TRY(int_list_r(c, e, k, 0, 1e7, CB_MODEL_MAX_DEPTH + 1, 1, &w, &m));
            int ok = m >= 2;
            for (int j = 1; ok && j + 1 < m; ++j) ok = w[j] > 0;
            if (!ok) {
                free(w);
                return bad(c, e, k, "at least two widths, input first, hidden widths > 0 (0 at either end: from the data)");
            }
            for (int j = 0; j < m; ++j) c->shapes[i][j] = (size_t)w[j];
            c->shape_depth[i] = m - 1;
            free(w);
        }
        c->n_shapes = count;
        return CB_OK;
    }
    case T_DROPS: {
        uint64_t *d;
        int count;
        CB_TRY(int_list(c, n, key, st->lo, st->hi, 8, &d, &count));
        c->s->base.train.n_drops = count;
        for (int i = 0; i < count; ++i) c->s->base.train.drop_epochs[i] = (int)d[i];
        free(d);
        return CB_OK;
    }
    }
    return CB_OK;
}

static int find_setting(const char *path)
{
    for (int i = 0; i < N_SETTINGS; ++i)
        if (!strcmp(SETTINGS[i].path, path)) return i;
    return -1;
}

/* Edit distance (insertions, deletions, substitutions), for "did you mean". */
static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b), row[130];
    if (la > 128 || lb > 128) return 1000;
    for (int j = 0; j <= lb; ++j) row[j] = j;
    for (int i = 1; i <= la; ++i) {
        int prev = row[0];
        row[0] = i;
        for (int j = 1; j <= lb; ++j) {
            int cur = row[j], sub = prev + (a[i - 1] != b[j - 1]);
            row[j] = sub < row[j] + 1 ? sub : row[j] + 1;
            if (row[j - 1] + 1 < row[j]) row[j] = row[j - 1] + 1;
            prev = cur;
        }
    }
    return row[lb];
}

/* The known key closest to `path` (settings, sections, `methods`), when close enough. */
static const char *did_you_mean(const char *path)
{
    static const char *const extra[] = {"data", "model", "train", "measure", "methods"};
    const char *best = NULL;
    int bd = 1000;
    for (int i = 0; i < N_SETTINGS + 5; ++i) {
        const char *p = i < N_SETTINGS ? SETTINGS[i].path : extra[i - N_SETTINGS];
        int d = edit_distance(path, p);
        const char *dot = strrchr(p, '.'); /* a key written without its section */
        if (dot && !strchr(path, '.')) {
            int d2 = edit_distance(path, dot + 1);
            if (d2 < d) d = d2;
        }
        if (d < bd) bd = d, best = p;
    }
    return best && bd <= 2 + (int)strlen(path) / 6 ? best : NULL;
}

static CbStatus unknown_key(Ctx *c, const yaml_node_t *k, const char *path, const char *prefix)
{
    const char *near = did_you_mean(path);
    CbStatus st = near ? CB_ERR(CB_EINVAL, "%s:%d: key '%s': unknown key (did you mean '%s'?)", c->file, line_of(k), path, near)
                       : CB_ERR(CB_EINVAL, "%s:%d: key '%s': unknown key", c->file, line_of(k), path);
    char known[1024] = "";
    size_t plen = strlen(prefix);
    for (int i = 0; i < N_SETTINGS; ++i) {
        const char *p = SETTINGS[i].path;
        if (plen ? strncmp(p, prefix, plen) || p[plen] != '.' : strchr(p, '.') != NULL) continue;
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", known[0] ? ", " : "",
                 plen ? p + plen + 1 : p);
    }
    if (!plen) snprintf(known + strlen(known), sizeof known - strlen(known), ", data, model, train, methods, measure");
    cb_err_hint("known keys%s%s: %s (see `cbound run --schema`)", plen ? " under " : "", prefix, known);
    return st;
}

/* ------------------------------------------------------------------ settings that vary
 * A scalar setting of data, model or train written as a list or a generator
 * ({linspace: [a, b, n]}, {range: [a, b, step]}) is an axis of the stages' grid: the
 * sweep trains one model per combination (first axis slowest) x width x seed. A
 * combination's stage key leaves settings at their default out, as always, so adding
 * an axis whose values include the old value keeps the old stages' keys. A setting of
 * `measure` written so is an axis of the measure combinations instead: it trains
 * nothing, every task runs once per combination (CbMeasureSet). */
typedef struct SettingAxis {
    int setting;          /* index into SETTINGS                          */
    int line;
    int n;
    char (*val)[1024];    /* value texts, validated                        */
} SettingAxis;

static int axis_type(const Setting *st)
{
    if (st->target != IN_SPEC && st->target != IN_MEASURE && !(st->target == IN_TOP && st->type == T_HIDDEN)) return 0;
    switch (st->type) {
    case T_STR: case T_U64: case T_SIZE: case T_INT: case T_DBL: case T_BOOL: case T_ACT: case T_INIT: case T_OPT:
    case T_SCALE: case T_KIND: case T_FEAT: case T_HIDDEN: return 1;
    default: return 0;
    }
}

static int is_axis_node(Ctx *c, const yaml_node_t *v)
{
    if (v->type == YAML_SEQUENCE_NODE) return 1;
    if (v->type != YAML_MAPPING_NODE || v->data.mapping.pairs.top - v->data.mapping.pairs.start != 1) return 0;
    const yaml_node_t *g = node(c, v->data.mapping.pairs.start->key);
    return g->type == YAML_SCALAR_NODE && (!strcmp(scalar(g), "linspace") || !strcmp(scalar(g), "range"));
}

/* A plain scalar node holding `text`, for set_value. */
static yaml_node_t text_node(const char *text, int line)
{
    yaml_node_t n;
    memset(&n, 0, sizeof n);
    n.type = YAML_SCALAR_NODE;
    n.data.scalar.value = (yaml_char_t *)(uintptr_t)text;
    n.data.scalar.length = strlen(text);
    n.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
    n.start_mark.line = (size_t)(line > 0 ? line - 1 : 0);
    return n;
}

static CbStatus generator_texts(Ctx *c, const yaml_node_t *map, const char *key, char (**out)[1024], int *n);

static CbStatus setting_axis(Ctx *c, int idx, const yaml_node_t *v)
{
    const Setting *st = &SETTINGS[idx];
    for (int i = 0; i < c->n_saxes; ++i)
        if (c->saxes[i].setting == idx) return bad(c, v, st->path, "one value list per setting");
    SettingAxis a = {.setting = idx, .line = line_of(v)};
    if (v->type == YAML_SEQUENCE_NODE) {
        a.n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
        if (a.n == 0) return bad(c, v, st->path, "a non-empty list of values");
        if (a.n > 100000) return bad(c, v, st->path, "at most 100,000 values");
        a.val = cb_calloc((size_t)a.n, sizeof *a.val);
        for (int i = 0; i < a.n; ++i) {
            const yaml_node_t *e = node(c, v->data.sequence.items.start[i]);
            char k[160];
            snprintf(k, sizeof k, "%s[%d]", st->path, i);
            if (e->type != YAML_SCALAR_NODE) {
                free(a.val);
                return bad(c, e, k, "a value");
            }
            snprintf(a.val[i], sizeof a.val[i], "%s", scalar(e));
        }
    } else {
        CB_TRY(generator_texts(c, v, st->path, &a.val, &a.n));
    }
    /* Validate every value now, with the file's messages; distinct values only. */
    for (int i = 0; i < a.n; ++i) {
        yaml_node_t t = text_node(a.val[i], a.line);
        CbStatus e = set_value(c, idx, &t);
        for (int j = 0; e == CB_OK && j < i; ++j)
            if (!strcmp(a.val[j], a.val[i])) {
                char k[160];
                snprintf(k, sizeof k, "%s[%d]", st->path, i);
                e = bad(c, &t, k, "distinct values (this one appears twice)");
            }
        if (e != CB_OK) {
            free(a.val);
            return e;
        }
    }
    c->saxes = cb_realloc(c->saxes, (size_t)(c->n_saxes + 1) * sizeof *c->saxes);
    c->saxes[c->n_saxes++] = a;
    c->given[idx] = 1;
    c->line[idx] = a.line;
    return CB_OK;
}

/* Walk a mapping; keys must be strings and appear once. */
static CbStatus walk_mapping(Ctx *c, yaml_node_t *map, const char *prefix)
{
    if (map->type != YAML_MAPPING_NODE) return bad(c, map, prefix[0] ? prefix : "(top level)", "a mapping");
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; ++pr) {
        yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
        if (k->type != YAML_SCALAR_NODE) return bad(c, k, prefix[0] ? prefix : "(top level)", "a key name");
        char path[128];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", scalar(k));
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pr; ++q)
            if (!strcmp(scalar(node(c, q->key)), scalar(k))) {
                CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key '%s': appears twice (first at line %d)", c->file,
                                     line_of(k), path, line_of(node(c, q->key)));
                return st;
            }
        if (!prefix[0]) {
            if (is_section(scalar(k))) {
                if (!strcmp(scalar(k), "model")) c->model_line = line_of(k);
                CB_TRY(walk_mapping(c, v, scalar(k)));
                continue;
            }
            if (!strcmp(scalar(k), "methods")) {
                c->methods = v;
                c->methods_line = line_of(k);
                continue;
            }
        }
        int idx = find_setting(path);
        if (idx < 0) return unknown_key(c, k, path, prefix);
        if (is_axis_node(c, v) && axis_type(&SETTINGS[idx])) {
            CB_TRY(setting_axis(c, idx, v));
            continue;
        }
        CB_TRY(set_value(c, idx, v));
    }
    return CB_OK;
}

/* ------------------------------------------------------------------ methods and grids */

typedef struct {
    char name[32];
    int n, cap;
    char (*val)[64];   /* canonical values */
    int *line;
} Axis;

static void axis_push(Axis *a, const char *text, int line)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 8;
        a->val = cb_realloc(a->val, (size_t)a->cap * sizeof *a->val);
        a->line = cb_realloc(a->line, (size_t)a->cap * sizeof *a->line);
    }
    snprintf(a->val[a->n], sizeof a->val[0], "%s", text);
    a->line[a->n] = line;
    ++a->n;
}

/* Canonical text of one scalar grid value. */
static CbStatus grid_scalar(Ctx *c, const yaml_node_t *n, const char *key, char *out, size_t len)
{
    double v;
    if (n->type != YAML_SCALAR_NODE) return bad(c, n, key, "a number or a word");
    const char *t = scalar(n);
    if (!t[0]) return bad(c, n, key, "a number or a word");
    if (is_plain(n) && parse_double(t, &v)) {
        num_text(v, out, len);
        return CB_OK;
    }
    if (strlen(t) >= len || strpbrk(t, ";=\n"))
        return bad(c, n, key, "a value of at most 63 characters without ';', '=' or newlines");
    snprintf(out, len, "%s", t);
    return CB_OK;
}

/* Sizes are known before values exist: a grid axis holds at most AXIS_MAX values
 * and the whole sweep at most MAX_TASKS tasks, checked before anything is made. */
enum { AXIS_MAX = 1000000, MAX_TASKS = 10000000 };

/* Would `n` more values on this axis (the others' product `points`, `units` stages
 * or seeds per grid point) pass the limits? */
static CbStatus check_size(Ctx *c, const char *key, int line, double n, double points, double units)
{
    if (n > AXIS_MAX)
        return CB_ERR(CB_EINVAL, "%s:%d: key '%s': expected at most 1,000,000 values on one grid axis, found %.17g",
                      c->file, line, key, n);
    if (c->planned + n * points * units > MAX_TASKS) {
        CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key 'methods': the sweep expands to more than 10,000,000 tasks "
                             "(%.4g with %s at line %d)", c->file, c->methods_line, c->planned + n * points * units,
                             key, line);
        cb_err_hint("split the sweep, or use coarser grids");
        return st;
    }
    return CB_OK;
}

static CbStatus grid_generator(Ctx *c, const yaml_node_t *map, const char *key, Axis *a, double points, double units)
{
    if (map->data.mapping.pairs.top - map->data.mapping.pairs.start != 1)
        return bad(c, map, key, "a value, a list, {linspace: [a, b, n]} or {range: [a, b, step]}");
    yaml_node_t *g = node(c, map->data.mapping.pairs.start->key), *args = node(c, map->data.mapping.pairs.start->value);
    int lin = g->type == YAML_SCALAR_NODE && !strcmp(scalar(g), "linspace");
    int rng = g->type == YAML_SCALAR_NODE && !strcmp(scalar(g), "range");
    if (!lin && !rng) return bad(c, g, key, "a generator: linspace or range");
    const char *form = lin ? "[start, stop, count] (numbers, count >= 1)" : "[start, stop] or [start, stop, step] (integers, step > 0)";
    if (args->type != YAML_SEQUENCE_NODE) return bad(c, args, key, form);
    int len = (int)(args->data.sequence.items.top - args->data.sequence.items.start);
    if (lin ? len != 3 : len != 2 && len != 3) return bad(c, args, key, form);
    double x[3] = {0, 0, 1};
    for (int i = 0; i < len; ++i) {
        yaml_node_t *e = node(c, args->data.sequence.items.start[i]);
        if (!is_plain(e) || !parse_double(scalar(e), &x[i])) return bad(c, e, key, form);
        if ((rng || i == 2) && x[i] != floor(x[i])) return bad(c, e, key, form);
    }
    char txt[64];
    int line = line_of(args);
    if (lin) {
        if (!(x[2] >= 1)) return bad(c, args, key, form);
        CB_TRY(check_size(c, key, line, x[2], points, units));
        int n = (int)x[2];
        for (int i = 0; i < n; ++i) {
            double v = n == 1 ? x[0] : i == n - 1 ? x[1] : x[0] + (x[1] - x[0]) * i / (n - 1);
            /* Generated values are rounded to 12 significant digits, so the key and
             * the value a method sees read 1.9, not 1.9000000000000001 (the rounding
             * error of 0.1 + 2 * 0.9). */
            snprintf(txt, sizeof txt, "%.12g", v);
            v = strtod(txt, NULL);
            num_text(v, txt, sizeof txt);
            axis_push(a, txt, line);
        }
    } else {
        if (!(x[2] > 0)) return bad(c, args, key, form);
        /* Beyond 2^53 doubles skip integers: v + step == v and the range would never
         * end. Inside it every value is exact, so the count is known in advance. */
        const double lim = 9007199254740992.0;
        if (fabs(x[0]) > lim || fabs(x[1]) > lim || x[2] > lim) {
            CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key '%s': expected range bounds and step of magnitude at most 2^53 = "
                                 "9007199254740992 (beyond it numbers are not exact and the range cannot advance), "
                                 "found [%.17g, %.17g, %.17g]", c->file, line, key, x[0], x[1], x[2]);
            cb_err_hint("list such values explicitly, e.g. `%s: [100000000000000000]`", a->name);
            return st;
        }
        int64_t lo = (int64_t)x[0], hi = (int64_t)x[1], step = (int64_t)x[2];
        int64_t count = hi > lo ? (hi - lo + step - 1) / step : 0;
        CB_TRY(check_size(c, key, line, (double)count, points, units));
        for (int64_t i = 0; i < count; ++i) {
            num_text((double)(lo + i * step), txt, sizeof txt);
            axis_push(a, txt, line);
        }
    }
    if (a->n == 0) return bad(c, args, key, "a range with at least one value");
    return CB_OK;
}

static CbStatus generator_texts(Ctx *c, const yaml_node_t *map, const char *key, char (**out)[1024], int *n)
{
    Axis a;
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", key);
    CbStatus st = grid_generator(c, map, key, &a, 1, 1);
    if (st == CB_OK && a.n > 100000) st = bad(c, map, key, "at most 100,000 values");
    if (st == CB_OK) {
        *out = cb_calloc((size_t)a.n, sizeof **out);
        for (int i = 0; i < a.n; ++i) snprintf((*out)[i], sizeof (*out)[i], "%s", a.val[i]);
        *n = a.n;
    }
    free(a.val);
    free(a.line);
    return st;
}

/* The canonical form of a default text (numbers normalized). */
static void canon_default(const char *d, char *out, size_t len)
{
    double v;
    if (parse_double(d, &v)) num_text(v, out, len);
    else snprintf(out, len, "%s", d);
}

static const char *param_default(const CbMethod *m, const char *name)
{
    if (!m->param_defaults) return NULL;
    for (int i = 0; m->param_names[i]; ++i)
        if (!strcmp(m->param_names[i], name)) return m->param_defaults[i];
    return NULL;
}

/* Prefix the method's check message with the sweep location. */
static CbStatus method_check(Ctx *c, const CbMethod *m, const CbParams *p, int line, const char *key)
{
    if (!m->check) return CB_OK;
    cb_err_clear();
    if (m->check(p) == CB_OK) return CB_OK;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", cb_err_msg());
    return CB_ERR(CB_EINVAL, "%s:%d: key '%s': method %s rejects the value: %s", c->file, line, key, m->name, msg);
}

typedef struct {
    const CbMethod *m;
    int line;
    int n_axes;
    Axis axes[16];
    int save;           /* CB_SAVE_* for every task of this entry */
} MethodSpec;

static CbStatus parse_method(Ctx *c, yaml_node_t *e, int i, MethodSpec *ms)
{
    char key[128];
    snprintf(key, sizeof key, "methods[%d]", i);
    ms->line = line_of(e);
    if (e->type != YAML_MAPPING_NODE) return bad(c, e, key, "a mapping {name: METHOD, grid: {...}}");
    yaml_node_t *name = NULL, *grid = NULL, *save = NULL;
    for (yaml_node_pair_t *pr = e->data.mapping.pairs.start; pr < e->data.mapping.pairs.top; ++pr) {
        yaml_node_t *k = node(c, pr->key);
        const char *ks = k->type == YAML_SCALAR_NODE ? scalar(k) : "";
        char path[160];
        snprintf(path, sizeof path, "%s.%s", key, ks);
        if (!strcmp(ks, "name") && !name) name = node(c, pr->value);
        else if (!strcmp(ks, "grid") && !grid) grid = node(c, pr->value);
        else if (!strcmp(ks, "save") && !save) save = node(c, pr->value);
        else {
            CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key '%s': unknown or repeated key", c->file, line_of(k), path);
            cb_err_hint("a method entry has the keys name, grid and save (none, weights or masks)");
            return st;
        }
    }
    if (save) { /* what to keep of each compressed model; not part of the task key */
        static const char *const saves[] = {"none", "weights", "masks"};
        char skey[128];
        snprintf(skey, sizeof skey, "methods[%d].save", i);
        CB_TRY(want_choice(c, save, skey, saves, 3, &ms->save));
    }
    snprintf(key, sizeof key, "methods[%d].name", i);
    if (!name) {
        CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key '%s': missing", c->file, line_of(e), key);
        cb_err_hint("`cbound run --list-methods` lists the methods");
        return st;
    }
    if (name->type != YAML_SCALAR_NODE || !(ms->m = cb_method_find(scalar(name)))) {
        char names[512] = "";
        for (int j = 0; cb_method_at(j); ++j)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? ", " : "", cb_method_at(j)->name);
        const char *near = NULL;
        int bd = 3;
        for (int j = 0; name->type == YAML_SCALAR_NODE && cb_method_at(j); ++j) {
            int d = edit_distance(scalar(name), cb_method_at(j)->name);
            if (d < bd) bd = d, near = cb_method_at(j)->name;
        }
        CbStatus st = bad(c, name, key, "a method name");
        if (near) cb_err_hint("did you mean '%s'? known methods: %s (`cbound run --list-methods`)", near, names);
        else cb_err_hint("known methods: %s (`cbound run --list-methods`)", names);
        return st;
    }
    /* Tasks per grid point: one per stage, or per seed for standalone methods. */
    double models = c->n_shapes ? c->n_shapes : c->n_model_globs ? c->n_model_globs : c->s->n_widths;
    for (int a = 0; a < c->n_saxes; ++a) models *= c->saxes[a].n;
    double units = ms->m->standalone ? c->s->n_seeds : models * (c->n_model_globs ? 1 : c->s->n_seeds);
    if (!grid) {
        c->planned += units;
        return check_size(c, key, ms->line, 0, 1, units);
    }
    snprintf(key, sizeof key, "methods[%d].grid", i);
    if (grid->type != YAML_MAPPING_NODE) return bad(c, grid, key, "a mapping of parameter: values");
    for (yaml_node_pair_t *pr = grid->data.mapping.pairs.start; pr < grid->data.mapping.pairs.top; ++pr) {
        yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
        const char *pname = k->type == YAML_SCALAR_NODE ? scalar(k) : "";
        char pkey[192];
        snprintf(pkey, sizeof pkey, "%s.%s", key, pname);
        int known = 0;
        for (int j = 0; ms->m->param_names && ms->m->param_names[j]; ++j) known |= !strcmp(ms->m->param_names[j], pname);
        if (!known) {
            CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key '%s': method %s has no parameter '%s'", c->file, line_of(k),
                                 pkey, ms->m->name, pname);
            char names[512] = "";
            for (int j = 0; ms->m->param_names && ms->m->param_names[j]; ++j)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? ", " : "", ms->m->param_names[j]);
            cb_err_hint("parameters of %s: %s", ms->m->name, names[0] ? names : "(none)");
            return st;
        }
        for (int j = 0; j < ms->n_axes; ++j)
            if (!strcmp(ms->axes[j].name, pname))
                return CB_ERR(CB_EINVAL, "%s:%d: key '%s': appears twice", c->file, line_of(k), pkey);
        if (ms->n_axes == 16) return bad(c, k, pkey, "at most 16 parameters");
        Axis *a = &ms->axes[ms->n_axes++];
        memset(a, 0, sizeof *a);
        snprintf(a->name, sizeof a->name, "%s", pname);
        char txt[64];
        double points = 1;
        for (int j = 0; j + 1 < ms->n_axes; ++j) points *= ms->axes[j].n;
        if (v->type == YAML_SEQUENCE_NODE) {
            int len = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
            if (len == 0) return bad(c, v, pkey, "a non-empty list");
            CB_TRY(check_size(c, pkey, line_of(v), len, points, units));
            for (int j = 0; j < len; ++j) {
                yaml_node_t *x = node(c, v->data.sequence.items.start[j]);
                CB_TRY(grid_scalar(c, x, pkey, txt, sizeof txt));
                axis_push(a, txt, line_of(x));
            }
        } else if (v->type == YAML_MAPPING_NODE) {
            CB_TRY(grid_generator(c, v, pkey, a, points, units));
        } else {
            CB_TRY(grid_scalar(c, v, pkey, txt, sizeof txt));
            axis_push(a, txt, line_of(v));
        }
        /* Per-value checks: generic range for sparsity, then the method's own. */
        for (int j = 0; j < a->n; ++j) {
            double x;
            if (!strcmp(pname, "sparsity") && (!parse_double(a->val[j], &x) || !(x >= 0 && x < 1)))
                return CB_ERR(CB_EINVAL, "%s:%d: key '%s': expected a number in [0, 1), found '%s'", c->file,
                              a->line[j], pkey, a->val[j]);
            CbParams one = {0};
            CB_TRY(cb_params_set(&one, pname, a->val[j]));
            CB_TRY(method_check(c, ms->m, &one, a->line[j], pkey));
        }
    }
    double points = 1;
    for (int j = 0; j < ms->n_axes; ++j) points *= ms->axes[j].n;
    c->planned += points * units;
    return CB_OK;
}

static void free_methods(MethodSpec *ms, int n)
{
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < ms[i].n_axes; ++j) {
            free(ms[i].axes[j].val);
            free(ms[i].axes[j].line);
        }
    free(ms);
}

/* ------------------------------------------------------------------ expansion */

static void hex_key(uint64_t k, char out[17]) { snprintf(out, 17, "%016" PRIx64, k); }

/* Input dimension, outputs and sample counts used only for cost estimates. */
static void data_shape(const CbDataSpec *d, double *din, double *dout, double *ntr, double *nte)
{
    *din = 64, *dout = 10, *ntr = 1000, *nte = 200;
    if (!strcmp(d->kind, "fashion-mnist") || !strcmp(d->kind, "mnist")) *din = 784, *ntr = 60000, *nte = 10000;
    if (!strcmp(d->kind, "cifar10")) *din = 3072, *ntr = 50000, *nte = 10000;
    if (!strcmp(d->kind, "gaussian")) {
        *din = (double)d->dim;
        *dout = d->regression ? 1 : (double)d->n_classes;
    }
    if (d->n_train) *ntr = (double)d->n_train;
    if (d->n_test) *nte = (double)d->n_test;
}

/* A stage's key (and key_hex): the hash of its spec's keyed text (cb_model_spec_text
 * with full = 0: settings at their defaults left out) followed by one line, printf-style
 * (at most 63 characters), naming where its weights come from: "seed: N\n" for a
 * trained stage, "model.file: HASH\n" for a file stage. Every stage key is made here. */
static void stage_key(CbStage *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void stage_key(CbStage *st, const char *fmt, ...)
{
    char *text = cb_model_spec_text(&st->spec, 0);
    size_t len = strlen(text);
    text = cb_realloc(text, len + 64);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text + len, 64, fmt, ap);
    va_end(ap);
    st->key = cb_rng_hash64(text, strlen(text), CB_RNG_HASH_INIT);
    free(text);
    hex_key(st->key, st->key_hex);
}

/* A trained stage's key (its spec and training seed) and the model file it trains into. */
static void trained_stage_key(const CbSweep *s, CbStage *st)
{
    stage_key(st, "seed: %" PRIu64 "\n", st->seed);
    snprintf(st->model_path, sizeof st->model_path, "%s/models/%s.h5", s->dir, st->key_hex);
}

static void add_stage(CbSweep *s, size_t width, uint64_t seed)
{
    CbStage *st = &s->stages[s->n_stages++];
    memset(st, 0, sizeof *st);
    st->spec = s->base;
    for (int l = 1; l < st->spec.depth; ++l) st->spec.widths[l] = width;
    st->spec.widths[0] = 0;
    st->spec.widths[st->spec.depth] = 0;
    st->spec.train.seed = seed;
    st->width = width;
    st->seed = seed;
    trained_stage_key(s, st);
    double din, dout, ntr, nte;
    data_shape(&s->base.data, &din, &dout, &ntr, &nte);
    int depth = st->spec.depth;
    double w = (double)width, params = depth == 1 ? din * dout : din * w + (depth - 2) * w * w + w * dout;
    st->cost = 6 * params * ntr * st->spec.train.epochs / 1e9;
}

/* A stage of a model.layers shape: every width given (0 at the ends: from the data). */
static void add_stage_shape(CbSweep *s, const size_t *widths, int depth, uint64_t seed)
{
    size_t hidden = 0;
    for (int l = 1; l < depth; ++l)
        if (widths[l] > hidden) hidden = widths[l];
    add_stage(s, hidden, seed); /* then replace the shape and redo the key */
    CbStage *st = &s->stages[s->n_stages - 1];
    st->spec.depth = depth;
    for (int l = 0; l <= depth; ++l) st->spec.widths[l] = widths[l];
    trained_stage_key(s, st);
    double din, dout, ntr, nte, params = 0;
    data_shape(&s->base.data, &din, &dout, &ntr, &nte);
    for (int l = 0; l < depth; ++l)
        params += (double)(l == 0 && !widths[0] ? (size_t)din : widths[l]) *
                  (double)(l == depth - 1 && !widths[depth] ? (size_t)dout : widths[l + 1]);
    st->cost = 6 * params * ntr * st->spec.train.epochs / 1e9;
}

/* "conv (16 filters, pool 4, gain 10, data.seed 7)", or "none". */
static void map_text(char *buf, size_t len, const CbDataSpec *d)
{
    if (!strcmp(d->features, "none")) snprintf(buf, len, "none");
    else
        snprintf(buf, len, "%s (%zu filters, pool %zu, gain %g, data.seed %" PRIu64 ")", d->features, d->conv_filters,
                 d->conv_pool, d->conv_gain, d->seed);
}

/* A model file trained on a feature map (its train_config names one) must be swept with
 * the same map: another draw of φ feeds it other inputs and every number comes out wrong
 * without any error. Files that name no settings (imported from PyTorch) are taken as is. */
static CbStatus check_file_features(Ctx *c, const char *path, const CbModel *m, int line)
{
    if (!m->train_config || !m->train_config[0]) return CB_OK;
    CbTrainSpec f;
    if (cb_model_spec_parse(m->train_config, path, &f) != CB_OK) {
        cb_err_clear();
        return CB_OK; /* not ours to judge; the widths are still checked against the data */
    }
    const CbDataSpec *a = &f.data, *b = &c->s->base.data;
    int conv_a = strcmp(a->features, "none") != 0, conv_b = strcmp(b->features, "none") != 0;
    if (!conv_a && !conv_b) return CB_OK;
    if (!strcmp(a->features, b->features) && a->conv_filters == b->conv_filters && a->conv_pool == b->conv_pool &&
        a->conv_gain == b->conv_gain && a->seed == b->seed)
        return CB_OK;
    char fa[160], fb[160];
    map_text(fa, sizeof fa, a);
    map_text(fb, sizeof fb, b);
    CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key 'model.file': %s was trained on the feature map %s; the sweep's data "
                         "gives %s, so the model would see other inputs", c->file, line, path, fa, fb);
    if (conv_a)
        cb_err_hint("set data.features: %s, data.conv_filters: %zu, data.conv_pool: %zu, data.conv_gain: %g and "
                    "data.seed: %" PRIu64 " (the model's)", a->features, a->conv_filters, a->conv_pool, a->conv_gain,
                    a->seed);
    else
        cb_err_hint("remove data.features: the model was trained on the raw inputs");
    return st;
}

/* A stage whose model comes from a file: the shape, activation and biases are the
 * file's; the key is the model's content hash with the data and training settings (a
 * changed file is a new stage; its path is not in the key). Nothing is trained: the
 * file itself is the stage's model (model_path), checked against the hash when loaded. */
static CbStatus add_file_stage(Ctx *c, const char *path)
{
    CbSweep *s = c->s;
    int line = c->line[find_setting("model.file")];
    CbModel m;
    memset(&m, 0, sizeof m);
    if (cb_model_load(path, &m) != CB_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", cb_err_msg());
        CbStatus st = CB_ERR(CB_EFORMAT, "%s:%d: key 'model.file': %s", c->file, line, msg);
        cb_err_hint("model files are cbound model HDF5 files: `cbound train -o FILE`, or "
                    "`scripts/torch_interop.py export` for a PyTorch model");
        return st;
    }
    CbStatus fst = check_file_features(c, path, &m, line);
    if (fst != CB_OK) {
        cb_model_free(&m);
        return fst;
    }
    for (int k = 0; k < s->n_stages; ++k)
        if (!strcmp(s->stages[k].file_hash, m.content_hash) && !memcmp(&s->stages[k].spec.data, &s->base.data, sizeof s->base.data) &&
            !memcmp(&s->stages[k].spec.train, &s->base.train, sizeof s->base.train)) {
            CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key 'model.file': %s and %s hold the same model (content %s)",
                                 c->file, line, s->stages[k].file, path, m.content_hash);
            cb_model_free(&m);
            return st;
        }
    CbStage *st = &s->stages[s->n_stages++];
    memset(st, 0, sizeof *st);
    st->spec = s->base;
    const CbMlp *f = m.mlp;
    st->spec.depth = f->depth;
    for (int l = 0; l <= f->depth; ++l) st->spec.widths[l] = f->widths[l];
    st->spec.act = f->act;
    st->spec.beta = f->beta;
    st->spec.bias = f->bias;
    st->spec.train.seed = 0;
    for (int l = 1; l < f->depth; ++l)
        if (f->widths[l] > st->width) st->width = f->widths[l];
    snprintf(st->file, sizeof st->file, "%s", path);
    snprintf(st->file_hash, sizeof st->file_hash, "%s", m.content_hash);
    snprintf(st->model_path, sizeof st->model_path, "%s", path);
    stage_key(st, "model.file: %s\n", m.content_hash);
    double params = (double)f->n_params, ntr, nte, din, dout;
    data_shape(&s->base.data, &din, &dout, &ntr, &nte);
    st->cost = 2 * params * (ntr + nte) / 1e9; /* evaluation only */
    cb_model_free(&m);
    return CB_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* model.file entries -> sorted distinct paths (globs expanded; a pattern that
 * matches nothing, or a plain path that does not exist, is an error). */
static CbStatus model_file_list(Ctx *c, char ***out, int *n_out)
{
    int line = c->line[find_setting("model.file")], n = 0, cap = 16;
    char **v = cb_malloc((size_t)cap * sizeof *v);
    for (int i = 0; i < c->n_model_globs; ++i) {
        glob_t g;
        int rc = glob(c->model_globs[i], GLOB_ERR, NULL, &g);
        if (rc != 0 || g.gl_pathc == 0) {
            if (rc == 0) globfree(&g);
            for (int j = 0; j < n; ++j) free(v[j]);
            free(v);
            CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key 'model.file': %s: %s", c->file, line, c->model_globs[i],
                                 strpbrk(c->model_globs[i], "*?[") ? "the pattern matches no file" : "no such file");
            cb_err_hint("paths are relative to the directory cbound runs in");
            return st;
        }
        for (size_t j = 0; j < g.gl_pathc; ++j) {
            if (n == cap) v = cb_realloc(v, (size_t)(cap *= 2) * sizeof *v);
            v[n++] = strdup(g.gl_pathv[j]);
        }
        globfree(&g);
    }
    qsort(v, (size_t)n, sizeof *v, cmp_str);
    int m = 0;
    for (int j = 0; j < n; ++j) {
        if (m && !strcmp(v[m - 1], v[j])) { free(v[j]); continue; }
        v[m++] = v[j];
    }
    *out = v;
    *n_out = m;
    return CB_OK;
}

static CbStatus add_task(Ctx *c, const MethodSpec *ms, const int *pick, int stage, uint64_t seed, int measure)
{
    CbSweep *s = c->s;
    CbTask *t = &s->tasks[s->n_tasks];
    memset(t, 0, sizeof *t);
    t->index = s->n_tasks;
    t->measure = measure;
    const char *measure_text = s->measures[measure].text;
    t->method = ms->m;
    t->stage = stage;
    t->seed = seed;
    t->width = stage >= 0 ? s->stages[stage].width : 0;
    for (int a = 0; a < ms->n_axes; ++a) CB_TRY(cb_params_set(&t->params, ms->axes[a].name, ms->axes[a].val[pick[a]]));
    /* Canonical parameter text: sorted (CbParams is), defaults left out. */
    size_t n = 0;
    for (int i = 0; i < t->params.n; ++i) {
        const char *d = param_default(ms->m, t->params.item[i].name);
        char dc[64];
        if (d) {
            canon_default(d, dc, sizeof dc);
            if (!strcmp(dc, t->params.item[i].text)) continue;
        }
        n += (size_t)snprintf(t->params_text + n, sizeof t->params_text - n, "%s%s=%s", n ? ";" : "",
                              t->params.item[i].name, t->params.item[i].text);
        if (n >= sizeof t->params_text)
            return CB_ERR(CB_EINVAL, "%s:%d: method %s: parameter text longer than %zu characters", c->file, ms->line,
                          ms->m->name, sizeof t->params_text - 1);
    }
    char canon[1024];
    if (stage >= 0)
        snprintf(canon, sizeof canon, "method=%s;v=%d;stage=%s;sweep_seed=%" PRIu64 "%s%s%s%s", ms->m->name,
                 ms->m->version, s->stages[stage].key_hex, s->seed, n ? ";" : "", t->params_text,
                 measure_text[0] ? ";" : "", measure_text);
    else
        snprintf(canon, sizeof canon, "method=%s;v=%d;stage=-;sweep_seed=%" PRIu64 ";seed=%" PRIu64 "%s%s%s%s",
                 ms->m->name, ms->m->version, s->seed, seed, n ? ";" : "", t->params_text,
                 measure_text[0] ? ";" : "", measure_text);
    t->key = cb_rng_hash64(canon, strlen(canon), CB_RNG_HASH_INIT);
    hex_key(t->key, t->key_hex);
    t->cost = stage >= 0 ? s->stages[stage].cost / (6.0 * s->stages[stage].spec.train.epochs) : 1e-6;
    /* Whole-point check (combinations of parameters). */
    CB_TRY(method_check(c, ms->m, &t->params, ms->line, "methods"));
    ++s->n_tasks;
    return CB_OK;
}

static void derive(Ctx *c);
static CbStatus check_features(Ctx *c);

/* The stages of one combination of the setting axes (s->base holds it). */
static CbStatus add_stages(Ctx *c, char **files, int n_files)
{
    CbSweep *s = c->s;
    if (files) {
        for (int i = 0; i < n_files; ++i) CB_TRY(add_file_stage(c, files[i]));
    } else if (c->n_shapes) {
        for (int w = 0; w < c->n_shapes; ++w)
            for (int k = 0; k < s->n_seeds; ++k) add_stage_shape(s, c->shapes[w], c->shape_depth[w], s->seeds[k]);
    } else {
        for (int w = 0; w < s->n_widths; ++w)
            for (int k = 0; k < s->n_seeds; ++k) add_stage(s, s->widths[w], s->seeds[k]);
    }
    return CB_OK;
}

/* The setting axes come in two kinds: stage axes (data, model, train: one trained model
 * per combination) and measure axes (one measure combination per combination). These
 * walk the combinations of one kind, first axis slowest, with an odometer `at`. */
static int axis_is_measure(const Ctx *c, int a) { return SETTINGS[c->saxes[a].setting].target == IN_MEASURE; }

/* The number of combinations of the axes of one kind, and the first such axis (-1: none). */
static double axis_combos(const Ctx *c, int measure, int *first)
{
    double combos = 1;
    *first = -1;
    for (int a = 0; a < c->n_saxes; ++a)
        if (axis_is_measure(c, a) == measure) {
            combos *= c->saxes[a].n;
            if (*first < 0) *first = a;
        }
    return combos;
}

/* Sets the values of combination `at` of the axes of one kind. */
static CbStatus axis_apply(Ctx *c, const int *at, int measure)
{
    for (int a = 0; a < c->n_saxes; ++a) {
        if (axis_is_measure(c, a) != measure) continue;
        yaml_node_t t = text_node(c->saxes[a].val[at[a]], c->saxes[a].line);
        CB_TRY(set_value(c, c->saxes[a].setting, &t));
    }
    return CB_OK;
}

/* Advances `at` to the next combination of the axes of one kind (last axis fastest). */
static void axis_next(const Ctx *c, int *at, int measure)
{
    for (int a = c->n_saxes - 1; a >= 0; --a) {
        if (axis_is_measure(c, a) != measure) continue;
        if (++at[a] < c->saxes[a].n) return;
        at[a] = 0;
    }
}

static CbStatus expand(Ctx *c, MethodSpec *ms, int n_methods)
{
    CbSweep *s = c->s;
    char **files = NULL;
    int n_files = 0;
    if (c->n_model_globs) CB_TRY(model_file_list(c, &files, &n_files));
    int first; /* the first stage axis (measure axes make no stages) */
    double combos = axis_combos(c, 0, &first);
    double per = files ? n_files : (double)(c->n_shapes ? c->n_shapes : s->n_widths) * s->n_seeds;
    CbStatus err = CB_OK;
    if (combos * per > 1e6)
        err = CB_ERR(CB_EINVAL, "%s:%d: key '%s': the settings' grid makes %.4g training stages (at most 1,000,000)",
                    c->file, c->saxes[first].line, SETTINGS[c->saxes[first].setting].path, combos * per);
    if (err == CB_OK) s->stages = cb_calloc((size_t)(combos * per) + 1, sizeof *s->stages);
    /* Combinations of the setting axes, first axis slowest; s->base is each one in turn. */
    CbTrainSpec base0 = s->base;
    int top_hidden0 = c->top.hidden_layers;
    int at[64] = {0};
    for (long k = 0; err == CB_OK && k < (long)combos; ++k) {
        s->base = base0;
        c->top.hidden_layers = top_hidden0;
        err = axis_apply(c, at, 0);
        if (err == CB_OK && first >= 0) {
            derive(c);
            err = check_features(c);
        }
        if (err == CB_OK) err = add_stages(c, files, n_files);
        axis_next(c, at, 0);
    }
    s->base = base0;
    c->top.hidden_layers = top_hidden0;
    for (int i = 0; i < n_files; ++i) free(files[i]);
    free(files);
    CB_TRY(err);
    long total = 0;
    for (int m = 0; m < n_methods; ++m) {
        long points = 1;
        for (int a = 0; a < ms[m].n_axes; ++a) points *= ms[m].axes[a].n;
        total += points * (ms[m].m->standalone ? s->n_seeds : s->n_stages) * s->n_measures;
        if (total > 10000000)
            return CB_ERR(CB_EINVAL, "%s:%d: key 'methods': the sweep expands to more than 10,000,000 tasks",
                          c->file, c->methods_line);
    }
    s->tasks = cb_calloc((size_t)total, sizeof *s->tasks);
    /* Order: stage (width, seed), method, grid point (first axis slowest), measure
     * combination; then standalone methods by seed. This order is the tables' row order. */
    for (int pass = 0; pass < 2; ++pass)
        for (int st = 0; st < (pass ? s->n_seeds : s->n_stages); ++st)
            for (int m = 0; m < n_methods; ++m) {
                if (!ms[m].m->standalone != !pass) continue;
                int pick[16] = {0};
                for (;;) {
                    for (int me = 0; me < s->n_measures; ++me) {
                        if (pass) CB_TRY(add_task(c, &ms[m], pick, -1, s->seeds[st], me));
                        else CB_TRY(add_task(c, &ms[m], pick, st, s->stages[st].seed, me));
                        s->tasks[s->n_tasks - 1].save = ms[m].m->standalone ? CB_SAVE_NONE : ms[m].save;
                    }
                    int a = ms[m].n_axes - 1;
                    while (a >= 0 && ++pick[a] == ms[m].axes[a].n) pick[a--] = 0;
                    if (a < 0) break;
                }
            }
    return CB_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static CbStatus check_unique(Ctx *c)
{
    CbSweep *s = c->s;
    uint64_t *k = cb_malloc((size_t)s->n_tasks * sizeof *k);
    for (int i = 0; i < s->n_tasks; ++i) k[i] = s->tasks[i].key;
    qsort(k, (size_t)s->n_tasks, sizeof *k, cmp_u64);
    for (int i = 1; i < s->n_tasks; ++i)
        if (k[i] == k[i - 1]) {
            int a = -1, b = -1;
            for (int j = 0; j < s->n_tasks; ++j)
                if (s->tasks[j].key == k[i]) {
                    if (a < 0) a = j;
                    else b = j;
                }
            free(k);
            CbStatus st = CB_ERR(CB_EINVAL,
                                 "%s:%d: key 'methods': tasks %d and %d are the same task (key %s: method %s, %s)",
                                 c->file, c->methods_line, a, b, s->tasks[a].key_hex, s->tasks[a].method->name,
                                 s->tasks[a].params_text[0] ? s->tasks[a].params_text : "no parameters");
            cb_err_hint("a grid lists the same value twice, or writes a parameter's default next to leaving it out");
            return st;
        }
    free(k);
    return CB_OK;
}

/* ------------------------------------------------------------------ load */

static CbStatus missing(Ctx *c, int line, const char *key, const char *hint)
{
    CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key '%s': missing", c->file, line, key);
    cb_err_hint("%s", hint);
    return st;
}

/* Settings that follow from others, for s->base as it stands (the sweep's, or one
 * combination of the setting axes): depth from hidden_layers, the data stream seed, the
 * loss, and the data files' contents. */
static void derive(Ctx *c)
{
    CbSweep *s = c->s;
    if (c->given[find_setting("model.hidden_layers")]) s->base.depth = c->top.hidden_layers + 1;
    /* data: the stream seed of synthetic data / subsets / csv splits */
    CbDataSpec *d = &s->base.data;
    int uses_seed = !strcmp(d->kind, "gaussian") || !strcmp(d->kind, "csv") || d->random_subset || strcmp(d->features, "none");
    if (!c->given[find_setting("data.seed")] && uses_seed) d->seed = s->seed;
    s->base.train.loss = d->regression ? CB_LOSS_MSE : CB_LOSS_CROSS_ENTROPY;
    s->base.train.quiet = 1;
    /* The data files' contents enter every key (their paths do not). Unreadable files
     * leave it empty: cb_sweep_check_data then stops the run before any work. */
    if (cb_data_content(d) != CB_OK) {
        d->content[0] = '\0';
        cb_err_clear();
    }
}

/* The feature map of s->base's data (data.features and data.conv_*) against the kind's
 * usual image shape, reported at the line of the setting at fault (the shape the files
 * really have is checked again when they are read). */
static CbStatus check_features(Ctx *c)
{
    CbFeatures phi;
    const char *bad;
    if (cb_data_features(&c->s->base.data, NULL, &phi, &bad) == CB_OK) return CB_OK;
    char msg[1024], hint[512], key[64];
    const char *m = cb_err_msg(), *colon = strstr(m, ": ");
    snprintf(msg, sizeof msg, "%s", !strncmp(m, "data ", 5) && colon ? colon + 2 : m); /* the key is said once */
    snprintf(hint, sizeof hint, "%s", cb_err_hint_msg());
    cb_err_clear();
    snprintf(key, sizeof key, "data.%s", bad);
    int k = find_setting(key), line = c->given[k] ? c->line[k] : c->line[find_setting("data.features")];
    CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key '%s': %s", c->file, line, key, msg);
    if (hint[0]) cb_err_hint("%s", hint);
    return st;
}

/* The texts of one measure combination: `text` leaves the defaults out (it enters the
 * task keys, so adding a measure setting later keeps old keys), `full` names every
 * setting (the results columns of settings that vary). */
static void measure_texts(CbMeasureSet *m)
{
    CbMeasureOpts def;
    measure_default(&def);
    size_t n = 0, f = 0;
    char v[64];
#define MEAS(field, fmt_val)                                                                                  \
    fmt_val;                                                                                                  \
    f += (size_t)snprintf(m->full + f, sizeof m->full - f, "%smeasure.%s=%s", f ? ";" : "", #field, v);       \
    if (m->opts.field != def.field)                                                                           \
        n += (size_t)snprintf(m->text + n, sizeof m->text - n, "%smeasure.%s=%s", n ? ";" : "", #field, v);
    MEAS(norms, snprintf(v, sizeof v, "%d", m->opts.norms))
    MEAS(latala, snprintf(v, sizeof v, "%d", m->opts.latala))
    MEAS(mc_masks, snprintf(v, sizeof v, "%d", m->opts.mc_masks))
    MEAS(sparsity, snprintf(v, sizeof v, "%d", m->opts.sparsity))
    MEAS(margins, snprintf(v, sizeof v, "%d", m->opts.margins))
    MEAS(sketch, snprintf(v, sizeof v, "%d", m->opts.sketch))
    MEAS(norm_rtol, num_text(m->opts.norm_rtol, v, sizeof v))
    MEAS(code, snprintf(v, sizeof v, "%d", m->opts.code))
#undef MEAS
}

/* The combinations of the measure axes (first axis slowest) into s->measures; without
 * axes, the one combination written. s->measure becomes the first combination. */
static CbStatus measure_sets(Ctx *c)
{
    CbSweep *s = c->s;
    int first;
    double combos = axis_combos(c, 1, &first);
    if (combos > 10000)
        return CB_ERR(CB_EINVAL, "%s:%d: key '%s': the measure settings' lists make %.4g combinations (at most 10,000)",
                      c->file, c->saxes[first].line, SETTINGS[c->saxes[first].setting].path, combos);
    CbMeasureOpts written = s->measure;
    s->measures = cb_calloc((size_t)combos, sizeof *s->measures);
    int at[64] = {0};
    CbStatus err = CB_OK;
    for (long k = 0; k < (long)combos && err == CB_OK; ++k) {
        s->measure = written;
        err = axis_apply(c, at, 1);
        s->measures[k].opts = s->measure;
        measure_texts(&s->measures[k]);
        ++s->n_measures;
        axis_next(c, at, 1);
    }
    /* The settings that vary: the axes with more than one value, in the full texts' order. */
    for (const char *p = s->measures[0].full; *p && s->n_measures > 1;) {
        size_t kl = strcspn(p, "=");
        for (int a = 0; a < c->n_saxes; ++a) {
            const char *path = SETTINGS[c->saxes[a].setting].path;
            if (axis_is_measure(c, a) && c->saxes[a].n > 1 && strlen(path) == kl && !strncmp(path, p, kl) &&
                s->n_measure_vary < 16)
                snprintf(s->measure_vary[s->n_measure_vary++], sizeof s->measure_vary[0], "%s", path);
        }
        p += strcspn(p, ";");
        p += *p == ';';
    }
    s->measure = s->measures[0].opts;
    return err;
}

static CbStatus finish(Ctx *c)
{
    CbSweep *s = c->s;
    int root_line = 1;
    /* name, seed, output */
    if (!c->given[find_setting("name")]) {
        const char *b = strrchr(c->file, '/');
        b = b ? b + 1 : c->file;
        snprintf(c->top.name, sizeof c->top.name, "%.*s", (int)strcspn(b, "."), b);
    }
    for (const char *p = c->top.name; *p; ++p)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') || strchr("-_.", *p)))
            return CB_ERR(CB_EINVAL, "%s:%d: key 'name': expected letters, digits, '-', '_' or '.', found '%s'",
                          c->file, c->line[find_setting("name")], c->top.name);
    if (!c->top.name[0]) return missing(c, root_line, "name", "give the sweep a name: `name: demo`");
    snprintf(s->name, sizeof s->name, "%s", c->top.name);
    s->seed = c->top.seed;
    if (!c->given[find_setting("output")]) snprintf(c->top.output, sizeof c->top.output, "results/%s.h5", s->name);
    size_t ol = strlen(c->top.output);
    if (ol < 4 || strcmp(c->top.output + ol - 3, ".h5"))
        return CB_ERR(CB_EINVAL, "%s:%d: key 'output': expected a path ending in .h5, found '%s'", c->file,
                      c->line[find_setting("output")], c->top.output);
    snprintf(s->output, sizeof s->output, "%s", c->top.output);
    snprintf(s->dir, sizeof s->dir, "%.*s", (int)(ol - 3), c->top.output);
    /* model shape */
    int id = find_setting("model.depth"), ih = find_setting("model.hidden_layers");
    if (c->given[id] && c->given[ih])
        return CB_ERR(CB_EINVAL, "%s:%d: key 'model.hidden_layers': expected either depth or hidden_layers, found both "
                      "(depth at line %d)", c->file, c->line[ih], c->line[id]);
    if (c->given[ih]) s->base.depth = c->top.hidden_layers + 1;
    if (c->n_model_globs) { /* the files give the shape; nothing is trained */
        static const char *const shape_keys[] = {"model.depth", "model.hidden_layers", "model.widths", "model.layers", "model.activation",
                                                 "model.beta", "model.bias", "model.init", "model.sigma", "seeds"};
        for (size_t i = 0; i < sizeof shape_keys / sizeof *shape_keys; ++i) {
            int k = find_setting(shape_keys[i]);
            if (c->given[k]) {
                CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key '%s': not with model.file (line %d): the model files "
                                     "give the shape, and nothing is trained", c->file, c->line[k], shape_keys[i],
                                     c->line[find_setting("model.file")]);
                cb_err_hint("remove %s, or sweep over trained models instead of model.file", shape_keys[i]);
                return st;
            }
        }
    } else if (c->n_shapes) { /* every width given: depth and hidden widths come from the lists */
        static const char *const shape_keys[] = {"model.depth", "model.hidden_layers", "model.widths"};
        for (size_t i = 0; i < sizeof shape_keys / sizeof *shape_keys; ++i) {
            int k = find_setting(shape_keys[i]);
            if (c->given[k]) {
                CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key '%s': not with model.layers (line %d), which lists every width",
                                     c->file, c->line[k], shape_keys[i], c->line[find_setting("model.layers")]);
                cb_err_hint("write the shape once: `layers: [784, 300, 100, 10]` (or a list of such lists)");
                return st;
            }
        }
    } else if (!s->n_widths) return missing(c, c->model_line ? c->model_line : 1, "model.widths", "e.g. `model: {depth: 3, widths: [64, 128]}`");
    if (s->base.depth == 1 && s->n_widths > 1)
        return CB_ERR(CB_EINVAL, "%s:%d: key 'model.widths': expected one entry for depth 1 (no hidden layer), found %d",
                      c->file, c->line[find_setting("model.widths")], s->n_widths);
    if (!s->n_seeds) {
        s->seeds = cb_calloc(1, sizeof *s->seeds);
        s->seeds[0] = 1;
        s->n_seeds = 1;
    }
    derive(c);
    CB_TRY(check_features(c));

    CB_TRY(measure_sets(c));
    /* methods */
    if (!c->methods) return missing(c, 1, "methods", "e.g. `methods: [{name: noop}]` (`cbound run --list-methods`)");
    if (c->methods->type != YAML_SEQUENCE_NODE) return bad(c, c->methods, "methods", "a list of {name, grid}");
    int n_methods = (int)(c->methods->data.sequence.items.top - c->methods->data.sequence.items.start);
    if (n_methods == 0) return bad(c, c->methods, "methods", "a non-empty list");
    MethodSpec *ms = cb_calloc((size_t)n_methods, sizeof *ms);
    CbStatus st = CB_OK;
    for (int i = 0; i < n_methods && st == CB_OK; ++i)
        st = parse_method(c, node(c, c->methods->data.sequence.items.start[i]), i, &ms[i]);
    if (st == CB_OK) st = expand(c, ms, n_methods);
    if (st == CB_OK) st = check_unique(c);
    free_methods(ms, n_methods);
    return st;
}

/* One command-line override KEY=VALUE, VALUE in YAML (a scalar, [a, b] or {linspace: ...}),
 * applied after the file as if the file said it. */
static CbStatus apply_override(Ctx *c, const char *ov)
{
    const char *eq = strchr(ov, '=');
    char key[128];
    if (!eq || eq == ov || (size_t)(eq - ov) >= sizeof key) {
        CbStatus st = CB_ERR(CB_EINVAL, "(command line): '%s': expected KEY=VALUE, e.g. train.epochs=2", ov);
        cb_err_hint("KEY is a sweep setting (`cbound run --schema` lists them); VALUE is YAML: 0.1, [0.01, 0.1] or "
                    "{linspace: [0, 1, 5]}");
        return st;
    }
    snprintf(key, sizeof key, "%.*s", (int)(eq - ov), ov);
    const char *file = c->file;
    c->file = "(command line)";
    int idx = find_setting(key);
    yaml_document_t doc, saved = c->doc;
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)(eq + 1), strlen(eq + 1));
    CbStatus st = CB_OK;
    if (idx < 0 && (is_section(key) || !strcmp(key, "methods"))) {
        st = CB_ERR(CB_EINVAL, "(command line): key '%s': a whole section cannot be set on the command line", key);
        if (!strcmp(key, "methods")) cb_err_hint("the methods and their grids are set in the sweep file: edit it, or a copy");
        else cb_err_hint("set its settings one at a time, e.g. %s.%s=VALUE (`cbound run --schema` lists them)", key,
                         !strcmp(key, "data") ? "n_train" : !strcmp(key, "model") ? "depth" :
                         !strcmp(key, "train") ? "lr" : "code");
    } else if (idx < 0) {
        yaml_node_t k = text_node(key, 1);
        const char *dot = strrchr(key, '.');
        char prefix[128] = "";
        if (dot) snprintf(prefix, sizeof prefix, "%.*s", (int)(dot - key), key);
        st = unknown_key(c, &k, key, prefix);
    } else if (!yaml_parser_load(&parser, &doc)) {
        st = CB_ERR(CB_EFORMAT, "(command line): key '%s': not a YAML value: '%s'", key, eq + 1);
    } else {
        c->doc = doc;
        yaml_node_t empty = text_node("", 1);
        yaml_node_t *v = yaml_document_get_root_node(&c->doc);
        if (!v) v = &empty; /* KEY= : an empty value, which set_value judges */
        for (int i = 0; i < c->n_saxes; ++i) /* the override replaces the file's list */
            if (c->saxes[i].setting == idx) {
                free(c->saxes[i].val);
                c->saxes[i--] = c->saxes[--c->n_saxes];
            }
        if (is_axis_node(c, v) && axis_type(&SETTINGS[idx])) st = setting_axis(c, idx, v);
        else st = set_value(c, idx, v);
        c->doc = saved;
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    c->file = file;
    return st;
}

CbStatus cb_sweep_parse(const char *file, const char *text, CbSweep *s)
{
    return cb_sweep_parse_with(file, text, NULL, 0, s);
}

CbStatus cb_sweep_parse_with(const char *file, const char *text, char *const *overrides, int n_overrides, CbSweep *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->file, sizeof s->file, "%s", file);
    size_t len = strlen(text);
    /* The text that keys the run and goes into the results file: the file, then the
     * overrides as comments (so a run with other overrides is another sweep). */
    size_t extra = 64;
    for (int i = 0; i < n_overrides; ++i) extra += strlen(overrides[i]) + 8;
    s->text = cb_malloc(len + extra + 1);
    memcpy(s->text, text, len + 1);
    if (n_overrides) {
        char *block = cb_malloc(extra);
        size_t n = (size_t)snprintf(block, extra, "%s# command-line overrides:\n", len && text[len - 1] != '\n' ? "\n" : "");
        for (int i = 0; i < n_overrides; ++i) n += (size_t)snprintf(block + n, extra - n, "#   %s\n", overrides[i]);
        /* a text that already ends with the block (the one rank 0 sends) is not extended twice */
        if (!(len >= n && !strcmp(text + len - n, block))) memcpy(s->text + len, block, n + 1);
        free(block);
    }
    s->text_hash = cb_rng_hash64(s->text, strlen(s->text), CB_RNG_HASH_INIT);
    cb_model_spec_default(&s->base);
    measure_default(&s->measure);

    Ctx *c = cb_calloc(1, sizeof *c);
    c->file = file;
    c->s = s;
    c->top.seed = 0;
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    CbStatus st = CB_OK;
    if (!yaml_parser_load(&parser, &c->doc)) {
        st = CB_ERR(CB_EFORMAT, "%s:%d: not valid YAML: %s%s%s", file, (int)parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
                    parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        free(c);
        cb_sweep_free(s);
        return st;
    }
    yaml_parser_delete(&parser);
    yaml_node_t *root = yaml_document_get_root_node(&c->doc);
    if (!root) st = CB_ERR(CB_EINVAL, "%s:1: the sweep file is empty", file);
    if (st == CB_OK) st = walk_mapping(c, root, "");
    for (int i = 0; i < n_overrides && st == CB_OK; ++i) st = apply_override(c, overrides[i]);
    if (st == CB_OK) st = finish(c);
    yaml_document_delete(&c->doc);
    for (int i = 0; i < c->n_model_globs; ++i) free(c->model_globs[i]);
    free(c->model_globs);
    free(c->shapes);
    for (int i = 0; i < c->n_saxes; ++i) free(c->saxes[i].val);
    free(c->saxes);
    free(c);
    if (st != CB_OK) {
        cb_sweep_free(s);
        return st;
    }
    return CB_OK;
}

CbStatus cb_sweep_load(const char *path, CbSweep *s) { return cb_sweep_load_with(path, NULL, 0, s); }

CbStatus cb_sweep_load_with(const char *path, char *const *overrides, int n_overrides, CbSweep *s)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "rb");
    if (!f) {
        CbStatus st = CB_ERR(CB_EIO, "%s: cannot open the sweep file: %s", path, strerror(errno));
        cb_err_hint("jobs/sweeps/ holds example sweeps");
        return st;
    }
    size_t cap = 1 << 14, n = 0;
    char *text = cb_malloc(cap);
    for (size_t got; (got = fread(text + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (n + 1 == cap) text = cb_realloc(text, cap *= 2);
        if (n > (64u << 20)) break;
    }
    int err = ferror(f);
    fclose(f);
    text[n] = '\0';
    if (err || n > (64u << 20) || strlen(text) != n) {
        free(text);
        return CB_ERR(CB_EFORMAT, "%s: expected a YAML text file (at most 64 MiB, no NUL bytes), found %s", path,
                      err ? "a read error" : "something else");
    }
    CbStatus st = cb_sweep_parse_with(path, text, overrides, n_overrides, s);
    free(text);
    return st;
}

/* Number of the first line of the sweep text that contains `key` (e.g.
 * "n_train:"), else `dflt`. */
static int text_line(const CbSweep *s, const char *key, int dflt)
{
    const char *hit = strstr(s->text, key);
    if (!hit) return dflt;
    int line = 1;
    for (const char *p = s->text; p < hit; ++p) line += *p == '\n';
    return line;
}

/* Reads every data file whole (all samples, every byte: truncation, trailing
 * bytes, labels, ragged or non-numeric CSV rows) and checks that n_train and
 * n_test fit, so a damaged file or an impossible setting is an error before any
 * results file exists rather than a failed task later. */
static CbStatus check_data_body(const CbSweep *s, const CbDataSpec *d)
{
    if (!strcmp(d->kind, "gaussian")) return CB_OK; /* generated: nothing on disk */
    CbDataSpec all = *d;
    all.n_train = all.n_test = 0;
    CbData tr, te;
    CB_TRY(cb_data_load(&all, &tr, &te));
    size_t ntr = tr.n, nte = te.n;
    cb_data_free(&tr);
    cb_data_free(&te);
    const char *what = d->n_train > ntr ? "n_train" : d->n_test > nte ? "n_test" : NULL;
    if (!what) return CB_OK;
    CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key 'data.%s': expected at most %zu (the %s set's samples), found %zu",
                         s->file, text_line(s, d->n_train > ntr ? "n_train:" : "n_test:", text_line(s, "data:", 1)), what, d->n_train > ntr ? ntr : nte,
                         d->n_train > ntr ? "training" : "test", d->n_train > ntr ? d->n_train : d->n_test);
    cb_err_hint("lower %s, or set it to 0 for all samples", what);
    return st;
}

/* Model files against the sweep's data: input width = features, output width =
 * classes (or regression targets); an error names the file and the line of model.file. */
static CbStatus check_model_files(const CbSweep *s, const CbDataSpec *d)
{
    int any = 0;
    for (int k = 0; k < s->n_stages; ++k) any |= s->stages[k].file[0] != '\0';
    if (!any) return CB_OK;
    CbData tr, te;
    CB_TRY(cb_data_load(d, &tr, &te));
    CbStatus st = CB_OK;
    for (int k = 0; k < s->n_stages && st == CB_OK; ++k) {
        const CbStage *g = &s->stages[k];
        if (!g->file[0] || memcmp(&g->spec.data, d, sizeof *d)) continue;
        CbTrainSpec spec = g->spec;
        if (cb_model_spec_resolve(&spec, &tr) != CB_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", cb_err_msg());
            st = CB_ERR(CB_EINVAL, "%s:%d: key 'model.file': %s does not fit the sweep's data: %s", s->file,
                        text_line(s, "file:", 1), g->file, msg);
            cb_err_hint("the model must map the data's %zu features to its %zu %s", tr.d,
                        tr.n_classes ? tr.n_classes : tr.n_targets, tr.n_classes ? "classes" : "targets");
        }
    }
    cb_data_free(&tr);
    cb_data_free(&te);
    return st;
}

CbStatus cb_sweep_check_data(const CbSweep *s)
{
    int needs = 0;
    for (int i = 0; i < s->n_tasks; ++i) needs |= s->tasks[i].stage >= 0;
    if (!needs) return CB_OK;
    cb_err_clear();
    /* every distinct data set of the stages (data settings may vary across them) */
    CbStatus st0 = CB_OK;
    for (int k = 0; k < s->n_stages && st0 == CB_OK; ++k) {
        const CbDataSpec *d = &s->stages[k].spec.data;
        int seen = 0;
        for (int j = 0; j < k && !seen; ++j) seen = !memcmp(&s->stages[j].spec.data, d, sizeof *d);
        if (seen) continue;
        st0 = cb_data_check(d);
        if (st0 == CB_OK) st0 = check_data_body(s, d);
        if (st0 == CB_OK) st0 = check_model_files(s, d);
        if (st0 == CB_OK && !d->content[0] && strcmp(d->kind, "gaussian"))
            st0 = CB_ERR(CB_EIO, "the data files could not be read to key the stages");
    }
    if (st0 == CB_OK) return CB_OK;
    if (strstr(cb_err_msg(), "key 'model.file'")) return st0;
    if (strstr(cb_err_msg(), "key 'data.")) return st0; /* already names the place */
    char msg[2048], hint[1024];
    snprintf(msg, sizeof msg, "%s", cb_err_msg());
    snprintf(hint, sizeof hint, "%s", cb_err_hint_msg());
    /* Point at the data section's line. */
    CbStatus st = CB_ERR(st0 == CB_EIO ? CB_EIO : CB_EFORMAT, "%s:%d: key 'data': %s", s->file,
                         text_line(s, "data:", 1), msg);
    if (hint[0]) cb_err_hint("%s", hint);
    return st;
}

void cb_sweep_task_label(const CbSweep *s, const CbTask *t, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "%s", t->params_text[0] ? t->params_text : "(defaults)");
    const char *full = s->measures[t->measure].full; /* "measure.a=1;measure.b=2;..." */
    for (int i = 0; i < s->n_measure_vary && n < len; ++i) {
        size_t kl = strlen(s->measure_vary[i]);
        for (const char *p = full; *p; p += strcspn(p, ";"), p += *p == ';')
            if (!strncmp(p, s->measure_vary[i], kl) && p[kl] == '=') {
                n += (size_t)snprintf(buf + n, len - n, " %.*s", (int)strcspn(p, ";"), p);
                break;
            }
    }
}

void cb_sweep_free(CbSweep *s)
{
    free(s->text);
    free(s->widths);
    free(s->seeds);
    free(s->stages);
    free(s->tasks);
    free(s->measures);
    memset(s, 0, sizeof *s);
}

CbStatus cb_sweep_shard(CbSweep *s, int i, int n)
{
    if (n < 1 || i < 0 || i >= n)
        return CB_ERR(CB_EINVAL, "shard %d/%d: expected I/N with 0 <= I < N", i, n);
    int kept = 0;
    for (int j = 0; j < s->n_tasks; ++j) {
        const CbTask *t = &s->tasks[j];
        uint64_t key = t->stage >= 0 ? s->stages[t->stage].key : t->key;
        if (key % (uint64_t)n != (uint64_t)i) continue;
        s->tasks[kept++] = *t; /* index stays the full sweep's */
    }
    s->n_tasks = kept;
    s->shard_i = i;
    s->shard_n = n;
    size_t ol = strlen(s->output);
    char out[1024];
    snprintf(out, sizeof out, "%.*s.shard-%d-of-%d.h5", (int)(ol - 3), s->output, i, n);
    snprintf(s->output, sizeof s->output, "%s", out);
    return CB_OK;
}

int cb_sweep_find_task(const CbSweep *s, const char *key_hex)
{
    for (int i = 0; i < s->n_tasks; ++i)
        if (!strcmp(s->tasks[i].key_hex, key_hex)) return i;
    return -1;
}

/* ------------------------------------------------------------------ schema */

static const char *type_name(Type t)
{
    switch (t) {
    case T_STR: return "string";
    case T_U64: return "integer >= 0";
    case T_SIZE: case T_INT: case T_HIDDEN: return "integer";
    case T_DBL: return "number";
    case T_BOOL: return "true/false";
    case T_ACT: case T_INIT: case T_OPT: case T_SCALE: case T_KIND: case T_FEAT: return "word";
    case T_WIDTHS: case T_SEEDS: case T_DROPS: return "list of integers";
    case T_FILES: return "path(s)";
    case T_LAYERS: return "list (of lists) of integers";
    }
    return "";
}

void cb_sweep_print_schema(FILE *f)
{
    CbSweep d;
    memset(&d, 0, sizeof d);
    cb_model_spec_default(&d.base);
    measure_default(&d.measure);
    Ctx c;
    memset(&c, 0, sizeof c);
    c.s = &d;
    fprintf(f, "| key | type | default | range | meaning |\n|---|---|---|---|---|\n");
    for (int i = 0; i < N_SETTINGS; ++i) {
        const Setting *st = &SETTINGS[i];
        void *p = target_ptr(&c, st);
        char dflt[128] = "", range[96] = "";
        switch (st->type) {
        case T_STR: case T_KIND: case T_FEAT: snprintf(dflt, sizeof dflt, "\"%s\"", (const char *)p); break;
        case T_U64: snprintf(dflt, sizeof dflt, "%" PRIu64, *(const uint64_t *)p); break;
        case T_SIZE: snprintf(dflt, sizeof dflt, "%zu", *(const size_t *)p); break;
        case T_INT: case T_BOOL: case T_HIDDEN: snprintf(dflt, sizeof dflt, "%d", *(const int *)p); break;
        case T_DBL: num_text(*(const double *)p, dflt, sizeof dflt); break;
        case T_ACT: snprintf(dflt, sizeof dflt, "%s", cb_mlp_act_name(*(const CbAct *)p)); break;
        case T_INIT: snprintf(dflt, sizeof dflt, "%s", INIT_NAMES[*(const CbInit *)p == CB_INIT_GAUSSIAN]); break;
        case T_OPT: snprintf(dflt, sizeof dflt, "%s", OPT_NAMES[*(const CbOpt *)p == CB_OPT_ADAM]); break;
        case T_SCALE: snprintf(dflt, sizeof dflt, "%s", cb_data_scale_name(*(const CbScale *)p)); break;
        case T_WIDTHS: snprintf(dflt, sizeof dflt, "(required unless model.file)"); break;
        case T_FILES: snprintf(dflt, sizeof dflt, "(none: train)"); break;
        case T_LAYERS: snprintf(dflt, sizeof dflt, "(alternative to depth + widths)"); break;
        case T_SEEDS: snprintf(dflt, sizeof dflt, "[1]"); break;
        case T_DROPS: snprintf(dflt, sizeof dflt, "[]"); break;
        }
        if (st->type == T_BOOL) snprintf(dflt, sizeof dflt, "%s", *(const int *)p ? "true" : "false");
        if (st->type == T_HIDDEN) snprintf(dflt, sizeof dflt, "%d", d.base.depth - 1);
        if (!strcmp(st->path, "name")) snprintf(dflt, sizeof dflt, "file name");
        if (!strcmp(st->path, "output")) snprintf(dflt, sizeof dflt, "results/NAME.h5");
        if (!strcmp(st->path, "data.seed")) snprintf(dflt, sizeof dflt, "sweep seed");
        if (st->type == T_DBL) range_text(st, range, sizeof range);
        else if (st->type == T_SIZE || st->type == T_INT || st->type == T_HIDDEN || st->type == T_WIDTHS || st->type == T_DROPS) {
            if (st->hi >= BIG) snprintf(range, sizeof range, ">= %g", st->lo);
            else snprintf(range, sizeof range, "[%g, %g]", st->lo, st->hi);
        }
        fprintf(f, "| `%s` | %s | %s | %s | %s |\n", st->path, type_name(st->type), dflt, range, st->doc);
    }
    fprintf(f, "| `methods` | list | (required) | non-empty | `{name: METHOD, grid: {PARAM: VALUES}}`; VALUES = "
               "a scalar, a list, `{linspace: [a, b, n]}` or `{range: [a, b, step]}`; the grid is the "
               "cartesian product |\n");
}
