/*
 * readers — private to the data layer: the entry points of the file readers
 * (src/data/data_idx.c, src/data/data_csv.c) that only the dispatcher
 * (src/data/data.c) calls. The public readers are in include/cbound/data.h.
 */
#ifndef CBOUND_READERS_H
#define CBOUND_READERS_H

#include "cbound/data.h"

#include <stddef.h>

/* IDX headers only: magics, dimensions, equal counts (src/data/data_idx.c). */
CbStatus cb_data_idx_check(const char *images_path, const char *labels_path);

/* CIFAR-10 batches: present, readable, sizes a multiple of 3073 (src/data/data_idx.c). */
CbStatus cb_data_cifar_check(const char *const *batch_paths, int n_batches);

/* csv: if `target` names a separate target file, its path (relative to the data
 * file's directory unless absolute) into out and 1; else 0 (src/data/data_csv.c). */
int cb_data_csv_target_file(const char *data_path, const char *target, char *out, size_t len);

/* cb_data_read_csv; partial = 1 allows classes without samples (a test file). */
CbStatus cb_data_read_csv_part(const char *path, const char *target, int regression, int partial, CbData *out);

#endif
