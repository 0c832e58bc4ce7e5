/*
 * params — a method's parameters (CbParams of include/cbound/task.h): a small
 * name -> value map kept sorted by name, so that printing it in order is the
 * canonical form the task key hashes. Values stay as the sweep wrote them
 * (text); `num` is the parsed number, or NaN when the text is not a number.
 */
#include "cbound/params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find(const CbParams *p, const char *name)
{
    for (int i = 0; i < p->n; ++i)
        if (!strcmp(p->item[i].name, name)) return i;
    return -1;
}

int cb_params_has(const CbParams *p, const char *name) { return find(p, name) >= 0; }

double cb_params_num(const CbParams *p, const char *name, double dflt)
{
    int i = find(p, name);
    return i < 0 ? dflt : p->item[i].num;
}

const char *cb_params_text(const CbParams *p, const char *name, const char *dflt)
{
    int i = find(p, name);
    return i < 0 ? dflt : p->item[i].text;
}

static double parse_num(const char *text)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno == ERANGE) return NAN;
    return v;
}

CbStatus cb_params_set(CbParams *p, const char *name, const char *text)
{
    size_t cap_name = sizeof p->item[0].name, cap_text = sizeof p->item[0].text;
    if (strlen(name) >= cap_name)
        return CB_ERR(CB_EINVAL, "parameter name '%s' is too long (at most %zu characters)", name, cap_name - 1);
    if (strlen(text) >= cap_text)
        return CB_ERR(CB_EINVAL, "parameter %s: value '%s' is too long (at most %zu characters)", name, text,
                      cap_text - 1);
    int i = find(p, name);
    if (i < 0) {
        int cap = (int)(sizeof p->item / sizeof p->item[0]);
        if (p->n == cap) return CB_ERR(CB_EINVAL, "too many parameters (at most %d); cannot add '%s'", cap, name);
        /* insertion keeps the items sorted by name */
        i = p->n;
        while (i > 0 && strcmp(p->item[i - 1].name, name) > 0) {
            p->item[i] = p->item[i - 1];
            --i;
        }
        ++p->n;
        snprintf(p->item[i].name, cap_name, "%s", name);
    }
    snprintf(p->item[i].text, cap_text, "%s", text);
    p->item[i].num = parse_num(text);
    return CB_OK;
}
