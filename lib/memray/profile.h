/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/memray/profile.h — a decoded memray capture as data: its header, its ALLOCATION records
 * and the totals `memray stats` prints. Types only: the reader fills them (reader.h), the
 * reader's accounting (stats.h) and the CLIs read them. */
#ifndef BM_MEMRAY_PROFILE_H
#define BM_MEMRAY_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Record kinds, for counting (memray-format.md §4). */
enum memray_rec {
	MEMRAY_REC_ALLOCATION,
	MEMRAY_REC_FRAME_PUSH,
	MEMRAY_REC_FRAME_POP,
	MEMRAY_REC_OBJECT_RECORD,
	MEMRAY_REC_TRAILER,
	MEMRAY_REC_MEMORY_RECORD,
	MEMRAY_REC_NATIVE_TRACE_INDEX,
	MEMRAY_REC_MEMORY_MAP_START,
	MEMRAY_REC_SEGMENT_HEADER,
	MEMRAY_REC_SEGMENT,
	MEMRAY_REC_THREAD_RECORD,
	MEMRAY_REC_CONTEXT_SWITCH,
	MEMRAY_REC_CODE_OBJECT,
	MEMRAY_NR_REC,
};

struct memray_header {
	int32_t version;
	uint32_t python_version;
	bool native_traces;
	uint8_t file_format;
	uint64_t n_allocations, n_frames;
	int64_t start_ms, end_ms;
	char *command_line;
	int32_t pid;
	uint64_t main_tid, skipped_frames_on_main_tid;
	uint8_t python_allocator;
	bool trace_python_allocators, track_object_lifetimes;
	char *libdest;
	char **site_packages, **sys_path;
	size_t nr_site_packages, nr_sys_path;
	size_t header_bytes; /* length of the header in the file */
};

/* One ALLOCATION record as memray's reader decodes it. */
struct memray_event {
	uint64_t offset;    /* of the record's first byte in the file */
	uint64_t tid;	    /* current thread (CONTEXT_SWITCH) */
	uint64_t addr;	    /* low 3 bits are 0: the format drops them */
	uint64_t size;	    /* 0 for FREE / PYMALLOC_FREE */
	uint64_t native_id; /* leaf node of the native stack tree; 0 = none */
	uint32_t map_generation;
	uint8_t allocator;	   /* memray id 1..15 */
	bool cache_hit;		   /* address came from the pointer cache */
	uint32_t py_depth;	   /* Python frames on the thread's stack */
	const uint64_t *py_frames; /* their code ids, outermost first (valid during the call) */
};

/* One SEGMENT_HEADER: an ELF image's path, load bias and the span of its PT_LOADs. */
struct memray_image_range {
	char *path;
	uint64_t load_addr;
	uint64_t lo, hi; /* [lo, hi): runtime addresses of its segments */
	uint32_t generation;
};

/* One CODE_OBJECT definition. */
struct memray_code {
	char *function, *filename;
	int64_t firstlineno;
	bool defined;
};

/* Called for every ALLOCATION in file order; a negative return stops reading with that value. */
typedef int memray_event_fn(void *arg, const struct memray_event *ev);

struct memray_profile {
	struct memray_header hdr;
	uint64_t nr_records[MEMRAY_NR_REC];
	uint64_t allocations;	      /* allocator records (not FREE/MUNMAP), as `memray stats` */
	uint64_t total_bytes;	      /* sum of their sizes */
	uint64_t peak_bytes;	      /* high-water mark of live bytes */
	uint64_t live_bytes;	      /* live at the end of the file (leaked) */
	uint64_t nr_by_allocator[16]; /* ALLOCATION records by memray allocator id */
	uint64_t nr_cache_hits;
	uint64_t *native_ip;	 /* node k (1-based) is native_ip[k-1] ... */
	uint64_t *native_parent; /* ... with parent native_parent[k-1] */
	size_t nr_native_nodes;
	uint32_t nr_map_generations;
	uint64_t nr_threads;	   /* distinct CONTEXT_SWITCH tids */
	bool has_trailer;	   /* false: the data ended without TRAILER (memray tolerates it) */
	uint64_t data_bytes;	   /* bytes read, header included */
	struct memray_code *codes; /* CODE_OBJECTs by id: codes[id], id < nr_codes, if defined */
	size_t nr_codes;
	struct memray_image_range *images; /* SEGMENT_HEADERs of every generation, in order */
	size_t nr_images;
};

#endif /* BM_MEMRAY_PROFILE_H */
