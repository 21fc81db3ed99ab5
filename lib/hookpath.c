// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/hookpath.c — finding the hook library and the programs that can preload it. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hookpath.h"

int hook_library_path(char *out, size_t len)
{
	static const char *const rel[] = { "", "/../lib/benchmem" };
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return -ENOENT;
	exe[n] = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", exe);
		if ((size_t)snprintf(out, len, "%s%s/%s", dirname(dir), rel[i], HOOK_LIBRARY) <
			    len &&
		    !access(out, R_OK))
			return 0;
	}
	return -ENOENT;
}

/* A 64-bit ELF file with a PT_INTERP program header. */
static bool elf_is_dynamic(int fd)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(ph))
		return false;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
			return false;
		if (ph.p_type == PT_INTERP)
			return true;
	}
	return false;
}

bool hook_can_preload(const char *path)
{
	struct stat st;
	char magic[2];
	bool ok = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (!fstat(fd, &st) && !(st.st_mode & (S_ISUID | S_ISGID))) {
		if (pread(fd, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!')
			ok = true;
		else
			ok = elf_is_dynamic(fd);
	}
	close(fd);
	return ok;
}

bool hook_in_preload(const char *v)
{
	const char *p = v ? strstr(v, HOOK_LIBRARY) : NULL;

	return p && (p[strlen(HOOK_LIBRARY)] == '\0' || p[strlen(HOOK_LIBRARY)] == ':' ||
		     p[strlen(HOOK_LIBRARY)] == ' ');
}
