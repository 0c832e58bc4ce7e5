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
 * Values are canonicalized (numbers in their shortest round-trip form) before
 * they enter a key, so 0.50 and 0.5 are the same task.
 */
#include "cbound/sweep.h"
#include "cbound/err.h"
#include "cbound/rng.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ------------------------------------------------------------------ settings table */

typedef enum {
    T_STR, T_U64, T_SIZE, T_INT, T_DBL, T_BOOL, T_ACT, T_INIT, T_OPT, T_SCALE, T_KIND,
    T_WIDTHS, T_SEEDS, T_DROPS, T_HIDDEN
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
    {"data.scale", T_SCALE, SP(data.scale), 0, 0, 0, 0, "none, unit (x/255), standardize or auto (unit for images)"},
    {"data.dim", T_SIZE, SP(data.dim), 0, 0, BIG, 0, "gaussian: input dimension"},
    {"data.n_classes", T_SIZE, SP(data.n_classes), 0, 0, BIG, 0, "gaussian: classes of the teacher"},
    {"data.teacher_width", T_SIZE, SP(data.teacher_width), 0, 0, BIG, 0, "gaussian: hidden width of the teacher"},
    {"data.noise", T_DBL, SP(data.noise), 0, 0, BIG, 0, "gaussian regression: target noise std"},
    {"data.seed", T_U64, SP(data.seed), 0, 0, 0, 0, "gaussian data / random subsets / csv split (default: sweep seed)"},
    {"model.depth", T_INT, SP(depth), 0, 1, CB_MODEL_MAX_DEPTH, 0, "linear layers (hidden layers + 1)"},
    {"model.hidden_layers", T_HIDDEN, TO(hidden_layers), 0, 0, CB_MODEL_MAX_DEPTH - 1, 0, "alternative to depth: depth - 1"},
    {"model.widths", T_WIDTHS, IN_TOP, 0, 0, 1, 1e7, 0, "hidden widths: one model shape per entry (all hidden layers that wide)"},
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
};
#undef SP
#undef ME
#undef TO
static const int N_SETTINGS = (int)(sizeof SETTINGS / sizeof SETTINGS[0]);

static const char *const SECTIONS[] = {"data", "model", "train", "measure"};
static const char *const INIT_NAMES[] = {"kaiming", "gaussian"};
static const char *const OPT_NAMES[] = {"sgd", "adam"};
static const char *const KINDS[] = {"fashion-mnist", "mnist", "cifar10", "csv", "gaussian", NULL};

static void measure_default(CbMeasureOpts *m)
{
    m->norms = 1;
    m->latala = 1;
    m->mc_masks = 0;
    m->sparsity = 1;
    m->margins = 1;
    m->sketch = 0;
    m->norm_rtol = 1e-9;
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

/* An integer list (widths, seeds, drops) with each element in [lo, hi]. */
static CbStatus int_list(Ctx *c, const yaml_node_t *n, const char *key, double lo, double hi, int max,
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
        for (int j = 0; j < i; ++j)
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
    case T_KIND: {
        int count = 0;
        while (KINDS[count]) ++count;
        CB_TRY(want_choice(c, n, key, KINDS, count, &choice));
        snprintf(p, STRSZ(CbDataSpec, kind), "%s", KINDS[choice]);
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
            return bad(c, n, key, "none, unit, standardize or auto");
        return CB_OK;
    case T_WIDTHS: {
        uint64_t *w;
        int count;
        CB_TRY(int_list(c, n, key, st->lo, st->hi, 1 << 16, &w, &count));
        c->s->widths = cb_calloc((size_t)count, sizeof *c->s->widths);
        for (int i = 0; i < count; ++i) c->s->widths[i] = (size_t)w[i];
        c->s->n_widths = count;
        free(w);
        return CB_OK;
    }
    case T_SEEDS: {
        CB_TRY(int_list(c, n, key, 0, 1.8e19, 1 << 16, &c->s->seeds, &c->s->n_seeds));
        if (c->s->n_seeds == 0) return bad(c, n, key, "a non-empty list");
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

static CbStatus unknown_key(Ctx *c, const yaml_node_t *k, const char *path, const char *prefix)
{
    CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key '%s': unknown key", c->file, line_of(k), path);
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
            int section = 0;
            for (size_t i = 0; i < sizeof SECTIONS / sizeof *SECTIONS; ++i) section |= !strcmp(scalar(k), SECTIONS[i]);
            if (section) {
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

static CbStatus grid_generator(Ctx *c, const yaml_node_t *map, const char *key, Axis *a)
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
        if (!(x[2] >= 1 && x[2] <= 1e6)) return bad(c, args, key, form);
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
        if (!(x[2] > 0) || (x[1] - x[0]) / x[2] > 1e7) return bad(c, args, key, form);
        for (double v = x[0]; v < x[1]; v += x[2]) {
            num_text(v, txt, sizeof txt);
            axis_push(a, txt, line);
        }
    }
    if (a->n == 0) return bad(c, args, key, "a range with at least one value");
    return CB_OK;
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
} MethodSpec;

static CbStatus parse_method(Ctx *c, yaml_node_t *e, int i, MethodSpec *ms)
{
    char key[128];
    snprintf(key, sizeof key, "methods[%d]", i);
    ms->line = line_of(e);
    if (e->type != YAML_MAPPING_NODE) return bad(c, e, key, "a mapping {name: METHOD, grid: {...}}");
    yaml_node_t *name = NULL, *grid = NULL;
    for (yaml_node_pair_t *pr = e->data.mapping.pairs.start; pr < e->data.mapping.pairs.top; ++pr) {
        yaml_node_t *k = node(c, pr->key);
        const char *ks = k->type == YAML_SCALAR_NODE ? scalar(k) : "";
        char path[160];
        snprintf(path, sizeof path, "%s.%s", key, ks);
        if (!strcmp(ks, "name") && !name) name = node(c, pr->value);
        else if (!strcmp(ks, "grid") && !grid) grid = node(c, pr->value);
        else {
            CbStatus st = CB_ERR(CB_EINVAL, "%s:%d: key '%s': unknown or repeated key", c->file, line_of(k), path);
            cb_err_hint("a method entry has two keys: name and grid");
            return st;
        }
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
        CbStatus st = bad(c, name, key, "a method name");
        cb_err_hint("known methods: %s (`cbound run --list-methods`)", names);
        return st;
    }
    if (!grid) return CB_OK;
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
        if (v->type == YAML_SEQUENCE_NODE) {
            int len = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
            if (len == 0) return bad(c, v, pkey, "a non-empty list");
            for (int j = 0; j < len; ++j) {
                yaml_node_t *x = node(c, v->data.sequence.items.start[j]);
                CB_TRY(grid_scalar(c, x, pkey, txt, sizeof txt));
                axis_push(a, txt, line_of(x));
            }
        } else if (v->type == YAML_MAPPING_NODE) {
            CB_TRY(grid_generator(c, v, pkey, a));
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
    char *text = cb_model_spec_text(&st->spec, 0);
    size_t len = strlen(text);
    text = cb_realloc(text, len + 64);
    snprintf(text + len, 64, "seed: %" PRIu64 "\n", seed);
    st->key = cb_rng_hash64(text, strlen(text), CB_RNG_HASH_INIT);
    free(text);
    hex_key(st->key, st->key_hex);
    snprintf(st->model_path, sizeof st->model_path, "%s/models/%s.h5", s->dir, st->key_hex);
    double din, dout, ntr, nte;
    data_shape(&s->base.data, &din, &dout, &ntr, &nte);
    int depth = st->spec.depth;
    double w = (double)width, params = depth == 1 ? din * dout : din * w + (depth - 2) * w * w + w * dout;
    st->cost = 6 * params * ntr * st->spec.train.epochs / 1e9;
}

static CbStatus add_task(Ctx *c, const MethodSpec *ms, const int *pick, int stage, uint64_t seed)
{
    CbSweep *s = c->s;
    CbTask *t = &s->tasks[s->n_tasks];
    memset(t, 0, sizeof *t);
    t->index = s->n_tasks;
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
                 s->measure_text[0] ? ";" : "", s->measure_text);
    else
        snprintf(canon, sizeof canon, "method=%s;v=%d;stage=-;sweep_seed=%" PRIu64 ";seed=%" PRIu64 "%s%s%s%s",
                 ms->m->name, ms->m->version, s->seed, seed, n ? ";" : "", t->params_text,
                 s->measure_text[0] ? ";" : "", s->measure_text);
    t->key = cb_rng_hash64(canon, strlen(canon), CB_RNG_HASH_INIT);
    hex_key(t->key, t->key_hex);
    t->cost = stage >= 0 ? s->stages[stage].cost / (6.0 * s->stages[stage].spec.train.epochs) : 1e-6;
    /* Whole-point check (combinations of parameters). */
    CB_TRY(method_check(c, ms->m, &t->params, ms->line, "methods"));
    ++s->n_tasks;
    return CB_OK;
}

static CbStatus expand(Ctx *c, MethodSpec *ms, int n_methods)
{
    CbSweep *s = c->s;
    s->stages = cb_calloc((size_t)s->n_widths * (size_t)s->n_seeds, sizeof *s->stages);
    for (int w = 0; w < s->n_widths; ++w)
        for (int k = 0; k < s->n_seeds; ++k) add_stage(s, s->widths[w], s->seeds[k]);
    long total = 0;
    for (int m = 0; m < n_methods; ++m) {
        long points = 1;
        for (int a = 0; a < ms[m].n_axes; ++a) points *= ms[m].axes[a].n;
        total += points * (ms[m].m->standalone ? s->n_seeds : s->n_stages);
        if (total > 10000000)
            return CB_ERR(CB_EINVAL, "%s:%d: key 'methods': the sweep expands to more than 10,000,000 tasks",
                          c->file, c->methods_line);
    }
    s->tasks = cb_calloc((size_t)total, sizeof *s->tasks);
    /* Order: stage (width, seed), method, grid point (first axis slowest); then
     * standalone methods by seed. This order is the tables' row order. */
    for (int pass = 0; pass < 2; ++pass)
        for (int st = 0; st < (pass ? s->n_seeds : s->n_stages); ++st)
            for (int m = 0; m < n_methods; ++m) {
                if (!ms[m].m->standalone != !pass) continue;
                int pick[16] = {0};
                for (;;) {
                    if (pass) CB_TRY(add_task(c, &ms[m], pick, -1, s->seeds[st]));
                    else CB_TRY(add_task(c, &ms[m], pick, st, s->stages[st].seed));
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
    if (!s->n_widths) return missing(c, c->model_line ? c->model_line : 1, "model.widths", "e.g. `model: {depth: 3, widths: [64, 128]}`");
    if (s->base.depth == 1 && s->n_widths > 1)
        return CB_ERR(CB_EINVAL, "%s:%d: key 'model.widths': expected one entry for depth 1 (no hidden layer), found %d",
                      c->file, c->line[find_setting("model.widths")], s->n_widths);
    if (!s->n_seeds) {
        s->seeds = cb_calloc(1, sizeof *s->seeds);
        s->seeds[0] = 1;
        s->n_seeds = 1;
    }
    /* data: the stream seed of synthetic data / subsets / csv splits */
    CbDataSpec *d = &s->base.data;
    int uses_seed = !strcmp(d->kind, "gaussian") || !strcmp(d->kind, "csv") || d->random_subset;
    if (!c->given[find_setting("data.seed")] && uses_seed) d->seed = s->seed;
    s->base.train.loss = d->regression ? CB_LOSS_MSE : CB_LOSS_CROSS_ENTROPY;
    s->base.train.quiet = 1;
    /* measure text: canonical, defaults left out */
    CbMeasureOpts def;
    measure_default(&def);
    size_t n = 0;
    char v[64];
#define MEAS(field, fmt_val)                                                                              \
    if (s->measure.field != def.field) {                                                                  \
        fmt_val;                                                                                          \
        n += (size_t)snprintf(s->measure_text + n, sizeof s->measure_text - n, "%smeasure.%s=%s", n ? ";" : "", \
                              #field, v);                                                                 \
    }
    MEAS(norms, snprintf(v, sizeof v, "%d", s->measure.norms))
    MEAS(latala, snprintf(v, sizeof v, "%d", s->measure.latala))
    MEAS(mc_masks, snprintf(v, sizeof v, "%d", s->measure.mc_masks))
    MEAS(sparsity, snprintf(v, sizeof v, "%d", s->measure.sparsity))
    MEAS(margins, snprintf(v, sizeof v, "%d", s->measure.margins))
    MEAS(sketch, snprintf(v, sizeof v, "%d", s->measure.sketch))
    MEAS(norm_rtol, num_text(s->measure.norm_rtol, v, sizeof v))
#undef MEAS
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

CbStatus cb_sweep_parse(const char *file, const char *text, CbSweep *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->file, sizeof s->file, "%s", file);
    size_t len = strlen(text);
    s->text = cb_malloc(len + 1);
    memcpy(s->text, text, len + 1);
    s->text_hash = cb_rng_hash64(text, len, CB_RNG_HASH_INIT);
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
    if (st == CB_OK) st = finish(c);
    yaml_document_delete(&c->doc);
    free(c);
    if (st != CB_OK) {
        cb_sweep_free(s);
        return st;
    }
    return CB_OK;
}

CbStatus cb_sweep_load(const char *path, CbSweep *s)
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
    CbStatus st = cb_sweep_parse(path, text, s);
    free(text);
    return st;
}

CbStatus cb_sweep_check_data(const CbSweep *s)
{
    int needs = 0;
    for (int i = 0; i < s->n_tasks; ++i) needs |= s->tasks[i].stage >= 0;
    if (!needs) return CB_OK;
    cb_err_clear();
    if (cb_data_check(&s->base.data) == CB_OK) return CB_OK;
    char msg[2048], hint[1024];
    snprintf(msg, sizeof msg, "%s", cb_err_msg());
    snprintf(hint, sizeof hint, "%s", cb_err_hint_msg());
    /* Point at the data section's line. */
    int line = 1;
    const char *p = s->text;
    for (int l = 1; p && *p; ++l) {
        if (!strncmp(p, "data:", 5)) {
            line = l;
            break;
        }
        p = strchr(p, '\n');
        if (p) ++p;
    }
    CbStatus st = CB_ERR(CB_EIO, "%s:%d: key 'data': %s", s->file, line, msg);
    if (hint[0]) cb_err_hint("%s", hint);
    return st;
}

void cb_sweep_free(CbSweep *s)
{
    free(s->text);
    free(s->widths);
    free(s->seeds);
    free(s->stages);
    free(s->tasks);
    memset(s, 0, sizeof *s);
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
    case T_ACT: case T_INIT: case T_OPT: case T_SCALE: case T_KIND: return "word";
    case T_WIDTHS: case T_SEEDS: case T_DROPS: return "list of integers";
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
        case T_STR: case T_KIND: snprintf(dflt, sizeof dflt, "\"%s\"", (const char *)p); break;
        case T_U64: snprintf(dflt, sizeof dflt, "%" PRIu64, *(const uint64_t *)p); break;
        case T_SIZE: snprintf(dflt, sizeof dflt, "%zu", *(const size_t *)p); break;
        case T_INT: case T_BOOL: case T_HIDDEN: snprintf(dflt, sizeof dflt, "%d", *(const int *)p); break;
        case T_DBL: num_text(*(const double *)p, dflt, sizeof dflt); break;
        case T_ACT: snprintf(dflt, sizeof dflt, "%s", cb_mlp_act_name(*(const CbAct *)p)); break;
        case T_INIT: snprintf(dflt, sizeof dflt, "%s", INIT_NAMES[*(const CbInit *)p == CB_INIT_GAUSSIAN]); break;
        case T_OPT: snprintf(dflt, sizeof dflt, "%s", OPT_NAMES[*(const CbOpt *)p == CB_OPT_ADAM]); break;
        case T_SCALE: snprintf(dflt, sizeof dflt, "%s", cb_data_scale_name(*(const CbScale *)p)); break;
        case T_WIDTHS: snprintf(dflt, sizeof dflt, "(required)"); break;
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
