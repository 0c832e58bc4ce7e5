/*
 * result — a task's output rows (see include/cbound/result.h).
 */
#include "cbound/result.h"
#include "cbound/err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cb_result_init(CbResult *r, int n_layers)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < CB_T_COUNT; ++i) r->task[i] = NAN;
    r->n_layers = n_layers;
    r->layers = n_layers > 0 ? cb_calloc((size_t)n_layers, sizeof *r->layers) : NULL;
    for (int l = 0; l < n_layers; ++l) {
        for (int i = 0; i < CB_L_COUNT; ++i) r->layers[l].v[i] = NAN;
        r->layers[l].layer = l;
    }
}

void cb_result_free(CbResult *r)
{
    free(r->layers);
    free(r->bounds);
    free(r->series);
    memset(r, 0, sizeof *r);
}

static void copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    memset(dst + n, 0, cap - n);
}

CbBoundRow *cb_result_add_bound(CbResult *r, const char *name, const char *variant, const char *scale,
                                double value_ln, double gamma, double margin_loss, double complexity)
{
    if (r->n_bounds == r->cap_bounds) {
        r->cap_bounds = r->cap_bounds ? 2 * r->cap_bounds : 16;
        r->bounds = cb_realloc(r->bounds, (size_t)r->cap_bounds * sizeof *r->bounds);
    }
    CbBoundRow *b = &r->bounds[r->n_bounds++];
    memset(b, 0, sizeof *b);
    copy_name(b->name, sizeof b->name, name);
    copy_name(b->variant, sizeof b->variant, variant ? variant : "");
    copy_name(b->scale, sizeof b->scale, scale);
    b->value_ln = value_ln;
    b->error_bound = !strcmp(scale, "error") ? exp(value_ln) : NAN;
    b->gamma = gamma;
    b->margin_loss = margin_loss;
    b->complexity = complexity;
    b->n = NAN;
    b->applies = 1;
    b->vacuous = !(b->error_bound < 1.0); /* NaN (not a bound on the error) counts as vacuous */
    return b;
}

void cb_result_bound_why(CbBoundRow *b, const char *fmt, ...)
{
    char msg[sizeof b->why_not];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(b->why_not);
    snprintf(b->why_not + n, sizeof b->why_not - n, "%s%s", n ? "; " : "", msg);
    b->applies = 0;
}

void cb_result_add_series(CbResult *r, const char *name, int64_t i, double x, double y)
{
    if (r->n_series == r->cap_series) {
        r->cap_series = r->cap_series ? 2 * r->cap_series : 64;
        r->series = cb_realloc(r->series, (size_t)r->cap_series * sizeof *r->series);
    }
    CbSeriesRow *s = &r->series[r->n_series++];
    copy_name(s->name, sizeof s->name, name);
    s->i = i;
    s->x = x;
    s->y = y;
}
