# SPDX-License-Identifier: GPL-2.0
# hvo_shared: see README.md. Kbuild lists the objects; this file drives it.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
DESTDIR ?=
PREFIX ?= /usr/local
HVO_CACHE ?= $(HOME)/.cache/hvo_shared
KSRC ?= $(HVO_CACHE)/src/linux-source-7.3

# A release tag (v1.2.3) names itself; otherwise VERSION plus the commit.
VERSION := $(shell git describe --tags --dirty --match 'v[0-9]*' 2>/dev/null | sed 's/^v//')
ifeq ($(VERSION),)
VERSION := $(shell cat VERSION)$(shell git rev-parse --short HEAD 2>/dev/null | sed 's/^/-g/')$(shell git rev-parse HEAD >/dev/null 2>&1 && { git diff --quiet HEAD -- src include Kbuild || echo -dirty; })
endif
export HVO_SHARED_VERSION := $(VERSION)

DKMS_FILES := src include Kbuild Makefile
DKMS_SRC := $(DESTDIR)/usr/src/hvo_shared-$(VERSION)

all: module

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

version:
	@echo $(VERSION)

# The module for the running kernel, into /lib/modules/$(KVER)/updates.
module-install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates modules_install
	depmod -a $(KVER)

# hvoctl, its manual page, the bpftrace tools (as Debian installs
# bpftrace's own: executable .bt files in sbin), and the systemd timer that
# writes the node_exporter textfile. Once per machine, not per kernel: the
# module is what DKMS rebuilds, see docs/hvoctl.md.
BT_TOOLS := $(notdir $(wildcard tools/bpftrace/*.bt))
SYSTEMD_UNITS := $(notdir $(wildcard tools/systemd/*.service tools/systemd/*.timer))
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system

tools-install:
	$(MAKE) -C tools/hvoctl install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) \
		HVOCTL_VERSION=$(VERSION)
	install -d $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(addprefix tools/bpftrace/,$(BT_TOOLS)) $(DESTDIR)$(PREFIX)/sbin/
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	install -m 0644 $(addprefix tools/systemd/,$(SYSTEMD_UNITS)) $(DESTDIR)$(SYSTEMD_UNIT_DIR)/

tools-uninstall:
	$(MAKE) -C tools/hvoctl uninstall DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/sbin/,$(BT_TOOLS))
	rm -f $(addprefix $(DESTDIR)$(SYSTEMD_UNIT_DIR)/,$(SYSTEMD_UNITS))

# Everything that can fail is checked and built before anything is
# installed: without libkmod-dev, `make install` stops before the module.
tools-check:
	@pkg-config --exists libkmod 2>/dev/null || \
		{ echo "make: hvoctl needs libkmod's headers: apt install libkmod-dev pkg-config" >&2; exit 1; }

install: tools-check
	$(MAKE) module
	$(MAKE) -C tools/hvoctl HVOCTL_VERSION=$(VERSION)
	$(MAKE) module-install
	$(MAKE) tools-install

# A source tree that DKMS can build without git: the version is frozen in.
dkms-src:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)
	cp -r $(DKMS_FILES) $(DKMS_SRC)/
	echo $(VERSION) > $(DKMS_SRC)/VERSION
	sed 's/@VERSION@/$(VERSION)/' dkms.conf > $(DKMS_SRC)/dkms.conf

# The module through DKMS (rebuilt for every new kernel), the tools once,
# as `make install` does without DKMS.
dkms-install: tools-check dkms-src
	dkms install --force hvo_shared/$(VERSION) -k $(KVER)
	$(MAKE) tools-install

dkms-uninstall: tools-uninstall
	dkms remove hvo_shared/$(VERSION) --all

# Kernel style: checkpatch from the 7.3 source that tests/vm/prepare unpacks.
# Fails if checkpatch is missing, finds anything, or breaks.
style:
	@test -x $(KSRC)/scripts/checkpatch.pl || \
		{ echo "make style: no $(KSRC)/scripts/checkpatch.pl (run tests/vm/prepare, or set KSRC)" >&2; exit 1; }
	$(KSRC)/scripts/checkpatch.pl --no-tree --terse --show-types \
		-f $(wildcard src/*.c src/*.h include/*.h)

# The in-VM suite on Debian's 7.3 and 7.2 kernels; ends "N passed, N failed".
check:
	tests/check

bench:
	tests/bench/bench

# The concurrency stress, 30 minutes in one 7.3 guest; STRESS_SECONDS=N
# for another length. See docs/reliability.md.
stress:
	tests/stress/run

demo:
	tests/demo

# Debian packages hvo-shared-dkms and hvoctl into build/deb, built and
# lintian-checked in a clean trixie root (tests/deb/build).
deb:
	tests/deb/build

# The packages installed, upgraded and purged as an operator would, and
# the shipped boot configuration, each on guests of its own (tests/deb/);
# ends "N passed, N failed". .ci/run runs it after make check.
check-deb:
	tests/deb/check

# The kernel's own hugetlb selftests in a 7.3 guest, without and with
# hvo_shared: same results (docs/debug-kernel.md).
selftests:
	tests/selftests/run

# The guest suite and fail_page_alloc on a KASAN/lockdep/DEBUG_VM build of
# linux-source-7.3 (built once, about 21 min; docs/debug-kernel.md).
check-debug:
	tests/debug/check

.PHONY: all module clean version module-install tools-check tools-install tools-uninstall install \
	dkms-src dkms-install dkms-uninstall style check check-deb bench stress demo deb \
	selftests check-debug
