/*
 * params — a method's parameters as the sweep wrote them: a small name -> value
 * map kept sorted by name, so printing it in order is the canonical form that
 * task keys hash (src/core/params.c).
 */
#ifndef CBOUND_PARAMS_H
#define CBOUND_PARAMS_H

#include "cbound/err.h"

/* Method parameters: name -> value, as written in the sweep (values are kept as
 * text; numbers are also parsed). Sorted by name (canonical). */
typedef struct {
    int n;
    struct {
        char name[32];
        char text[64];
        double num;   /* NaN if the text is not a number */
    } item[16];
} CbParams;

double cb_params_num(const CbParams *p, const char *name, double dflt);
const char *cb_params_text(const CbParams *p, const char *name, const char *dflt);
int cb_params_has(const CbParams *p, const char *name);
/* Set (insert or replace, keeps sorted order); returns CB_EINVAL when full. */
CbStatus cb_params_set(CbParams *p, const char *name, const char *text);

#endif
