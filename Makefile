# stock — build, run and test. `make run` brings the local stack up, `make test` runs every suite.
VARIANT ?= release
BUILD   := build/$(VARIANT)
PKGS    := fcgi libpq hiredis json-c libsodium liburiparser

CC      ?= gcc
WARN    := -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wpedantic \
           -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition -Wformat=2 \
           -Wvla -Wwrite-strings -Wpointer-arith -Wcast-align -Wnull-dereference -fno-common
ifeq ($(VARIANT),fuzz)
CC      := clang
OPT     := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer
LDOPT   := -fsanitize=fuzzer,address,undefined
else ifeq ($(VARIANT),asan)
# The ASan build is the test build: it also compiles the fault injection hooks (STOCK_FAULT_INJECTION).
OPT     := -O1 -g3 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
           -DSTOCK_FAULT_INJECTION
LDOPT   := -fsanitize=address,undefined
else
OPT     := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDOPT   := -pie -Wl,-z,relro,-z,now
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += $(WARN) $(OPT) -Ifcgi -I$(BUILD)/gen $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lm

LIB_SRC := $(wildcard fcgi/core/*.c fcgi/services/*.c fcgi/routes/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o
CTL_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard fcgi/ctl/*.c))
UNIT_SRC := $(wildcard tests/unit/*.c)
INTEG_SRC := $(wildcard tests/integration/*.c)
BINS    := $(BUILD)/stock-fcgi $(BUILD)/stockctl
# stock-fcgi's process roles; listen.o is also linked into run_unit (tests/unit/test_listen.c).
FCGI_OBJ := $(addprefix $(BUILD)/fcgi/,main.o listen.o pool.o worker.o)

.PHONY: all bins tests deps run stop test test-faults test-fleet test-unit bench bench-reports check format format-check clean asan \
        fuzz fuzzers

all: deps-quiet
	@$(MAKE) --no-print-directory bins VARIANT=release

bins: $(BINS) $(BUILD)/fcgi-minimal
tests: bins $(BUILD)/run_unit $(BUILD)/run_integration

asan:
	@$(MAKE) --no-print-directory tests VARIANT=asan

$(BUILD)/libstock.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/gen/migrations.c: $(sort $(wildcard sql/*.sql)) deploy/embed-sql.sh
	@mkdir -p $(dir $@)
	sh deploy/embed-sql.sh $(sort $(wildcard sql/*.sql)) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	@echo "CC $<"
	@$(CC) $(CFLAGS) -Wno-overlength-strings -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/stock-fcgi: $(FCGI_OBJ) $(BUILD)/libstock.a
	$(CC) $(LDOPT) -o $@ $^ $(LDLIBS)

$(BUILD)/stockctl: $(BUILD)/fcgi/stockctl.o $(CTL_OBJ) $(BUILD)/libstock.a
	$(CC) $(LDOPT) -o $@ $^ $(LDLIBS)

# The reference program of the bench: a libfcgi loop answering one Redis GET.
$(BUILD)/fcgi-minimal: $(BUILD)/tests/bench/fcgi_minimal.o
	$(CC) $(LDOPT) -o $@ $^ $(LDLIBS)

$(BUILD)/run_unit: $(UNIT_SRC:%.c=$(BUILD)/%.o) $(BUILD)/fcgi/listen.o $(BUILD)/libstock.a
	$(CC) $(LDOPT) -o $@ $^ $(LDLIBS) -lcunit

$(BUILD)/run_integration: $(INTEG_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libstock.a
	$(CC) $(LDOPT) -o $@ $^ $(LDLIBS) -lcunit

# libFuzzer targets (clang): make fuzz runs each for FUZZ_SECONDS (default 60).
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_SECONDS ?= 60
fuzzers: $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/%)

$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/libstock.a
	@echo "LD $@"
	@$(CC) $(LDOPT) -o $@ $^ $(LDLIBS)

fuzz: deps
	@$(MAKE) --no-print-directory fuzzers VARIANT=fuzz
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

deps:
	@sh deploy/deps.sh

deps-quiet:
	@sh deploy/deps.sh --quiet

run: deps
	@$(MAKE) --no-print-directory bins VARIANT=release
	@bash deploy/stack.sh up

stop:
	@bash deploy/stack.sh down

test: deps
	@$(MAKE) --no-print-directory tests VARIANT=release
	@$(MAKE) --no-print-directory tests VARIANT=asan
	@$(MAKE) --no-print-directory fuzzers VARIANT=fuzz
	@bash tests/run_all.sh

# The fault suite alone (make test runs it too): its own stack, load, one fault at a time.
test-faults: deps
	@$(MAKE) --no-print-directory bins VARIANT=release
	@$(MAKE) --no-print-directory bins VARIANT=asan
	@bash tests/faults/run.sh

# The fleet suite alone (make test runs it too): three hosts in network namespaces (root).
test-fleet: deps
	@$(MAKE) --no-print-directory bins VARIANT=release
	@$(MAKE) --no-print-directory bins VARIANT=asan
	@bash tests/fleet/run.sh

test-unit: deps
	@$(MAKE) --no-print-directory tests VARIANT=asan
	@build/asan/run_unit

bench: deps
	@$(MAKE) --no-print-directory bins VARIANT=release
	@bash tests/bench/bench.sh
	@bash tests/bench/reports.sh

# The sales report bench alone (make bench runs it too): 1,000,000 sales, cold and warm.
bench-reports: deps
	@$(MAKE) --no-print-directory bins VARIANT=release
	@bash tests/bench/reports.sh

check: format-check
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		--suppress=missingIncludeSystem -Ifcgi fcgi

format:
	clang-format -i $(wildcard fcgi/*.c fcgi/*.h fcgi/*/*.c fcgi/*/*.h tests/*/*.c tests/*/*.h)

format-check:
	clang-format --dry-run --Werror $(wildcard fcgi/*.c fcgi/*.h fcgi/*/*.c fcgi/*/*.h tests/*/*.c tests/*/*.h)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
