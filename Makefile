# SPDX-License-Identifier: GPL-2.0
#
# vdpa-oot: the Linux vDPA framework as out-of-tree modules.
#
#   make                 build every module against KDIR
#   make install         install them under updates/ and run depmod
#   make tools           build the user-space test programs
#   make demo            boot the target kernel in QEMU and show it working
#   make check           install prerequisites, build, run every test in QEMU
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
	check lint

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

lint: deps
	KDIR=$(KDIR) scripts/lint.sh
