/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/stacks.h — the ELF images a process maps (path, load bias, PT_LOADs): what memray
 * needs to symbolise native frames (memray-format.md §4.7). */
#ifndef BM_STACKS_H
#define BM_STACKS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memray/writer.h"

/* One mapped ELF object, as one dl_iterate_phdr() entry would describe it. */
struct stacks_image {
	char *path;		     /* openable from our mount namespace (see below) */
	uint64_t load_addr;	     /* load bias: runtime address = load_addr + p_vaddr */
	struct memray_segment *segs; /* one per PT_LOAD, in program header order */
	size_t nr_segs;
};

struct stacks_images {
	struct stacks_image *v;
	size_t n;
};

/* Snapshots the images of process @pid into @out (which it overwrites; release it with
 * stacks_images_release()). An image is every distinct absolute path in /proc/PID/maps that
 * has an executable mapping and a mapping at file offset 0, in order of first appearance;
 * [vdso], [vsyscall], anonymous and "(deleted)" mappings, and files that cannot be opened or
 * are not ELF, are left out. Bias = start of the first offset-0 mapping minus the first
 * PT_LOAD's p_vaddr rounded down to the page size. The path is the one in maps when that
 * names the same file from our mount namespace, else /proc/PID/root/PATH (valid while the
 * process lives). Returns 0, -ENOMEM, or the -errno of reading /proc/PID/maps. */
int stacks_images_read(pid_t pid, struct stacks_images *out);

/* Frees what stacks_images_read() allocated and empties @im. NULL-safe. */
void stacks_images_release(struct stacks_images *im);

/* Makes *@out a new array of im->n memray_image views of @im (they point into @im, so @im
 * must outlive them) for memray_writer__maps(). The caller frees only the array. *@out is
 * NULL when im->n is 0. Returns 0 or -ENOMEM. */
int stacks_images_to_memray(const struct stacks_images *im, struct memray_image **out);

#endif /* BM_STACKS_H */
