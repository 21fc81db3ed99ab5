// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/pyoffsets.c — finds a process's CPython runtime and the offsets of the structures
 * the frame walker reads. 3.10-3.12: a table per minor version (offsetof() against each
 * version's internal headers, x86-64, release builds); 3.13: the interpreter's own
 * _Py_DebugOffsets at the start of _PyRuntime. Anything else is unknown: native frames only. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procmem.h"
#include "pyoffsets.h"
#include "stacks.h"
#include "symbols.h"

#define N (BM_PY_OFF_NONE)

/* PyASCIIObject in every release build: length, hash and state after the object header; the
 * data of a compact ASCII str and of other compact strs after the struct's end */
#define PY_STR(ascii, compact)                                                                     \
	.str_length = 16, .str_hash = 24, .str_state = 32, .str_ascii = (ascii),                   \
	.str_compact = (compact)

/* A version's layout with interp_head holding the offset of interpreters.head in _PyRuntime.
 * interp_next is 0 in all three: PyInterpreterState starts with `next` before 3.13. */
static const struct py_layout table[] = {
	{ .version = 0x030A0000,
	  .conf = { .interp_head = 32,
		    .threads_head = 8,
		    .ts_next = 8,
		    .ts_tid = 176,
		    .ts_frame = 24,
		    .cframe_frame = N,
		    .fr_previous = 24,
		    .fr_code = 32,
		    .fr_instr = 96,
		    .fr_owner = N,
		    .fr_entry = N,
		    .co_code = N,
		    .co_firstlineno = 40,
		    .co_filename = 104,
		    .co_name = 112 /* co_name */,
		    .flavor = BM_PY_FRAMEOBJ,
		    .tid_is_pthread = 1,
		    .owner_cstack = 0xff,
		    PY_STR(48, 72) },
	  .co_linetable = 120,
	  .bytes_size = 16,
	  .bytes_data = 32 },
	{ .version = 0x030B0000,
	  .conf = { .interp_head = 40,
		    .threads_head = 16,
		    .ts_next = 8,
		    .ts_tid = 160,
		    .ts_frame = 56,
		    .cframe_frame = 8,
		    .fr_previous = 48,
		    .fr_code = 32,
		    .fr_instr = 56,
		    .fr_owner = N,
		    .fr_entry = 68,
		    .co_code = 184,
		    .co_firstlineno = 72,
		    .co_filename = 112,
		    .co_name = 128 /* co_qualname */,
		    .flavor = BM_PY_IFRAME,
		    .owner_cstack = 0xff,
		    PY_STR(48, 72) },
	  .co_linetable = 136,
	  .bytes_size = 16,
	  .bytes_data = 32 },
	{ .version = 0x030C0000,
	  .conf = { .interp_head = 40,
		    .threads_head = 72,
		    .ts_next = 8,
		    .ts_tid = 144,
		    .ts_frame = 56,
		    .cframe_frame = 0,
		    .fr_previous = 8,
		    .fr_code = 0,
		    .fr_instr = 56,
		    .fr_owner = 70,
		    .fr_entry = N,
		    .co_code = 192,
		    .co_firstlineno = 68,
		    .co_filename = 112,
		    .co_name = 128 /* co_qualname */,
		    .flavor = BM_PY_IFRAME,
		    .owner_cstack = 3,
		    PY_STR(40, 56) },
	  .co_linetable = 136,
	  .bytes_size = 16,
	  .bytes_data = 32 },
};

static uint64_t u64_at(const uint8_t *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

/* _Py_DebugOffsets (3.13), at the start of _PyRuntime: byte positions of the fields we use. */
enum {
	DBG_VERSION = 8,
	DBG_FREE_THREADED = 16,
	DBG_INTERP_HEAD = 40,
	DBG_INTERP_NEXT = 64,
	DBG_THREADS_HEAD = 72,
	DBG_TS_NEXT = 168,
	DBG_TS_FRAME = 184,
	DBG_TS_NATIVE_TID = 200,
	DBG_FR_PREVIOUS = 232,
	DBG_FR_EXECUTABLE = 240,
	DBG_FR_INSTR = 248,
	DBG_FR_OWNER = 264,
	DBG_CO_FILENAME = 280,
	DBG_CO_QUALNAME = 296,
	DBG_CO_LINETABLE = 304,
	DBG_CO_FIRSTLINENO = 312,
	DBG_CO_CODE = 344,
	DBG_BYTES_SIZE = 520,
	DBG_BYTES_DATA = 528,
	DBG_STR_STATE = 544,
	DBG_STR_LENGTH = 552,
	DBG_STR_ASCII = 560,
	DBG_BYTES = 568,
};

static uint16_t off16(const uint8_t *b, size_t pos, bool *ok)
{
	uint64_t v = u64_at(b, pos);

	*ok &= v < 0xffff;
	return (uint16_t)v;
}

/* 3.13: the layout from the interpreter's own debug offsets. */
static enum py_detect from_debug_offsets(int mem, uint64_t runtime, uint32_t version,
					 struct py_layout *lay, char *note, size_t len)
{
	uint8_t b[DBG_BYTES];
	bool ok = true;

	if (procmem_read(mem, runtime, b, sizeof(b)) || memcmp(b, "xdebugpy", 8) ||
	    (uint32_t)u64_at(b, DBG_VERSION) != version) {
		snprintf(note, len, "CPython %x.%x: no _Py_DebugOffsets in _PyRuntime",
			 version >> 24, (version >> 16) & 0xff);
		return PY_UNKNOWN;
	}
	if (u64_at(b, DBG_FREE_THREADED)) {
		snprintf(note, len, "CPython %x.%x free-threaded build: not supported",
			 version >> 24, (version >> 16) & 0xff);
		return PY_UNKNOWN;
	}
	*lay = (struct py_layout){
		.version = version,
		.conf = { .interp_head = runtime + u64_at(b, DBG_INTERP_HEAD),
			  .threads_head = off16(b, DBG_THREADS_HEAD, &ok),
			  .interp_next = off16(b, DBG_INTERP_NEXT, &ok),
			  .ts_next = off16(b, DBG_TS_NEXT, &ok),
			  .ts_tid = off16(b, DBG_TS_NATIVE_TID, &ok),
			  .ts_frame = off16(b, DBG_TS_FRAME, &ok),
			  .cframe_frame = N,
			  .fr_previous = off16(b, DBG_FR_PREVIOUS, &ok),
			  .fr_code = off16(b, DBG_FR_EXECUTABLE, &ok),
			  .fr_instr = off16(b, DBG_FR_INSTR, &ok),
			  .fr_owner = off16(b, DBG_FR_OWNER, &ok),
			  .fr_entry = N,
			  .co_code = off16(b, DBG_CO_CODE, &ok),
			  .co_firstlineno = off16(b, DBG_CO_FIRSTLINENO, &ok),
			  .co_filename = off16(b, DBG_CO_FILENAME, &ok),
			  .co_name = off16(b, DBG_CO_QUALNAME, &ok),
			  .flavor = BM_PY_IFRAME,
			  .owner_cstack = 3 /* FRAME_OWNED_BY_CSTACK: not in the debug offsets */,
			  .str_length = off16(b, DBG_STR_LENGTH, &ok),
			  .str_state = off16(b, DBG_STR_STATE, &ok),
			  .str_ascii = off16(b, DBG_STR_ASCII, &ok) },
		.co_linetable = off16(b, DBG_CO_LINETABLE, &ok),
		.bytes_size = off16(b, DBG_BYTES_SIZE, &ok),
		.bytes_data = off16(b, DBG_BYTES_DATA, &ok),
	};
	/* not in the debug offsets: the hash follows the length in every PyASCIIObject; a
	 * compact non-ASCII string's data follows utf8_length and utf8 (3.12+) */
	lay->conf.str_hash = lay->conf.str_length + 8;
	lay->conf.str_compact = lay->conf.str_ascii + 16;
	/* what the walker's first read of a str must hold: the header, a short str's data */
	ok &= lay->conf.str_hash + 8u <= BM_PY_STR_HDR &&
	      lay->conf.str_state + 8u <= BM_PY_STR_HDR &&
	      lay->conf.str_compact + BM_PY_STR_HEAD <= BM_PY_STR_READ;
	if (!ok) {
		snprintf(note, len, "CPython %x.%x: implausible _Py_DebugOffsets", version >> 24,
			 (version >> 16) & 0xff);
		return PY_UNKNOWN;
	}
	return PY_KNOWN;
}

/* "3.10" out of a file name such as libpython3.10.so.1.0 or python3.10: 0x030A0000, or 0. */
static uint32_t version_from_name(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	unsigned int major, minor;

	if (sscanf(base, "libpython%u.%u", &major, &minor) != 2 &&
	    sscanf(base, "python%u.%u", &major, &minor) != 2)
		return 0;
	return major << 24 | minor << 16;
}

/* Checks the table's thread-list offsets once an interpreter exists: some thread state must
 * carry the id of one of @pid's threads. Before Py_Initialize there is nothing to check. */
static bool plausible(pid_t pid, int mem, const struct py_layout *lay)
{
	uint64_t head = 0, t = 0, tid;
	char path[64];
	DIR *d;
	struct dirent *de;
	bool found = false;

	if (lay->conf.tid_is_pthread ||
	    procmem_read(mem, lay->conf.interp_head, &head, sizeof(head)) || !head)
		return true;
	if (procmem_read(mem, head + lay->conf.threads_head, &t, sizeof(t)) || !t)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	for (int i = 0; i < BM_PY_THREADS && t && !found; i++) {
		if (procmem_read(mem, t + lay->conf.ts_tid, &tid, sizeof(tid)))
			return false;
		d = opendir(path);
		while (d && (de = readdir(d)) && !found)
			found = strtoull(de->d_name, NULL, 10) == tid;
		if (d)
			closedir(d);
		if (procmem_read(mem, t + lay->conf.ts_next, &t, sizeof(t)))
			return false;
	}
	return found;
}

static enum py_detect from_image(pid_t pid, int mem, const struct stacks_image *img,
				 struct py_layout *lay, char *note, size_t len)
{
	static const char *const names[] = { "_PyRuntime", "Py_Version", "_Py_RefTotal",
					     "_Py_GetGlobalRefTotal", "PyCode_Type" };
	uint64_t v[5], runtime, pyver = 0;
	uint32_t version, minor;
	enum py_detect r;

	if (symbols_values(img->path, names, 5, v) || !v[0])
		return PY_NONE;
	runtime = img->load_addr + v[0];
	if (v[1] && procmem_read(mem, img->load_addr + v[1], &pyver, sizeof(pyver)))
		return PY_NONE;
	version = v[1] ? (uint32_t)pyver : version_from_name(img->path);
	minor = (version >> 16) & 0xff;
	if (version >> 24 != 3 || minor < 10) {
		snprintf(note, len, "CPython %s (%s): frame layout not supported (3.10-3.13 are)",
			 version ? "< 3.10" : "of unknown version", img->path);
		if (version >> 24 == 3)
			snprintf(note, len,
				 "CPython 3.%u (%s): frame layout not supported "
				 "(3.10-3.13 are)",
				 minor, img->path);
		return PY_UNKNOWN;
	}
	snprintf(note, len, "CPython %u.%u.%u", version >> 24, minor, (version >> 8) & 0xff);
	if (minor == 13) {
		r = from_debug_offsets(mem, runtime, version, lay, note, len);
		lay->code_type = v[4] ? img->load_addr + v[4] : 0;
		return r;
	}
	if (minor > 13) {
		snprintf(note, len, "CPython 3.%u (%s): frame layout not supported (3.10-3.13 are)",
			 minor, img->path);
		return PY_UNKNOWN;
	}
	if (v[2] || v[3]) {
		snprintf(note, len, "CPython 3.%u debug build (%s): not supported", minor,
			 img->path);
		return PY_UNKNOWN;
	}
	*lay = table[minor - 10];
	lay->version = version;
	lay->conf.interp_head += runtime;
	lay->code_type = v[4] ? img->load_addr + v[4] : 0;
	if (!plausible(pid, mem, lay)) {
		snprintf(note, len, "CPython 3.%u (%s): thread states not where 3.%u keeps them",
			 minor, img->path, minor);
		return PY_UNKNOWN;
	}
	return PY_KNOWN;
}

static bool python_named(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	return !strncmp(base, "python", 6) || !strncmp(base, "libpython", 9);
}

enum py_detect pyoffsets_detect(pid_t pid, int mem, struct py_layout *lay, char *note, size_t len)
{
	struct stacks_images im;
	enum py_detect r = PY_NONE;

	note[0] = '\0';
	if (stacks_images_read(pid, &im))
		return PY_NONE;
	/* a libpython first: the executable of a shared build only calls into it; then a
	 * python* executable, or any executable that embeds the interpreter statically (the
	 * first image is the executable) */
	for (int pass = 0; pass < 2 && r == PY_NONE; pass++) {
		for (size_t i = 0; i < im.n && r == PY_NONE; i++) {
			const char *base = strrchr(im.v[i].path, '/');
			bool lib = !strncmp(base ? base + 1 : im.v[i].path, "lib", 3);

			if (pass == 0 ? !(lib && python_named(im.v[i].path))
				      : lib || !(python_named(im.v[i].path) || i == 0))
				continue;
			r = from_image(pid, mem, &im.v[i], lay, note, len);
		}
	}
	stacks_images_release(&im);
	return r;
}
