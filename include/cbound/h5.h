/*
 * h5 — scalar HDF5 attributes, written the same way in every file cbound writes
 * (src/core/h5.c): results, model files, exported data sets.
 */
#ifndef CBOUND_H5_H
#define CBOUND_H5_H

#include <hdf5.h>
#include <stdint.h>

/* Each creates the scalar attribute NAME on OBJ (a file, group or dataset) and returns
 * HDF5's status: negative on failure, for the caller to report with its own context.
 *   str   fixed-length, NUL-terminated UTF-8 string of exactly the value's length
 *   i64   little-endian 64-bit integer
 *   f64   IEEE little-endian double */
herr_t cb_h5_attr_str(hid_t obj, const char *name, const char *value);
herr_t cb_h5_attr_i64(hid_t obj, const char *name, int64_t v);
herr_t cb_h5_attr_f64(hid_t obj, const char *name, double v);

#endif
