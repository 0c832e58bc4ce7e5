/*
 * data_priv — helpers shared by the data module's files (src/data*.c); not part
 * of the public interface. Reading goes through zlib's gzFile, which reads
 * gzip and plain files alike.
 */
#ifndef CBOUND_DATA_PRIV_H
#define CBOUND_DATA_PRIV_H

#include "cbound/data.h"

#include <zlib.h>

/* Open `path` for reading; CB_EIO naming the file and the system error. */
CbStatus cb_data_gz_open(const char *path, gzFile *out);

/* Read up to n bytes; *got = bytes read. CB_EFORMAT on a corrupt gzip stream
 * (a truncated .gz is "unexpected end of file", reported as truncation by the caller). */
CbStatus cb_data_gz_read(gzFile f, const char *path, void *buf, size_t n, size_t *got);

/* Whole file into a NUL-terminated buffer (caller frees). */
CbStatus cb_data_gz_slurp(const char *path, char **text, size_t *len);

/* IDX headers only: magics, dimensions, equal counts (src/data_idx.c). */
CbStatus cb_data_idx_check(const char *images_path, const char *labels_path);

/* CIFAR-10 batches: present, readable, sizes a multiple of 3073 (src/data_idx.c). */
CbStatus cb_data_cifar_check(const char *const *batch_paths, int n_batches);

/* csv: if `target` names a separate target file, its path (relative to the data
 * file's directory unless absolute) into out and 1; else 0 (src/data_csv.c). */
int cb_data_csv_target_file(const char *data_path, const char *target, char *out, size_t len);

/* cb_data_read_csv; partial = 1 allows classes without samples (a test file). */
CbStatus cb_data_read_csv_part(const char *path, const char *target, int regression, int partial, CbData *out);

/* d->source = "a + b" (b may be NULL), cut with "..." if too long. */
void cb_data_set_source(CbData *d, const char *a, const char *b);

/* 1 if the path names an existing regular file. */
int cb_data_file_exists(const char *path);

#endif
