/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/placement.h — where in a function prologue an entry uprobe is cheapest and still
 * correct: a small x86-64 decoder that knows what the kernel emulates; pure. */
#ifndef BM_PLACEMENT_H
#define BM_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Argument registers an entry program reads (needed_regs bits). */
#define PLACEMENT_RDI 0x1u
#define PLACEMENT_RSI 0x2u
#define PLACEMENT_RDX 0x4u
#define PLACEMENT_RCX 0x8u

/* How far past the function start we look (bytes). */
#define PLACEMENT_MAX_WALK 32u

struct placement {
	uint32_t offset;      /* bytes from the function start where the probe goes */
	uint8_t insn_len;     /* length of the instruction at @offset; 0 if not decoded */
	bool emulated;	      /* the kernel emulates that instruction: no single-step */
	bool skips_on_branch; /* a conditional branch precedes @offset: its taken path misses the
				 probe */
	const char *why;      /* static text: why this offset (never freed) */
};

/*
 * Picks the cheapest correct entry-probe offset in the prologue @code (@len bytes read from
 * the function's first byte). The kernel (arch/x86/kernel/uprobes.c, 6.18) emulates only:
 * jmp rel8/rel32, call rel32, jcc rel8/rel32 (none of them with a 0x66 prefix), push reg
 * (50-57, or 41 50-57 and nothing else), nop 0x90 with any prefix, and since 6.16 the exact
 * x86_nops[] sequences of 1 to 11 bytes (6.18 further turns a probed 5-byte nopl into a call);
 * anything else (test, mov, cmp, sub, endbr64) is single-stepped out of line, ~12x dearer.
 *
 * Rule: offset 0 if its instruction is emulated. Otherwise walk forward through instructions
 * that are decoded, do not write a register in @needed_regs, do not change rsp when
 * @needs_entry_rsp (the program reads the return address at [rsp]) and do not transfer control,
 * and take the first emulated instruction (the probe fires before it executes, so it may itself
 * write anything, or branch). A conditional branch that is not emulated (66-prefixed, jrcxz,
 * loop) is walked past only if @allow_after_jcc, and then skips_on_branch is set: the probe is
 * missed whenever that branch is taken. That is acceptable only when the taken path is a call
 * the tracer ignores (free(NULL): "test rdi,rdi; je" leaves before doing anything). Gives up at
 * PLACEMENT_MAX_WALK bytes, at the end of @code, or on anything it cannot decode: then offset 0
 * with emulated = false.
 *
 * The walk sees only straight-line code: it cannot know whether some other code jumps into the
 * bytes it skipped. Callers apply it to exported allocator entry points, and a return probe
 * always stays at offset 0 (the kernel hijacks [rsp] there): a function with both an entry and
 * a return probe gains nothing from a moved entry probe, it would trap twice per call.
 *
 * Returns 0 (out filled), or -EINVAL (NULL @code or @out, @len == 0, unknown @needed_regs bits).
 */
int placement_choose(const uint8_t *code, size_t len, unsigned int needed_regs,
		     bool needs_entry_rsp, bool allow_after_jcc, struct placement *out);

/* Decodes the instruction at @code and reports whether the 6.18 kernel emulates it (true) or
 * single-steps it (false); *@insn_len gets its length, 0 when it could not be decoded. */
bool placement_is_emulated(const uint8_t *code, size_t len, uint8_t *insn_len);

#endif /* BM_PLACEMENT_H */
