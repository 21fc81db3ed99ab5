# benchmemd — one non-recursive Makefile; every output goes to build/.
# Targets: all deps venv test unit bench demo format install deb fuzz clean.

B        := build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PYTHON   ?= /usr/bin/python3
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
PREFIX   ?= /usr/local
DESTDIR  ?=

ifeq ($(V),1)
Q   :=
msg :=
else
Q   := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	    -Wformat=2 -Werror -MMD -MP -fno-omit-frame-pointer
CPPFLAGS += -D_GNU_SOURCE -Ibpf -Ilib -Idaemon -Iclient -Iclient/c -I$(B)/bpf
LDLIBS   := -lbpf -lelf -lz -lyaml -ljansson -lpthread -lm
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined

# Debian's libbpf headers live in /usr/include/bpf; -idirafter keeps clang's own headers first.
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -I$(B) -Ibpf \
	$(CLANG_BPF_SYS_INCLUDES)

# ---- module lists (each binary's objects spelled out; the lists follow the folders) --------
# lib/: pure pieces both the daemon and the clients use.
LIB := units jsonutil atomic_file log names context compare runs gate allocators ticks cli_err \
	openmetrics symbolize \
	memray/writer memray/reader memray/decode memray/stats memray/pyread memray/pyframes \
	hookpath
# daemon/: what only the collector does. benchmemd = main.c + these; benchmem-run embeds them.
DAEMON := loop symbols procmaps procstatus creds probe ringbuf sources attach tracer live region session group \
	  sessions targets rss results profiles serve \
	  proto server dispatch listen collector config config_yaml placement profile spool stacks \
	  blockstacks hotspots snapshot watch history metrics pyoffsets pystacks pylines hook_source procmem \
	  fdreserve profiling
# client/: what only the command-line clients do.
CTL    := benchmemctl conn table ctl_inspect inspect_top report report_data report_svg \
	  compare_model compare_render gate_json ctl_compare ctl_report ctl_region ctl_export ctl_sessions \
	  ctl_top top_view
RUN    := benchmem-run launch conn table embedded

lib_objs    = $(patsubst %,$(B)/obj/lib/%.o,$(1))
daemon_objs = $(patsubst %,$(B)/obj/daemon/%.o,$(1))
client_objs = $(patsubst %,$(B)/obj/client/%.o,$(1))

COLLECTOR_OBJS := $(call daemon_objs,$(DAEMON)) \
		  $(call lib_objs,units jsonutil atomic_file log names context compare allocators \
			    cli_err openmetrics runs symbolize memray/writer memray/pyframes hookpath)
CTL_OBJS := $(call client_objs,$(CTL)) \
	    $(call lib_objs,jsonutil atomic_file units compare runs gate allocators ticks cli_err \
			  openmetrics symbolize \
			  memray/writer memray/reader memray/decode memray/stats memray/pyread)
RUN_OBJS := $(call client_objs,$(RUN)) $(call lib_objs,gate) $(COLLECTOR_OBJS)

BINS := $(B)/benchmemd $(B)/benchmem-run $(B)/benchmemctl $(B)/libbenchmem.a $(B)/libbenchmem.so \
	$(B)/libbenchmem-hook.so

# Pure modules with C unit tests: test_<m> links the module objects (paths from the top) in UNIT_<m>.
UNITS := units names gate allocators ticks openmetrics live region procmaps procstatus symbols \
	 compare memray memray_read proto config listen results placement spool stacks sources \
	 snapshot group creds atomic_file pyframes loop procmem
UNIT_units      := lib/units
UNIT_pyframes   := lib/memray/pyframes lib/memray/writer lib/memray/reader lib/memray/decode \
		   lib/memray/stats lib/memray/pyread lib/allocators lib/units daemon/pystacks \
		   daemon/pyoffsets daemon/pylines daemon/procmem daemon/stacks daemon/procmaps \
		   daemon/symbols
UNIT_names      := lib/names
UNIT_gate       := lib/gate lib/runs lib/compare lib/units lib/jsonutil lib/atomic_file
UNIT_live       := daemon/live
UNIT_region     := daemon/region
UNIT_procmaps   := daemon/procmaps
UNIT_procstatus := daemon/procstatus
UNIT_procmem    := daemon/procmem
UNIT_creds      := daemon/creds daemon/procstatus
UNIT_atomic_file := lib/atomic_file
UNIT_symbols    := daemon/symbols lib/allocators
UNIT_allocators := lib/allocators
UNIT_compare    := lib/compare lib/units
UNIT_memray     := lib/memray/writer lib/memray/reader lib/memray/decode lib/memray/stats lib/memray/pyread \
		   lib/allocators lib/units
UNIT_memray_read := $(UNIT_memray)
UNIT_proto      := daemon/proto lib/names lib/context
UNIT_config     := daemon/config daemon/config_yaml lib/units
UNIT_listen     := daemon/listen
UNIT_results    := daemon/results lib/compare lib/context lib/jsonutil lib/atomic_file lib/units client/table
UNIT_placement  := daemon/placement
UNIT_spool      := daemon/spool
UNIT_stacks     := daemon/stacks daemon/procmaps lib/memray/writer lib/allocators
UNIT_ticks      := lib/ticks
UNIT_group      := daemon/group
UNIT_loop       := daemon/loop
UNIT_openmetrics := lib/openmetrics lib/runs lib/compare lib/units lib/jsonutil lib/atomic_file
# a second event source through the interface into the session table (no BPF)
UNIT_sources    := daemon/sources daemon/loop daemon/sessions daemon/session daemon/group \
		   daemon/blockstacks daemon/live daemon/region daemon/rss daemon/procstatus daemon/spool \
		   daemon/stacks daemon/procmaps \
		   daemon/proto daemon/config daemon/config_yaml $(UNIT_results) lib/log lib/names \
		   lib/memray/writer lib/allocators daemon/pystacks daemon/pyoffsets daemon/pylines \
		   daemon/procmem daemon/symbols
UNIT_snapshot   := daemon/snapshot daemon/hotspots daemon/blockstacks lib/symbolize \
		   daemon/session daemon/group daemon/live daemon/region daemon/spool daemon/stacks \
		   daemon/procmaps $(UNIT_results) lib/log lib/memray/writer lib/allocators \
		   daemon/pystacks daemon/pyoffsets daemon/pylines daemon/procmem daemon/symbols
UNIT_BINS := $(patsubst %,$(B)/tests/unit/test_%,$(UNITS))

WORKLOAD_SRCS := $(wildcard tests/workloads/*.c)
WORKLOAD_CXX_SRCS := $(wildcard tests/workloads/*.cc)
WORKLOADS := $(patsubst tests/workloads/%.c,$(B)/workloads/%,$(WORKLOAD_SRCS)) \
	     $(patsubst tests/workloads/%.cc,$(B)/workloads/%,$(WORKLOAD_CXX_SRCS))
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCHES := $(patsubst tests/bench/%.c,$(B)/bench/%,$(BENCH_SRCS))

FORMAT_FILES = $(shell git ls-files -co --exclude-standard '*.c' '*.h' 2>/dev/null)

.PHONY: all deps venv test unit bench demo format format-check install deb fuzz clean
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BINS) $(UNIT_BINS) $(WORKLOADS)

deps:
	$(Q)packaging/install-deps.sh packaging/deps.txt

# ---- BPF ----------------------------------------------------------------------------------
$(B)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)test -r $(VMLINUX_BTF) || { echo "no BTF at $(VMLINUX_BTF): need a kernel with CONFIG_DEBUG_INFO_BTF" >&2; exit 1; }
	$(Q)mkdir -p $(@D) && $(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(B)/bpf/%.bpf.o: bpf/%.bpf.c bpf/benchmem.h bpf/maps.bpf.h bpf/track.bpf.h bpf/hook.bpf.h \
		bpf/pyframes.bpf.h $(B)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -c $< -o $(@:.o=.tmp.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.o=.tmp.o) && rm -f $(@:.o=.tmp.o)

$(B)/bpf/%.skel.h: $(B)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# ---- user space ---------------------------------------------------------------------------
$(B)/obj/%.o: %.c | $(B)/bpf/benchmem.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/san/%.o: %.c | $(B)/bpf/benchmem.skel.h
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -c $< -o $@

$(B)/benchmemd: $(B)/obj/daemon/main.o $(COLLECTOR_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/benchmem-run: $(RUN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/benchmemctl: $(CTL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -ljansson -lelf -lz -lm -lncursesw -ltinfo

# libbenchmem: libc only, so a benchmark can ship the calls permanently.
$(B)/pic/client/c/benchmem.o: client/c/benchmem.c client/c/libbenchmem.h lib/bm_limits.h
	$(call msg,CC-PIC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c $< -o $@

$(B)/libbenchmem.a: $(B)/pic/client/c/benchmem.o
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/libbenchmem.so: $(B)/pic/client/c/benchmem.o
	$(call msg,LINK,$@)
	$(Q)$(CC) -shared -Wl,-soname,libbenchmem.so.0 -o $@ $^

# The in-process hook (docs/hook.md): preloaded into launched commands, libc and libdl only.
# Everything hidden but the wrappers, the control block and the probe sites.
HOOK_SRCS := hook/hook.c hook/exec.c hook/real.c
$(B)/libbenchmem-hook.so: $(HOOK_SRCS) hook/hook.h bpf/benchmem.h lib/allocators.h
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(B)/hook && $(CC) $(CPPFLAGS) $(filter-out -MMD -MP,$(CFLAGS)) -fPIC -shared \
		-fvisibility=hidden -fno-builtin -Wl,-soname,libbenchmem-hook.so -o $@ $(HOOK_SRCS) -ldl

# ---- tests --------------------------------------------------------------------------------
.SECONDEXPANSION:
$(B)/tests/unit/test_%: tests/unit/test_%.c tests/unit/tap.h \
		$$(addprefix $(B)/san/,$$(addsuffix .o,$$(UNIT_$$*)))
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -o $@ $< \
		$(patsubst %,$(B)/san/%.o,$(UNIT_$*)) $(LDLIBS)

# Ground-truth workloads: -fno-builtin keeps every malloc/free the source asks for.
WL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -fno-builtin -fno-omit-frame-pointer -pthread -MMD -MP
$(B)/workloads/%: tests/workloads/%.c tests/workloads/workload.h $(B)/libbenchmem.a
	$(call msg,CC-WL,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(WL_CFLAGS) -Iclient/c -o $@ $< $(B)/libbenchmem.a \
		$(if $(findstring static,$*),-static,)

# C++ workloads: -fno-allocation-dce keeps every new/delete pair the source writes.
WL_CXXFLAGS := -std=gnu++17 -O2 -g -Wall -Wextra -Werror -fno-builtin -fno-allocation-dce \
	       -fno-omit-frame-pointer -pthread -MMD -MP
$(B)/workloads/%: tests/workloads/%.cc tests/workloads/workload.h $(B)/libbenchmem.a
	$(call msg,CXX-WL,$@)
	$(Q)mkdir -p $(@D) && $(CXX) $(WL_CXXFLAGS) -Iclient/c -o $@ $< $(B)/libbenchmem.a

$(B)/bench/%: tests/bench/%.c
	$(call msg,CC-BENCH,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(WL_CFLAGS) -o $@ $<

# probecost asks placement.o where free's cheapest probe goes (raw bpf()/perf syscalls, no libbpf).
$(B)/bench/probecost: tests/bench/probecost.c $(B)/obj/daemon/placement.o
	$(call msg,CC-BENCH,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(WL_CFLAGS) -Idaemon -o $@ $^

# evrate feeds synthetic events through the daemon's accounting (session.c and what it links).
EVRATE_OBJS := $(call daemon_objs,session group blockstacks live region results spool stacks procmaps \
			       pystacks pyoffsets pylines procmem symbols) \
	       $(call lib_objs,jsonutil atomic_file units log compare context allocators memray/writer)
$(B)/bench/evrate: tests/bench/evrate.c $(EVRATE_OBJS)
	$(call msg,CC-BENCH,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS)

unit: $(UNIT_BINS)
	$(Q)prove $(UNIT_BINS)

format:
	$(Q)clang-format -i $(FORMAT_FILES)

format-check:
	$(Q)clang-format --dry-run -Werror $(FORMAT_FILES) && \
		printf '  %-8s ok (%d files)\n' FORMAT $(words $(FORMAT_FILES))

# build/venv: the pinned peers (pytest-benchmark, pytest-benchmem, memray, ASV, pyperf) plus our
# client/python, for the tests that compare against them; Debian's python3 stays untouched. The
# stamp redoes it only when the pins or the package's files change.
VENV       := $(B)/venv
PEERS_REQ  := packaging/requirements-peers.txt
PY_PKG     := client/python/pyproject.toml $(wildcard client/python/benchmem/*.py) \
              $(wildcard client/python/asv_bench_benchmem/pyproject.toml \
                         client/python/asv_bench_benchmem/asv_bench_benchmem/*.py \
                         client/python/asv_bench_benchmem/asv_bench_benchmem/*/*.py)
PIP_QUIET  := -q --disable-pip-version-check --no-input

venv: $(VENV)/.stamp

$(VENV)/.stamp: $(PEERS_REQ) $(PY_PKG) | deps
	$(call msg,VENV,$(VENV))
	$(Q)test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(Q)$(VENV)/bin/pip install $(PIP_QUIET) -r $(PEERS_REQ)
	$(Q)$(VENV)/bin/pip install $(PIP_QUIET) --force-reinstall --no-deps ./client/python \
		./client/python/asv_bench_benchmem
	$(Q)rm -rf client/python/build client/python/*.egg-info client/python/asv_bench_benchmem/build \
		client/python/asv_bench_benchmem/*.egg-info
	$(Q)touch $@

test: deps venv
	$(Q)$(MAKE) --no-print-directory all $(BENCHES)
	$(Q)$(MAKE) --no-print-directory format-check
	$(Q)$(PYTHON) -m pytest -c tests/pytest.ini --rootdir=. $(PYTEST_ARGS)

bench: deps
	$(Q)packaging/install-deps.sh packaging/deps-bench.txt
	$(Q)$(MAKE) --no-print-directory all $(BENCHES)
	$(Q)$(PYTHON) tests/bench/run.py

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)examples/demo.sh

# ---- install and package -------------------------------------------------------------------
# packaging/build-deb.sh runs `make install PREFIX=/usr DESTDIR=build/deb/root`. /etc, the
# systemd unit, sysusers and tmpfiles directories do not follow PREFIX.
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
# Debian's python3 reads /usr/lib/python3/dist-packages and /usr/local/lib/python3.X/dist-packages.
PYTHONDIR   ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/python3/dist-packages,$(PREFIX)/lib/python$(shell \
	       $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')/dist-packages)
SYSCONFDIR  ?= /etc
UNITDIR     ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
INSTALL_UNIT = sed -e 's|/usr/sbin/benchmemd|$(SBINDIR)/benchmemd|' \
		   -e 's|/etc/benchmem/|$(SYSCONFDIR)/benchmem/|' $(1) >$(2) && chmod 0644 $(2)

install: $(BINS)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PYTHONDIR)/benchmem \
		$(DESTDIR)$(DATADIR)/benchmem/schemas $(DESTDIR)$(SYSCONFDIR)/benchmem \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR)
	$(Q)install -m 0755 $(B)/benchmemd $(DESTDIR)$(SBINDIR)/benchmemd
	$(Q)install -m 0755 $(B)/benchmem-run $(B)/benchmemctl $(DESTDIR)$(BINDIR)/
	$(Q)install -m 0644 $(B)/libbenchmem.a $(DESTDIR)$(LIBDIR)/libbenchmem.a
	$(Q)install -m 0644 $(B)/libbenchmem.so $(DESTDIR)$(LIBDIR)/libbenchmem.so.0
	$(Q)ln -sf libbenchmem.so.0 $(DESTDIR)$(LIBDIR)/libbenchmem.so
	$(Q)install -D -m 0644 $(B)/libbenchmem-hook.so $(DESTDIR)$(LIBDIR)/benchmem/libbenchmem-hook.so
	$(Q)install -m 0644 client/c/libbenchmem.h $(DESTDIR)$(INCLUDEDIR)/libbenchmem.h
	$(Q)install -m 0644 client/python/benchmem/*.py $(DESTDIR)$(PYTHONDIR)/benchmem/
	$(Q)packaging/python-dist-info.sh client/python/pyproject.toml $(DESTDIR)$(PYTHONDIR)
	$(Q)install -m 0644 schemas/*.json $(DESTDIR)$(DATADIR)/benchmem/schemas/
	$(Q)install -m 0644 packaging/benchmemd.yaml $(DESTDIR)$(SYSCONFDIR)/benchmem/benchmemd.yaml
	$(Q)$(call INSTALL_UNIT,packaging/systemd/benchmemd.service,$(DESTDIR)$(UNITDIR)/benchmemd.service)
	$(Q)$(call INSTALL_UNIT,packaging/systemd/benchmemd.socket,$(DESTDIR)$(UNITDIR)/benchmemd.socket)
	$(Q)install -m 0644 packaging/benchmem.sysusers $(DESTDIR)$(SYSUSERSDIR)/benchmem.conf
	$(Q)install -m 0644 packaging/benchmem.tmpfiles $(DESTDIR)$(TMPFILESDIR)/benchmem.conf
	$(Q)for p in docs/man/*.[18]; do \
		gzip -9n <$$p >$(DESTDIR)$(MANDIR)/man$${p##*.}/$${p##*/}.gz && \
		chmod 0644 $(DESTDIR)$(MANDIR)/man$${p##*.}/$${p##*/}.gz || exit 1; \
	done
	$(Q)for c in benchmemctl benchmem-run benchmemd; do \
		install -m 0644 packaging/bash-completion/benchmemctl $(DESTDIR)$(BASHCOMPDIR)/$$c || exit 1; \
	done

deb: $(BINS)
	$(Q)MAKE="$(MAKE)" packaging/build-deb.sh

# ---- fuzzing (clang 14's libFuzzer, from libclang-rt-14-dev) ------------------------------
# fuzz_<f> is built from tests/fuzz/fuzz_<f>.c and the sources (paths from the top) in FUZZ_<f>.
FUZZERS      := proto config
FUZZ_proto   := daemon/proto lib/names lib/context
FUZZ_config  := daemon/config daemon/config_yaml lib/units
FUZZ_SECONDS ?= 300
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BINS    := $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZERS))

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(addsuffix .c,$$(FUZZ_$$*))
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS)

# Each fuzzer runs FUZZ_SECONDS seconds from the seeds in tests/fuzz/corpus/<f> (never
# written); new inputs go to build/fuzz/corpus/<f>, a crash to build/fuzz/crash-* and fails.
fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZERS); do \
		mkdir -p $(B)/fuzz/corpus/$$f && \
		printf '  %-8s %s for %ss\n' FUZZ $$f $(FUZZ_SECONDS) && \
		$(B)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(B)/fuzz/ $(B)/fuzz/corpus/$$f tests/fuzz/corpus/$$f \
			>$(B)/fuzz/$$f.log 2>&1 || { tail -40 $(B)/fuzz/$$f.log; exit 1; }; \
		grep -h '^stat::number_of_executed_units' $(B)/fuzz/$$f.log; \
	done

clean:
	$(Q)rm -rf $(B)

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)
