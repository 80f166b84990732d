/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * dsl_prop.h — dataset properties inside the library (the public calls
 * are zfuse_prop_* in zfuse/dataset.h).
 */
#ifndef ZFUSE_DSL_PROP_H
#define ZFUSE_DSL_PROP_H

#include <stddef.h>
#include "zfuse/dataset.h"

struct spa;

/* Check settings as zfuse_prop_set would for a new child of dataset
 * parent, changing nothing: dataset creation and clone check their -o
 * list before anything is made. Errors as zfuse_prop_set. */
int dsl_prop_check(struct spa *spa, const char *parent, const struct zfuse_prop_setting *props,
		   size_t nprops);

/* zfuse_prop_set without volsize (which zvol_set_volsize handles, then
 * calls this for the rest): one sync task. */
int dsl_prop_set_dsl(struct spa *spa, const char *name, const struct zfuse_prop_setting *props,
		     size_t nprops);

#endif
