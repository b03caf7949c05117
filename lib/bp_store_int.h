/* SPDX-License-Identifier: MIT */
/* Internals shared by the store sources (bp_store*.c), which alone include it. */
#ifndef BP_STORE_INT_H
#define BP_STORE_INT_H

#include <stddef.h>

/** NULL if @p id is a valid store id (its length in *len), else what is wrong with it. */
const char *bp__store_id_problem(const char *id, size_t *len);

#endif
