# SPDX-License-Identifier: GPL-2.0
#
# vdpa-oot: the Linux vDPA framework as out-of-tree modules.
#
#   make                 build every module against KDIR
#   make install         install them under updates/ and run depmod
#   make uninstall       remove what make install installed, run depmod
#   make tools           build the user-space test programs
#   make image           the demo's container image from the host's DPDK
#                        packages (build/image/oci.tar; prints its digest)
#   make vendor-drivers  optional: ifcvf, mlx5_vdpa, eni_vdpa from the
#                        installed linux-source-6.1, on our core
#   make demo            boot the target kernel in QEMU and show it working
#   make check           install prerequisites, build, run every test in QEMU
#                        (a second VM, with an IOMMU, for IOMMU_TESTS)
#   make check-dkms      install through DKMS (scratch trees), modprobe in QEMU
#   make check-debug     the same on a KASAN/lockdep/kmemleak kernel built
#                        from linux-source-6.1 (cached, built once per machine)
#   make bench           vhost-vdpa throughput (pps, bit/s) in QEMU, then the
#                        virtio-pci adapter against virtio-pci, then the
#                        mediator against vhost-net and a user-space
#                        translator (pps, bit/s, CPU per frame); tables + JSON
#   make fuzz            run the netlink, vhost-vdpa and ring fuzzers in QEMU
#                        (FUZZ_SECONDS per target, default 60)
#   make lint            checkpatch --strict, sparse and a W=1 build
#
# KVER defaults to the newest installed kernel with both headers and an
# image (scripts/kver.sh): the build and the test VM use the same one.
# KVER=<version> chooses another; `make check`/`demo` install its packages.

TOP := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
KVER ?= $(shell $(TOP)/scripts/kver.sh)
KDIR ?= /lib/modules/$(KVER)/build
INSTALL_MOD_PATH ?=
# The package version and the modules it installs: dkms.conf says both.
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(TOP)/dkms.conf)
MODULES := $(shell sed -n 's/^BUILT_MODULE_NAME\[[0-9]*\]="\(.*\)"$$/\1/p' $(TOP)/dkms.conf)
# Test modules (selftests/*/Kbuild): built and installed with the others,
# for the test VM's modprobe; not in dkms.conf.
TEST_MODULES := $(shell sed -n 's/^obj-m += \(.*\)\.o$$/\1/p' $(TOP)/selftests/*/Kbuild)
VM ?= scripts/vm/run.sh
VMFLAGS ?=
TESTS ?=

kbuild = $(if $(wildcard $(KDIR)/Makefile),,$(error no kernel build tree at \
	'$(KDIR)': install linux-headers-<version> and pass KVER=<version>))$(MAKE) -C $(KDIR) M=$(CURDIR)

.PHONY: all modules install uninstall modules_install clean clean-modules tools \
	deps demo check check-debug check-dkms bench fuzz lint version vendor-drivers \
	image

all: modules

# Kbuild rebuilds an object when its command line or a dependency changes,
# but the stock and cloud kernels share one headers tree (relative include
# paths, relative config dependencies): switching between them changes
# neither, and would leave modules built for the other kernel.  So a build
# for another tree starts from clean.
modules:
	@if [ "$$(cat build/kdir 2>/dev/null)" != "$(realpath $(KDIR))" ]; then \
		$(kbuild) clean >/dev/null; mkdir -p build; \
		echo "$(realpath $(KDIR))" >build/kdir; \
	fi
	$(kbuild) modules

install: modules
	$(MAKE) modules_install

# What `make install` put in place, found by the module names of dkms.conf
# and the test modules (DKMS's own copies in updates/dkms are dkms remove's
# business).
uninstall:
	for m in $(MODULES) $(TEST_MODULES); do \
		find $(INSTALL_MOD_PATH)/lib/modules/$(KVER)/updates \
			-path '*/updates/dkms' -prune -o -name "$$m.ko*" -print \
			-exec rm -f {} + 2>/dev/null; \
	done; true
	depmod -a $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KVER)

# Install what is already built (the test VM runs this: it must not rebuild).
# Unsigned: the key that signs the distribution's modules is not ours.
modules_install:
	$(kbuild) INSTALL_MOD_DIR=updates INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) \
		CONFIG_MODULE_SIG_ALL= modules_install
	depmod -a $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KVER)

tools:
	$(MAKE) -C tools

image: tools
	$(TOP)/scripts/image.sh

clean: clean-modules
	$(MAKE) -C tools clean
	rm -rf build

clean-modules:
	rm -f build/kdir
	$(kbuild) clean

# A kernel named on the command line gets its image and headers installed.
deps:
	$(TOP)/scripts/deps.sh $(if $(filter command line environment,$(origin KVER)),$(KVER))

demo: deps
	$(MAKE) modules image
	KVER=$(KVER) $(VM) --iommu $(VMFLAGS) -- scripts/demo.sh

# Tests that need a VM with an IOMMU get a second one (run.sh --iommu);
# in the first they skip.
IOMMU_TESTS := virtio_pci_iommu one_image qemu_net
check_main = $(if $(TESTS),$(filter-out $(IOMMU_TESTS),$(TESTS)),all)
check_iommu = $(if $(TESTS),$(filter $(IOMMU_TESTS),$(TESTS)),$(IOMMU_TESTS))

# The whole suite takes about 26 minutes here and went past run.sh's default
# of 30 in CI: its VM gets an hour (selftests/run.sh bounds each test).
check: deps
	$(MAKE) modules image
	$(if $(check_main),KVER=$(KVER) $(VM) --timeout 3600 $(VMFLAGS) -- \
		selftests/run.sh $(filter-out all,$(check_main)))
	$(if $(check_iommu),KVER=$(KVER) $(VM) --iommu $(VMFLAGS) -- \
		selftests/run.sh $(check_iommu))

# DKMS install into scratch trees, then modprobe by name in the VM.
check-dkms: deps
	KVER=$(KVER) scripts/dkms-test.sh

version:
	@echo $(VERSION)

# Optional: the distribution's ifcvf, mlx5_vdpa and eni_vdpa, built from
# the installed linux-source-6.1 against our core (selftests/vendor_drivers.sh).
vendor-drivers: modules
	$(TOP)/scripts/vendor-drivers.sh $(KVER) $(KDIR)

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
	KVER=$(KVER) scripts/bench-pci.sh
	KVER=$(KVER) scripts/bench-mediator.sh

fuzz: deps
	$(MAKE) modules tools
	KVER=$(KVER) scripts/fuzz.sh

lint: deps
	KDIR=$(KDIR) scripts/lint.sh
