# The kernel backend's build (included by the Makefile): the BPF program needs
# clang (-target bpf), libbpf's headers and library (Debian libbpf-dev) and bpftool
# for the skeleton. Without them bindshim is built without the backend, says so
# here, and `bindshim system` answers "kernel backend not built". `make deps`
# installs them.

BPF_CLANG ?= clang
BPFTOOL ?= $(firstword $(wildcard /usr/sbin/bpftool /usr/bin/bpftool /usr/local/sbin/bpftool) \
	$(shell command -v bpftool 2>/dev/null))
KB_MISSING := $(strip $(if $(shell command -v $(BPF_CLANG) 2>/dev/null),,clang) \
	$(if $(BPFTOOL),,bpftool) \
	$(if $(wildcard /usr/include/bpf/bpf_helpers.h),,libbpf-dev))

ifeq ($(KB_MISSING),)
KBACKEND_SRC = kernel/loader.c kernel/tables.c kernel/watch.c kernel/placed.c kernel/subuid.c
KBACKEND_OBJ = $(call obj,$(KBACKEND_SRC))
KBACKEND_LIBS = -lbpf
BPF_ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
BPF_CFLAGS = -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -I. \
	-I/usr/include/$(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu) \
	-Wall -Werror

# The skeleton goes into the build directory, never into the tree.
$(KBACKEND_OBJ): $(B)/kernel/bindshim.skel.h
$(KBACKEND_OBJ): ALL_CFLAGS += -I$(B)

$(B)/kernel/bindshim.bpf.o: kernel/bindshim.bpf.c kernel/ktypes.h kernel/kdecide.h
	@mkdir -p $(@D)
	$(call say,BPF,$<)$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(B)/kernel/bindshim.skel.h: $(B)/kernel/bindshim.bpf.o
	$(call say,SKEL,$@)$(BPFTOOL) gen skeleton $< name bs_bpf > $@.tmp && mv $@.tmp $@
else
KBACKEND_OBJ = $(call obj,kernel/nokernel.c)
KBACKEND_LIBS =
ifeq ($(MAKELEVEL),0)
$(info bindshim: the kernel backend is not built (missing: $(KB_MISSING)); `make deps` installs what it needs)
endif
endif
