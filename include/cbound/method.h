/*
 * method — the registry of sweep methods (src/compress/method.c): every
 * compression method's CbMethod (include/cbound/ctx.h), looked up by name.
 */
#ifndef CBOUND_METHOD_H
#define CBOUND_METHOD_H

#include "cbound/ctx.h"

const CbMethod *cb_method_find(const char *name);
const CbMethod *cb_method_at(int i);   /* iterate: NULL past the end */

#endif
