// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/procstatus.c — /proc/PID/status reader: ids, credentials and VmHWM. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "procstatus.h"

int procstatus_parse(FILE *f, struct proc_status *out)
{
	char line[256];
	unsigned int u[4];
	uint64_t kib;
	int got = 0;

	memset(out, 0, sizeof(*out));
	while (fgets(line, sizeof(line), f)) {
		got += sscanf(line, "Tgid: %d", &out->tgid) == 1;
		got += sscanf(line, "PPid: %d", &out->ppid) == 1;
		if (sscanf(line, "Uid: %u %u %u %u", &u[0], &u[1], &u[2], &u[3]) == 4) {
			for (int i = 0; i < 4; i++)
				out->uids[i] = u[i];
			out->uid = u[0];
			got++;
		}
		if (sscanf(line, "Gid: %u %u %u %u", &u[0], &u[1], &u[2], &u[3]) == 4) {
			for (int i = 0; i < 4; i++)
				out->gids[i] = u[i];
			got++;
		}
		sscanf(line, "CapPrm: %" SCNx64, &out->cap_prm);
		if (sscanf(line, "VmHWM: %" SCNu64 " kB", &kib) == 1) {
			out->hwm_bytes = kib * 1024;
			out->has_hwm = true;
		}
	}
	return got == 4 ? 0 : -ENODATA;
}

int procstatus_read(pid_t pid, struct proc_status *out)
{
	char path[64];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = procstatus_parse(f, out);
	fclose(f);
	return err;
}
