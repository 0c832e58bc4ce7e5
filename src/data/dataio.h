/*
 * dataio — private to the data layer (src/data/dataio.c): helpers every reader
 * shares; not part of the public interface. Reading goes through zlib's gzFile,
 * which reads gzip and plain files alike.
 */
#ifndef CBOUND_DATAIO_H
#define CBOUND_DATAIO_H

#include "cbound/data.h"

#include <zlib.h>

/* Open `path` for reading; CB_EIO naming the file and the system error. */
CbStatus cb_data_gz_open(const char *path, gzFile *out);

/* Read up to n bytes; *got = bytes read. CB_EFORMAT on a corrupt gzip stream
 * (a truncated .gz is "unexpected end of file", reported as truncation by the caller). */
CbStatus cb_data_gz_read(gzFile f, const char *path, void *buf, size_t n, size_t *got);

/* Whole file into a NUL-terminated buffer (caller frees). */
CbStatus cb_data_gz_slurp(const char *path, char **text, size_t *len);

/* d->source = "a + b" (b may be NULL), cut with "..." if too long. */
void cb_data_set_source(CbData *d, const char *a, const char *b);

/* 1 if the path names an existing regular file. */
int cb_data_file_exists(const char *path);

#endif
