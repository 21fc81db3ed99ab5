// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_placement.c — placement_choose() on real prologues (glibc 2.36, jemalloc 5.3,
 * gcc -O0, CET) and on hand-built edge cases: emulated offsets, lengths, the reasons to give up. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "placement.h"
#include "tap.h"

#define RDI PLACEMENT_RDI
#define RSI PLACEMENT_RSI
#define RDX PLACEMENT_RDX
#define RCX PLACEMENT_RCX

static struct placement choose(const uint8_t *code, size_t len, unsigned int regs, bool rsp,
			       bool after_jcc)
{
	struct placement p;

	memset(&p, 0xa5, sizeof(p));
	CHECK_I64(placement_choose(code, len, regs, rsp, after_jcc, &p), 0);
	return p;
}

/* Bytes from objdump -d /lib/x86_64-linux-gnu/libc.so.6 (Debian 12, glibc 2.36-9). */
static const uint8_t glibc_malloc[] = { 0x41, 0x54, 0x55, 0x53, 0x48, 0x89, 0xfb, 0x48,
					0x83, 0xec, 0x10, 0x80, 0x3d, 0x46, 0x1b, 0x14,
					0x00, 0x00, 0x0f, 0x84, 0xf8, 0x01, 0x00, 0x00 };
static const uint8_t glibc_free[] = { 0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00,
				      0x55, 0x48, 0x8d, 0x77, 0xf0, 0x53, 0x48, 0x83, 0xec,
				      0x18, 0x48, 0x8b, 0x1d, 0xd6, 0x9e, 0x13, 0x00 };
static const uint8_t glibc_calloc[] = { 0x41, 0x55, 0x48, 0x89, 0xf8, 0x41, 0x54,
					0x55, 0x53, 0x48, 0x83, 0xec, 0x18 };
static const uint8_t glibc_realloc[] = { 0x41, 0x57, 0x41, 0x56, 0x41, 0x55, 0x41,
					 0x54, 0x55, 0x48, 0x89, 0xf5, 0x53 };
static const uint8_t glibc_mmap[] = { 0x41, 0x89, 0xca, 0x41, 0xf7, 0xc1, 0xff, 0x0f,
				      0x00, 0x00, 0x75, 0x14, 0xb8, 0x09, 0x00, 0x00,
				      0x00, 0x0f, 0x05, 0x48, 0x3d, 0x00, 0xf0, 0xff };
static const uint8_t glibc_munmap[] = { 0xb8, 0x0b, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48,
					0x3d, 0x01, 0xf0, 0xff, 0xff, 0x73, 0x01, 0xc3 };
static const uint8_t glibc_posix_memalign[] = { 0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00,
						0x41, 0x54, 0x49, 0x89, 0xd4, 0x55, 0x48,
						0x89, 0xfd, 0x53, 0x48, 0x89, 0xf3 };
static const uint8_t glibc_aligned_alloc[] = { 0x80, 0x3d, 0x71, 0x0e, 0x14, 0x00, 0x00,
					       0x74, 0x07, 0xe9, 0x32, 0xf6, 0xff, 0xff };

/* objdump -d /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 (Debian 12, jemalloc 5.3.0). */
static const uint8_t jemalloc_malloc[] = { 0x48, 0x81, 0xff, 0x00, 0x10, 0x00, 0x00, 0x0f,
					   0x87, 0x93, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x15 };
static const uint8_t jemalloc_free[] = { 0x48, 0x89, 0xf8, 0x48, 0x8b, 0x15, 0x0e, 0x53, 0x0a,
					 0x00, 0x48, 0x89, 0xf9, 0x48, 0xc1, 0xe8, 0x1a, 0x48,
					 0x81, 0xe1, 0x00, 0x00, 0x00, 0xc0, 0x25, 0xf0, 0x00,
					 0x00, 0x00, 0x64, 0x48, 0x03, 0x04, 0x25, 0x00, 0x00,
					 0x00, 0x00, 0x48, 0x01, 0xd0, 0x48, 0x3b, 0x88, 0xb0,
					 0x01, 0x00, 0x00, 0x0f, 0x85, 0x8a, 0x00, 0x00, 0x00 };

static void test_glibc_malloc_keeps_offset_0_its_push_r12_is_emulated(void)
{
	struct placement p = choose(glibc_malloc, sizeof(glibc_malloc), RDI, false, false);

	CHECK_U64(p.offset, 0);
	CHECK_U64(p.insn_len, 2);
	CHECK(p.emulated);
	CHECK(!p.skips_on_branch);
	CHECK_STR(p.why, "the entry instruction is emulated");
}

static void test_glibc_free_moves_to_the_je_after_test_rdi(void)
{
	/* test %rdi,%rdi is single-stepped; the je at +3 is emulated and sees rdi intact. The
	 * probe sits on the branch itself, so both paths (free(NULL) too) pass it. */
	struct placement p = choose(glibc_free, sizeof(glibc_free), RDI, true, false);

	CHECK_U64(p.offset, 3);
	CHECK_U64(p.insn_len, 6);
	CHECK(p.emulated);
	CHECK(!p.skips_on_branch);
	CHECK_STR(p.why, "first emulated instruction on the fall-through path");
}

static void test_glibc_calloc_realloc_start_with_an_emulated_push(void)
{
	struct placement c = choose(glibc_calloc, sizeof(glibc_calloc), RDI | RSI, true, false);
	struct placement r = choose(glibc_realloc, sizeof(glibc_realloc), RDI | RSI, true, false);

	CHECK_U64(c.offset, 0);
	CHECK(c.emulated);
	CHECK_U64(r.offset, 0);
	CHECK_U64(r.insn_len, 2);
	CHECK(r.emulated);
}

static void test_glibc_mmap_reaches_the_jne_with_rsi_rcx_and_rsp_intact(void)
{
	/* mov %ecx,%r10d reads rcx and writes r10; test $0xfff,%r9d writes nothing. */
	struct placement p = choose(glibc_mmap, sizeof(glibc_mmap), RDI | RSI | RCX, true, false);

	CHECK_U64(p.offset, 10);
	CHECK_U64(p.insn_len, 2);
	CHECK(p.emulated);
}

static void test_glibc_munmap_stays_at_0_the_syscall_comes_first(void)
{
	struct placement p = choose(glibc_munmap, sizeof(glibc_munmap), RDI | RSI, true, false);

	CHECK_U64(p.offset, 0);
	CHECK_U64(p.insn_len, 5);
	CHECK(!p.emulated);
	CHECK_STR(p.why, "gave up: control transfer before any emulated instruction");
}

static void test_glibc_posix_memalign_and_aligned_alloc_skip_the_rip_relative_cmpb(void)
{
	struct placement pm = choose(glibc_posix_memalign, sizeof(glibc_posix_memalign),
				     RDI | RSI | RDX, true, false);
	struct placement aa =
		choose(glibc_aligned_alloc, sizeof(glibc_aligned_alloc), RDI | RSI, true, false);

	CHECK_U64(pm.offset, 7); /* push %r12 */
	CHECK_U64(pm.insn_len, 2);
	CHECK(pm.emulated);
	CHECK_U64(aa.offset, 7); /* je rel8 */
	CHECK_U64(aa.insn_len, 2);
	CHECK(aa.emulated);
}

static void test_jemalloc_malloc_moves_to_the_ja_after_cmp_rdi(void)
{
	struct placement p = choose(jemalloc_malloc, sizeof(jemalloc_malloc), RDI, false, false);

	CHECK_U64(p.offset, 7);
	CHECK_U64(p.insn_len, 6);
	CHECK(p.emulated);
}

static void test_jemalloc_free_has_no_emulated_instruction_within_32_bytes(void)
{
	/* Its first jne is at +48: past the walk limit, so offset 0 and single-stepped. */
	struct placement p = choose(jemalloc_free, sizeof(jemalloc_free), RDI, false, false);

	CHECK_U64(p.offset, 0);
	CHECK_U64(p.insn_len, 3);
	CHECK(!p.emulated);
	CHECK_STR(p.why, "gave up: no emulated instruction within reach");
}

static void test_gcc_O0_and_cet_prologues(void)
{
	static const uint8_t o0[] = { 0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x10 };
	static const uint8_t cet[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5 };
	struct placement a = choose(o0, sizeof(o0), RDI, true, false);
	struct placement b = choose(cet, sizeof(cet), RDI, true, false);

	CHECK_U64(a.offset, 0); /* push %rbp */
	CHECK_U64(a.insn_len, 1);
	CHECK(a.emulated);
	CHECK_U64(b.offset, 4); /* endbr64 is single-stepped; push %rbp after it is not */
	CHECK_U64(b.insn_len, 1);
	CHECK(b.emulated);
}

static void test_a_write_to_a_needed_register_stops_the_walk(void)
{
	static const uint8_t code[] = { 0x31, 0xff, 0x55 }; /* xor %edi,%edi; push %rbp */
	struct placement need = choose(code, sizeof(code), RDI, false, false);
	struct placement other = choose(code, sizeof(code), RSI | RDX | RCX, false, false);

	CHECK_U64(need.offset, 0);
	CHECK(!need.emulated);
	CHECK_STR(need.why, "gave up: an argument register is overwritten first");
	CHECK_U64(other.offset, 2);
	CHECK(other.emulated);
}

static void test_byte_and_high_byte_writes_count_as_the_full_register(void)
{
	/* mov $1,%dh writes rdx (dh = rdx bits 8-15); with REX, 40 b6 01 is mov $1,%sil. */
	static const uint8_t dh[] = { 0xb6, 0x01, 0x53 };
	static const uint8_t sil[] = { 0x40, 0xb6, 0x01, 0x53 };

	CHECK(!choose(dh, sizeof(dh), RDX, false, false).emulated);
	CHECK_U64(choose(dh, sizeof(dh), RSI, false, false).offset, 2);
	CHECK(!choose(sil, sizeof(sil), RSI, false, false).emulated);
	CHECK_U64(choose(sil, sizeof(sil), RDX, false, false).offset, 3);
}

static void test_an_rsp_change_stops_the_walk_only_when_rsp_is_needed(void)
{
	static const uint8_t code[] = { 0x48, 0x83, 0xec, 0x08, 0x53 }; /* sub $8,%rsp; push */
	struct placement need = choose(code, sizeof(code), RDI, true, false);
	struct placement free_rsp = choose(code, sizeof(code), RDI, false, false);

	CHECK_U64(need.offset, 0);
	CHECK(!need.emulated);
	CHECK_STR(need.why, "gave up: rsp changes first, [rsp] is no longer the return address");
	CHECK_U64(free_rsp.offset, 4);
	CHECK(free_rsp.emulated);
}

static void test_an_unemulated_jcc_is_passed_only_with_allow_after_jcc(void)
{
	/* test %rdi,%rdi; jrcxz +5 (single-stepped); push %rbp */
	static const uint8_t code[] = { 0x48, 0x85, 0xff, 0xe3, 0x05, 0x55 };
	struct placement no = choose(code, sizeof(code), RDI, false, false);
	struct placement yes = choose(code, sizeof(code), RDI, false, true);

	CHECK_U64(no.offset, 0);
	CHECK(!no.emulated);
	CHECK_STR(no.why, "gave up: a conditional branch the kernel does not emulate");
	CHECK_U64(yes.offset, 5);
	CHECK(yes.emulated);
	CHECK(yes.skips_on_branch);
}

static void test_instruction_lengths_with_sib_disp_rip_and_prefixes(void)
{
	/* Each is walked past, so the push lands at the sum of their lengths: 5+9+7+8+7+4+3 */
	static const uint8_t code[] = {
		0x48, 0x8b, 0x44, 0x24, 0x08,			   /* mov 8(%rsp),%rax */
		0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0,	  0,	0, /* mov %fs:0x28,%rax */
		0x4c, 0x8b, 0x05, 0x11, 0x22, 0x33, 0x44,	   /* mov x(%rip),%r8 */
		0xc7, 0x44, 0x24, 0x08, 0x01, 0x00, 0x00, 0x00,	   /* movl $1,8(%rsp) */
		0x66, 0xc7, 0x44, 0x24, 0x08, 0x01, 0x00,	   /* movw $1,8(%rsp) */
		0x0f, 0xb6, 0x47, 0x01,				   /* movzbl 1(%rdi),%eax */
		0x48, 0x63, 0xc6,				   /* movslq %esi,%rax */
		0x41, 0x56,					   /* push %r14 */
	};
	struct placement p = choose(code, sizeof(code), RDI | RSI, false, false);

	CHECK_U64(p.offset, 0); /* the push is at +43, past the 32-byte walk */
	CHECK(!p.emulated);
	CHECK_U64(p.insn_len, 5);
	CHECK_STR(p.why, "gave up: no emulated instruction within reach");

	/* the same bytes without the walk limit in the way: drop the first two */
	p = choose(code + 14, sizeof(code) - 14, RDI | RSI, false, false);
	CHECK_U64(p.offset, 29);
	CHECK_U64(p.insn_len, 2);
	CHECK(p.emulated);
}

static void test_which_single_instructions_the_kernel_emulates(void)
{
	static const struct {
		uint8_t bytes[12];
		uint8_t len;
		bool emulated;
	} t[] = {
		{ { 0xeb, 0x05 }, 2, true },		  /* jmp rel8 */
		{ { 0xe9, 1, 2, 3, 4 }, 5, true },	  /* jmp rel32 */
		{ { 0xe8, 1, 2, 3, 4 }, 5, true },	  /* call rel32 */
		{ { 0x66, 0xe8, 1, 2, 3, 4 }, 0, false }, /* callw: refused, length undecided */
		{ { 0x0f, 0x85, 1, 2, 3, 4 }, 6, true },  /* jne rel32 */
		{ { 0x78, 0x10 }, 2, true },		  /* js rel8 */
		{ { 0x53 }, 1, true },			  /* push %rbx */
		{ { 0x41, 0x57 }, 2, true },		  /* push %r15 */
		{ { 0x48, 0x53 }, 2, false },		  /* rex.W push: only 41 */
		{ { 0x6a, 0x01 }, 2, false },		  /* push imm8 */
		{ { 0x90 }, 1, true },			  /* nop */
		{ { 0x66, 0x90 }, 2, true },		  /* xchg %ax,%ax */
		{ { 0x41, 0x90 }, 2, false },		  /* xchg %eax,%r8d */
		{ { 0x0f, 0x1f, 0x44, 0, 0 }, 5, true },  /* nopl, x86_nops[5] */
		{ { 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 }, 8, true },		/* x86_nops[8] */
		{ { 0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 }, 9, false },	/* gcc's nopw 9 */
		{ { 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 }, 10, false }, /* cs: refused */
		{ { 0x48, 0x85, 0xff }, 3, false },				/* test */
		{ { 0xf3, 0x0f, 0x1e, 0xfa }, 4, false },			/* endbr64 */
		{ { 0xc3 }, 1, false },						/* ret */
		{ { 0xff, 0x25, 1, 2, 3, 4 }, 6, false }, /* jmp *x(%rip) (plt) */
	};
	uint8_t len;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool e = placement_is_emulated(t[i].bytes, sizeof(t[i].bytes), &len);

		if (!CHECK(e == t[i].emulated) || !CHECK_U64(len, t[i].len))
			printf("#   case %zu\n", i);
	}
}

static void test_truncated_or_unknown_code_falls_back_to_offset_0(void)
{
	static const uint8_t cut[] = { 0x48, 0x85 };
	static const uint8_t sse[] = { 0x0f, 0x10, 0x07, 0x55 }; /* movups (%rdi),%xmm0 */
	struct placement a = choose(cut, sizeof(cut), RDI, false, false);
	struct placement b = choose(sse, sizeof(sse), RDI, false, false);

	CHECK_U64(a.offset, 0);
	CHECK_U64(a.insn_len, 0);
	CHECK(!a.emulated);
	CHECK_STR(a.why, "gave up: an instruction it cannot decode");
	CHECK_U64(b.offset, 0);
	CHECK(!b.emulated);
}

static void test_bad_arguments_are_einval(void)
{
	struct placement p;
	uint8_t c = 0x55;

	CHECK_I64(placement_choose(NULL, 1, RDI, false, false, &p), -EINVAL);
	CHECK_I64(placement_choose(&c, 0, RDI, false, false, &p), -EINVAL);
	CHECK_I64(placement_choose(&c, 1, RDI, false, false, NULL), -EINVAL);
	CHECK_I64(placement_choose(&c, 1, 0x10, false, false, &p), -EINVAL);
}

int main(void)
{
	TEST(test_glibc_malloc_keeps_offset_0_its_push_r12_is_emulated);
	TEST(test_glibc_free_moves_to_the_je_after_test_rdi);
	TEST(test_glibc_calloc_realloc_start_with_an_emulated_push);
	TEST(test_glibc_mmap_reaches_the_jne_with_rsi_rcx_and_rsp_intact);
	TEST(test_glibc_munmap_stays_at_0_the_syscall_comes_first);
	TEST(test_glibc_posix_memalign_and_aligned_alloc_skip_the_rip_relative_cmpb);
	TEST(test_jemalloc_malloc_moves_to_the_ja_after_cmp_rdi);
	TEST(test_jemalloc_free_has_no_emulated_instruction_within_32_bytes);
	TEST(test_gcc_O0_and_cet_prologues);
	TEST(test_a_write_to_a_needed_register_stops_the_walk);
	TEST(test_byte_and_high_byte_writes_count_as_the_full_register);
	TEST(test_an_rsp_change_stops_the_walk_only_when_rsp_is_needed);
	TEST(test_an_unemulated_jcc_is_passed_only_with_allow_after_jcc);
	TEST(test_instruction_lengths_with_sib_disp_rip_and_prefixes);
	TEST(test_which_single_instructions_the_kernel_emulates);
	TEST(test_truncated_or_unknown_code_falls_back_to_offset_0);
	TEST(test_bad_arguments_are_einval);
	return tap_done();
}
