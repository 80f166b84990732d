/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * fuzz_seed.h — seed corpora made at run time: with ZFUSE_FUZZ_SEEDS=DIR a
 * target writes its seeds (built from the fixtures or from the library's
 * own encoders) into DIR as seed-N files and exits (tests/fuzz/run.sh
 * does this when a corpus is empty).
 */
#ifndef ZFUSE_FUZZ_SEED_H
#define ZFUSE_FUZZ_SEED_H

#include <stdio.h>
#include <stdlib.h>

static inline const char *seed_dir(void)
{
	const char *d = getenv("ZFUSE_FUZZ_SEEDS");
	return d && *d ? d : NULL;
}

static inline void seed_write(const void *buf, size_t len)
{
	static unsigned n;
	char path[4096];
	snprintf(path, sizeof(path), "%s/seed-%04u", seed_dir(), n++);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

#endif
