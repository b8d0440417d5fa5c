# SPDX-License-Identifier: GPL-2.0
#
# vdpa-oot: the Linux vDPA framework as out-of-tree modules.
#
#   make                 build every module against KDIR
#   make install         install them under updates/ and run depmod
#   make tools           build the user-space test programs
#   make demo            boot the target kernel in QEMU and show it working
#   make check           install prerequisites, build, run every test in QEMU
#   make check-debug     the same on a KASAN/lockdep/kmemleak kernel built
#                        from linux-source-6.1 (cached, built once per machine)
#   make bench           vhost-vdpa throughput (pps, bit/s) in QEMU, table + JSON
#   make fuzz            run the netlink, vhost-vdpa and ring fuzzers in QEMU
#                        (FUZZ_SECONDS per target, default 60)
#   make lint            checkpatch --strict, sparse and a W=1 build
#
# KDIR defaults to the newest installed kernel that has headers.

KVER ?= $(shell ls -d /lib/modules/*/build 2>/dev/null | \
	  awk -F/ '{print $$4}' | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build
INSTALL_MOD_PATH ?=
VM ?= scripts/vm/run.sh
VMFLAGS ?=
TESTS ?=

kbuild = $(MAKE) -C $(KDIR) M=$(CURDIR)

.PHONY: all modules install modules_install clean clean-modules tools deps demo \
	check check-debug bench fuzz lint

all: modules

modules:
	$(kbuild) modules

install: modules
	$(MAKE) modules_install

# Install what is already built (the test VM runs this: it must not rebuild).
# Unsigned: the key that signs the distribution's modules is not ours.
modules_install:
	$(kbuild) INSTALL_MOD_DIR=updates INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) \
		CONFIG_MODULE_SIG_ALL= modules_install
	depmod -a $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KVER)

tools:
	$(MAKE) -C tools

clean: clean-modules
	$(MAKE) -C tools clean
	rm -rf build

clean-modules:
	$(kbuild) clean

deps:
	scripts/deps.sh

demo: deps
	$(MAKE) modules tools
	KVER=$(KVER) $(VM) $(VMFLAGS) -- scripts/demo.sh

check: deps
	$(MAKE) modules tools
	KVER=$(KVER) $(VM) $(VMFLAGS) -- selftests/run.sh $(TESTS)

# The debug kernel is built once per machine and cached outside the tree;
# our modules are rebuilt against it (and back by the next plain build).
# acpi=noirq: the KASAN/lockdep kernel interprets the PCI routing AML so
# slowly under TCG that every device waits 30 s for AE_AML_LOOP_TIMEOUT.
# la57=off: with 5-level paging KASAN once reported a wild access in an
# interrupt during early boot, before any module of ours was loaded.
check-debug: deps
	$(MAKE) tools
	+dk=$$(scripts/debug-kernel/build.sh) && kver=$$(cat $$dk/kernelrelease) && \
	$(MAKE) modules KDIR=$$dk/linux-source-6.1 KVER=$$kver && \
	KDIR=$$dk/linux-source-6.1 KVER=$$kver $(VM) --mem 3G --timeout 5400 $(VMFLAGS) \
		--cpu max,la57=off --kernel $$dk/bzImage --modroot $$dk/modroot \
		--append "panic_on_warn=1 kmemleak=on acpi=noirq" -- \
		SELFTEST_TIMEOUT=2700 selftests/run.sh $(TESTS)

bench: deps
	$(MAKE) modules tools
	KVER=$(KVER) scripts/bench.sh

fuzz: deps
	$(MAKE) modules tools
	KVER=$(KVER) scripts/fuzz.sh

lint: deps
	KDIR=$(KDIR) scripts/lint.sh
