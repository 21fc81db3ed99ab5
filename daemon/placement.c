// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/placement.c — x86-64 prologue decoder that picks the cheapest correct entry-probe
 * offset (an instruction the kernel emulates instead of single-stepping); pure. */
#include <errno.h>
#include <string.h>

#include "placement.h"

/* General-purpose registers as the encoding numbers them; bit n of a write mask = register n. */
enum { R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI, R_R8 = 8 };
#define BIT(r) (1u << (r))

/* What an opcode does to the registers, resolved once the ModRM byte is known. */
enum sem {
	S_NONE,	   /* writes no register (test, cmp, stores, hint nops) */
	S_RM,	   /* writes its r/m operand when that is a register */
	S_RM8,	   /* the same, byte-sized */
	S_REG,	   /* writes ModRM.reg */
	S_REG8,	   /* the same, byte-sized */
	S_XCHG,	   /* writes ModRM.reg and r/m */
	S_AX,	   /* writes rax */
	S_DX,	   /* writes rdx */
	S_GRP1,	   /* 80/81/83: writes r/m unless /7 (cmp) */
	S_GRP1_8,  /* the same, byte-sized */
	S_GRP3,	   /* f6/f7: test, not, neg, mul, imul, div, idiv */
	S_GRP4,	   /* fe: inc/dec r/m8 */
	S_GRP5,	   /* ff: inc, dec, call, jmp, push */
	S_GRP11,   /* c6/c7: mov r/m, imm (only /0) */
	S_OPREG,   /* b8-bf, b0-b7, 91-97: the register in the opcode's low bits */
	S_OPREG8,  /* b0-b7 */
	S_PUSH,	   /* 50-57, 68, 6a: writes rsp */
	S_POP,	   /* 58-5f: writes the register and rsp */
	S_NOP90,   /* 0x90: nop, or xchg r8,rax with REX.B */
	S_JCC,	   /* conditional branch */
	S_JMP,	   /* jmp/call rel */
	S_STOP,	   /* ret, syscall, int3, ud2: never walked past */
	S_UNKNOWN, /* not decoded: the walk gives up */
};

struct insn {
	uint8_t len;
	uint8_t rex;	 /* 0 when absent */
	uint8_t op;	 /* the opcode byte (the second one after a 0x0f escape) */
	bool twobyte;	 /* 0x0f escape */
	bool p66;	 /* operand-size prefix */
	bool bad_prefix; /* es/cs/ss/ds or lock: the kernel refuses to probe (is_prefix_bad) */
	bool has_modrm;
	uint8_t modrm;
	uint8_t imm; /* immediate bytes */
	enum sem sem;
	unsigned int writes; /* registers written, BIT(R_x); r8..r15 are bits 8..15 */
};

/* x86_nops[] of arch/x86/include/asm/nops.h (64-bit), lengths 1 to 8: branch_setup_xol_ops
 * emulates an exact match (kernel >= 6.16). Lengths 9 to 11 carry a cs prefix, which
 * is_prefix_bad() rejects first, so they are not listed. */
static const uint8_t nops[8][8] = {
	{ 0x90 },
	{ 0x66, 0x90 },
	{ 0x0f, 0x1f, 0x00 },
	{ 0x0f, 0x1f, 0x40, 0x00 },
	{ 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	{ 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	{ 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	{ 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

static unsigned int imm_z(const struct insn *in)
{
	return in->p66 && !(in->rex & 8) ? 2 : 4;
}

/* The one-byte ALU block 00-3f: add/or/adc/sbb/and/sub/xor/cmp in six forms each. */
static enum sem alu(struct insn *in)
{
	uint8_t form = in->op & 7;
	bool is_cmp = (in->op >> 3) == 7;

	if (form > 5)
		return S_UNKNOWN; /* 0f escape, segment prefixes, invalid in 64-bit mode */
	in->has_modrm = form < 4;
	if (form >= 4)
		in->imm = form == 4 ? 1 : imm_z(in);
	if (is_cmp)
		return S_NONE;
	static const enum sem forms[] = { S_RM8, S_RM, S_REG8, S_REG, S_AX, S_AX };
	return forms[form];
}

#define IMM_Z 0xff /* imm32, or imm16 with a 66 prefix */

/* One-byte opcodes outside the ALU block and the register-in-opcode ranges. */
static const struct {
	uint8_t op;
	uint8_t sem; /* enum sem */
	bool modrm;
	uint8_t imm; /* bytes, or IMM_Z */
} op1_table[] = {
	{ 0x63, S_REG, true, 0 },	/* movsxd */
	{ 0x68, S_PUSH, false, IMM_Z }, /* push imm */
	{ 0x69, S_REG, true, IMM_Z },	/* imul r, r/m, imm */
	{ 0x6a, S_PUSH, false, 1 },	/* push imm8 */
	{ 0x6b, S_REG, true, 1 },	/* imul r, r/m, imm8 */
	{ 0x80, S_GRP1_8, true, 1 },	/* group 1 */
	{ 0x81, S_GRP1, true, IMM_Z },	{ 0x83, S_GRP1, true, 1 },
	{ 0x84, S_NONE, true, 0 }, /* test */
	{ 0x85, S_NONE, true, 0 },	{ 0x86, S_XCHG, true, 0 },
	{ 0x87, S_XCHG, true, 0 },	{ 0x88, S_RM8, true, 0 }, /* mov */
	{ 0x89, S_RM, true, 0 },	{ 0x8a, S_REG8, true, 0 },
	{ 0x8b, S_REG, true, 0 },	{ 0x8d, S_REG, true, 0 },   /* lea */
	{ 0x90, S_NOP90, false, 0 },	{ 0x98, S_AX, false, 0 },   /* cltq */
	{ 0x99, S_DX, false, 0 },				    /* cqto */
	{ 0xa8, S_NONE, false, 1 },				    /* test al, imm8 */
	{ 0xa9, S_NONE, false, IMM_Z }, { 0xc0, S_RM8, true, 1 },   /* shifts */
	{ 0xc1, S_RM, true, 1 },	{ 0xc2, S_STOP, false, 2 }, /* ret imm16 */
	{ 0xc3, S_STOP, false, 0 },				    /* ret */
	{ 0xc6, S_GRP11, true, 1 },				    /* mov r/m, imm */
	{ 0xc7, S_GRP11, true, IMM_Z }, { 0xcc, S_STOP, false, 0 }, /* int3 */
	{ 0xd0, S_RM8, true, 0 },				    /* shifts by 1 and by cl */
	{ 0xd1, S_RM, true, 0 },	{ 0xd2, S_RM8, true, 0 },
	{ 0xd3, S_RM, true, 0 },	{ 0xe8, S_JMP, false, 4 }, /* call rel32 */
	{ 0xe9, S_JMP, false, 4 },				   /* jmp rel32 */
	{ 0xeb, S_JMP, false, 1 },				   /* jmp rel8 */
	{ 0xf6, S_GRP3, true, 0 }, /* the immediate of test depends on ModRM.reg */
	{ 0xf7, S_GRP3, true, 0 },	{ 0xfe, S_GRP4, true, 0 },
	{ 0xff, S_GRP5, true, 0 },
};

/* Opcode map for the one-byte opcodes a prologue uses; sets has_modrm and imm. */
static enum sem op1(struct insn *in)
{
	uint8_t op = in->op;

	if (op < 0x40)
		return alu(in);
	if (op >= 0x50 && op <= 0x57)
		return S_PUSH;
	if (op >= 0x58 && op <= 0x5f)
		return S_POP;
	if (op >= 0x91 && op <= 0x97)
		return S_OPREG; /* xchg eax, reg */
	if (op >= 0xb8 && op <= 0xbf) {
		in->imm = (in->rex & 8) ? 8 : imm_z(in);
		return S_OPREG;
	}
	in->imm = 1;
	if ((op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3))
		return S_JCC; /* jcc rel8; loop*, jrcxz (not in is_cond_jmp_opcode()) */
	if (op >= 0xb0 && op <= 0xb7)
		return S_OPREG8;
	for (size_t i = 0; i < sizeof(op1_table) / sizeof(op1_table[0]); i++) {
		if (op1_table[i].op != op)
			continue;
		in->has_modrm = op1_table[i].modrm;
		in->imm = op1_table[i].imm == IMM_Z ? imm_z(in) : op1_table[i].imm;
		return (enum sem)op1_table[i].sem;
	}
	return S_UNKNOWN;
}

/* Opcode map for 0f xx. */
static enum sem op2(struct insn *in)
{
	uint8_t op = in->op;

	if (op >= 0x80 && op <= 0x8f)
		return in->imm = 4, S_JCC;
	if (op == 0x05 || op == 0x0b)
		return S_STOP; /* syscall, ud2 */
	in->has_modrm = true;
	if (op >= 0x18 && op <= 0x1f)
		return S_NONE; /* prefetch, nopl, endbr64 (f3 0f 1e fa) */
	if (op >= 0x40 && op <= 0x4f)
		return S_REG; /* cmovcc */
	if (op >= 0x90 && op <= 0x9f)
		return S_RM8; /* setcc */
	switch (op) {
	case 0xa3:
		return S_NONE; /* bt */
	case 0xaf:
	case 0xb6:
	case 0xb7:
	case 0xbe:
	case 0xbf:
		return S_REG; /* imul, movzx, movsx */
	}
	in->has_modrm = false;
	return S_UNKNOWN;
}

/* Length of ModRM + SIB + displacement at @p; 0 if it runs past @end. */
static size_t modrm_len(const uint8_t *p, const uint8_t *end)
{
	uint8_t mod = *p >> 6, rm = *p & 7;
	size_t n = 1;

	if (mod != 3 && rm == 4) {
		if (p + 1 >= end)
			return 0;
		n++;
		if (mod == 0 && (p[1] & 7) == 5)
			n += 4;
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2 || (mod == 0 && rm == 5))
		n += 4;
	return (size_t)(end - p) >= n ? n : 0;
}

static unsigned int rm_bit(const struct insn *in, bool byte_op)
{
	unsigned int r = (in->modrm & 7) | ((in->rex & 1u) << 3);

	if ((in->modrm >> 6) != 3)
		return 0; /* memory operand */
	if (byte_op && !in->rex && r >= 4)
		r -= 4; /* ah/ch/dh/bh live in rax/rcx/rdx/rbx */
	return BIT(r);
}

static unsigned int reg_bit(const struct insn *in, bool byte_op)
{
	unsigned int r = ((in->modrm >> 3) & 7) | ((in->rex & 4u) << 1);

	if (byte_op && !in->rex && r >= 4)
		r -= 4;
	return BIT(r);
}

static unsigned int opreg_bit(const struct insn *in, bool byte_op)
{
	unsigned int r = (in->op & 7) | ((in->rex & 1u) << 3);

	if (byte_op && !in->rex && r >= 4)
		r -= 4;
	return BIT(r);
}

/* Group opcodes: the ModRM.reg field selects the operation. Returns false if undefined. */
static bool group_writes(struct insn *in)
{
	unsigned int sub = (in->modrm >> 3) & 7;
	bool byte_op = in->op == 0xf6 || in->op == 0xfe;

	switch (in->sem) {
	case S_GRP1:
	case S_GRP1_8:
		in->writes = sub == 7 ? 0 : rm_bit(in, in->sem == S_GRP1_8);
		return true;
	case S_GRP11:
		in->writes = rm_bit(in, in->op == 0xc6);
		return sub == 0;
	case S_GRP3:
		if (sub < 2)
			in->imm = byte_op ? 1 : imm_z(in); /* test r/m, imm */
		else if (sub < 4)
			in->writes = rm_bit(in, byte_op); /* not, neg */
		else
			in->writes = BIT(R_AX) | (byte_op ? 0 : BIT(R_DX)); /* mul..idiv */
		return true;
	case S_GRP4:
		in->writes = rm_bit(in, true);
		return sub < 2;
	default: /* S_GRP5 */
		if (sub < 2)
			in->writes = rm_bit(in, false);
		else if (sub == 6)
			in->writes = BIT(R_SP); /* push r/m */
		else
			in->sem = S_STOP; /* indirect call/jmp, far forms, undefined /7 */
		return true;
	}
}

/* Fills @in->writes from the semantics, and refines S_NOP90 / groups. */
static bool resolve_writes(struct insn *in)
{
	bool byte_op = in->sem == S_RM8 || in->sem == S_REG8 || in->sem == S_OPREG8 ||
		       (in->sem == S_XCHG && in->op == 0x86);

	if (in->sem >= S_GRP1 && in->sem <= S_GRP11)
		return group_writes(in);
	/* 41 90 is xchg %eax,%r8d, yet the kernel would "emulate" it as a nop (it looks at the
	 * opcode byte only): neither walked past nor chosen. */
	if (in->sem == S_NOP90 && (in->rex & 1))
		in->sem = S_STOP;
	switch (in->sem) {
	case S_RM:
	case S_RM8:
		in->writes = rm_bit(in, byte_op);
		break;
	case S_REG:
	case S_REG8:
		in->writes = reg_bit(in, byte_op);
		break;
	case S_XCHG:
		in->writes = rm_bit(in, byte_op) | reg_bit(in, byte_op);
		break;
	case S_AX:
	case S_DX:
		in->writes = in->sem == S_AX ? BIT(R_AX) : BIT(R_DX);
		break;
	case S_OPREG: /* mov reg, imm; xchg eax, reg */
	case S_OPREG8:
		in->writes = opreg_bit(in, byte_op) | (in->op < 0x98 ? BIT(R_AX) : 0);
		break;
	case S_PUSH:
	case S_POP:
		in->writes = BIT(R_SP) | (in->sem == S_POP ? opreg_bit(in, false) : 0);
		break;
	default:
		break;
	}
	return true;
}

static bool is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x66:
	case 0x67:
	case 0xf2:
	case 0xf3:
	case 0x64:
	case 0x65:
	case 0x26:
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0xf0:
		return true;
	}
	return false;
}

/* Decodes one instruction at @p (at most @len bytes). Returns false if it cannot. */
static bool decode(const uint8_t *p, size_t len, struct insn *in)
{
	const uint8_t *start = p, *end = p + (len < 15 ? len : 15);

	memset(in, 0, sizeof(*in));
	for (; p < end && is_legacy_prefix(*p); p++) {
		in->p66 |= *p == 0x66;
		in->bad_prefix |=
			*p == 0x26 || *p == 0x2e || *p == 0x36 || *p == 0x3e || *p == 0xf0;
	}
	if (p < end && (*p & 0xf0) == 0x40)
		in->rex = *p++;
	if (p >= end)
		return false;
	in->op = *p++;
	if (in->op == 0x0f) {
		if (p >= end)
			return false;
		in->twobyte = true;
		in->op = *p++;
	}
	in->sem = in->twobyte ? op2(in) : op1(in);
	if (in->sem == S_UNKNOWN)
		return false;
	if (in->p66 && (in->sem == S_JCC || in->sem == S_JMP))
		return false; /* rel16 on AMD, rel32 on Intel: no length to trust */
	if (in->has_modrm) {
		size_t n = p < end ? modrm_len(p, end) : 0;

		if (!n)
			return false;
		in->modrm = *p;
		p += n;
	}
	if (!resolve_writes(in))
		return false;
	if ((size_t)(end - p) < in->imm)
		return false;
	in->len = (uint8_t)(p - start + in->imm);
	return true;
}

/* Mirrors arch_uprobe_analyze_insn(): branch_setup_xol_ops() then push_setup_xol_ops(). */
static bool emulated(const uint8_t *code, const struct insn *in)
{
	if (in->bad_prefix)
		return false; /* not probeable at all */
	for (size_t n = 1; n <= 8; n++) {
		if (in->len == n && !memcmp(code, nops[n - 1], n))
			return true;
	}
	switch (in->sem) {
	case S_NOP90:
		return !in->twobyte;
	case S_JCC:
		if (!in->twobyte && in->op >= 0xe0 && in->op <= 0xe3)
			return false; /* loop/jrcxz are single-stepped */
		return !in->p66;
	case S_JMP:
		return !in->p66;
	case S_PUSH:
		if (in->op < 0x50 || in->op > 0x57)
			return false; /* push imm, push r/m */
		return in->len == 1 || (in->len == 2 && code[0] == 0x41);
	default:
		return false;
	}
}

bool placement_is_emulated(const uint8_t *code, size_t len, uint8_t *insn_len)
{
	struct insn in;

	if (!code || !decode(code, len, &in)) {
		if (insn_len)
			*insn_len = 0;
		return false;
	}
	if (insn_len)
		*insn_len = in.len;
	return emulated(code, &in);
}

static unsigned int needed_mask(unsigned int needed_regs)
{
	unsigned int m = 0;

	if (needed_regs & PLACEMENT_RDI)
		m |= BIT(R_DI);
	if (needed_regs & PLACEMENT_RSI)
		m |= BIT(R_SI);
	if (needed_regs & PLACEMENT_RDX)
		m |= BIT(R_DX);
	if (needed_regs & PLACEMENT_RCX)
		m |= BIT(R_CX);
	return m;
}

/* Why the walk cannot pass @in, or NULL if it can. */
static const char *blocker(const struct insn *in, unsigned int need, bool needs_rsp,
			   bool allow_after_jcc)
{
	if (in->sem == S_STOP || in->sem == S_JMP)
		return "gave up: control transfer before any emulated instruction";
	if (in->sem == S_JCC && !allow_after_jcc)
		return "gave up: a conditional branch the kernel does not emulate";
	if (in->writes & need)
		return "gave up: an argument register is overwritten first";
	if (needs_rsp && (in->writes & BIT(R_SP)))
		return "gave up: rsp changes first, [rsp] is no longer the return address";
	return NULL;
}

static void fallback(const uint8_t *code, size_t len, const char *why, struct placement *out)
{
	struct insn in;

	out->offset = 0;
	out->insn_len = decode(code, len, &in) ? in.len : 0;
	out->emulated = false;
	out->skips_on_branch = false;
	out->why = why;
}

int placement_choose(const uint8_t *code, size_t len, unsigned int needed_regs,
		     bool needs_entry_rsp, bool allow_after_jcc, struct placement *out)
{
	unsigned int need = needed_mask(needed_regs);
	size_t limit = len < PLACEMENT_MAX_WALK ? len : PLACEMENT_MAX_WALK;
	bool skips = false;
	struct insn in;
	const char *why;

	if (!code || !out || !len || (needed_regs & ~0xfu))
		return -EINVAL;
	for (size_t off = 0; off < limit; off += in.len) {
		if (!decode(code + off, len - off, &in)) {
			fallback(code, len, "gave up: an instruction it cannot decode", out);
			return 0;
		}
		if (emulated(code + off, &in)) {
			out->offset = (uint32_t)off;
			out->insn_len = in.len;
			out->emulated = true;
			out->skips_on_branch = skips;
			out->why = off ? "first emulated instruction on the fall-through path"
				       : "the entry instruction is emulated";
			return 0;
		}
		why = blocker(&in, need, needs_entry_rsp, allow_after_jcc);
		if (why) {
			fallback(code, len, why, out);
			return 0;
		}
		skips |= in.sem == S_JCC;
	}
	fallback(code, len, "gave up: no emulated instruction within reach", out);
	return 0;
}
