# SPDX-License-Identifier: MIT
# libbatchpoint-aws: the optional AWS add-on (lib/aws/*.c), included by the top Makefile.
#
# Built only when libcurl is installed (pkg-config libcurl) and never for CORE_ONLY=1; it
# links the core's shared library and uses only its public API (-Iinclude, never -Ilib).
#   make aws          the add-on's static and shared libraries (also part of `make all`)
#   make check-aws    its tests (test/aws/run_tests.sh; part of `make test`)
#   make install-aws  library, header and batchpoint-aws.pc (part of `make install`)
ifneq ($(CORE_ONLY),1)

AWS_MAJOR := 0
AWS_HAVE_CURL := $(shell pkg-config --exists libcurl 2>/dev/null && echo 1)
AWS_SKIP_MSG := libbatchpoint-aws: skipped: libcurl not installed (Debian: libcurl4-openssl-dev)

.PHONY: aws check-aws install-aws uninstall-aws

ifeq ($(AWS_HAVE_CURL),1)

AWS_SRCS := $(wildcard lib/aws/*.c)
AWS_HDRS := $(wildcard lib/aws/*.h)
AWS_STATIC_OBJS := $(AWS_SRCS:lib/aws/%.c=$(BUILD)/aws/obj/%.o)
AWS_SHARED_OBJS := $(AWS_SRCS:lib/aws/%.c=$(BUILD)/aws/pic/%.o)
AWS_STATIC_LIB := $(BUILD)/libbatchpoint-aws.a
AWS_SHARED_LIB := $(BUILD)/libbatchpoint-aws.so.$(AWS_MAJOR)
AWS_SHARED_LINK := $(BUILD)/libbatchpoint-aws.so
AWS_CURL_CFLAGS := $(shell pkg-config --cflags libcurl)
AWS_CURL_LIBS := $(shell pkg-config --libs libcurl)
AWS_CPPFLAGS := -D_POSIX_C_SOURCE=200809L -Iinclude -Ilib/aws $(AWS_CURL_CFLAGS)
AWS_LIBS := $(AWS_CURL_LIBS) -lyajl

# The version script alone decides the exports (bp_aws_* only), so the public functions
# need no visibility attribute.
$(BUILD)/aws/obj/%.o: lib/aws/%.c $(AWS_HDRS) $(PUBLIC_HEADERS) | $(LIB_DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(AWS_CPPFLAGS) -c $< -o $@

$(BUILD)/aws/pic/%.o: lib/aws/%.c $(AWS_HDRS) $(PUBLIC_HEADERS) | $(LIB_DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(AWS_CPPFLAGS) -fPIC -c $< -o $@

$(AWS_STATIC_LIB): $(AWS_STATIC_OBJS)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(AWS_SHARED_LIB): $(AWS_SHARED_OBJS) lib/aws/batchpoint-aws.map $(SHARED_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libbatchpoint-aws.so.$(AWS_MAJOR) \
		-Wl,--version-script=lib/aws/batchpoint-aws.map $(EXTRA_CFLAGS) $(EXTRA_LDFLAGS) \
		-o $@ $(AWS_SHARED_OBJS) -L$(BUILD) -lbatchpoint $(AWS_LIBS)
	$(Q)ln -sf libbatchpoint-aws.so.$(AWS_MAJOR) $(AWS_SHARED_LINK)

# bpconsume: the ready consumer (lib/aws/bpconsume/), linked with the static libraries so
# the installed command needs no library path.
BPCONSUME := $(BUILD)/bpconsume
BPCONSUME_SRCS := $(wildcard lib/aws/bpconsume/*.c)
$(BPCONSUME): $(BPCONSUME_SRCS) $(wildcard lib/aws/bpconsume/*.h) lib/aws/bp_aws.h \
		$(AWS_STATIC_LIB) $(STATIC_LIB)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(AWS_CPPFLAGS) -DBP_STATIC -o $@ $(BPCONSUME_SRCS) \
		$(AWS_STATIC_LIB) $(STATIC_LIB) $(AWS_LIBS) $(EXTRA_LDFLAGS)

# The Lambda custom runtime in C (examples/lambda_runtime/): the `bootstrap` of a function
# behind a stream mapping, over the Runtime API with libcurl; a host of the core's public
# API only (not of the add-on). Tested by check-handler (test/handler/check_runtime.sh).
LAMBDA_BOOTSTRAP := $(BUILD)/examples/lambda_runtime/bootstrap
LAMBDA_RUNTIME_SRCS := examples/lambda_runtime/bootstrap.c examples/lambda_runtime/marked.c
$(LAMBDA_BOOTSTRAP): $(LAMBDA_RUNTIME_SRCS) examples/lambda_runtime/marked.h $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(EXAMPLE_CPPFLAGS) $(AWS_CURL_CFLAGS) -o $@ $(LAMBDA_RUNTIME_SRCS) \
		$(STATIC_LIB) $(AWS_CURL_LIBS) -lyajl $(EXTRA_LDFLAGS)

aws: $(AWS_STATIC_LIB) $(AWS_SHARED_LIB) $(BPCONSUME) $(LAMBDA_BOOTSTRAP)
all: aws

# ---- tests: test/aws/test_aws_*.c, cmocka, linked with the static add-on and core ----
AWS_TEST_SRCS := $(wildcard test/aws/test_aws_*.c)
AWS_TEST_BINS := $(AWS_TEST_SRCS:test/aws/%.c=$(BUILD)/test/aws/%)
$(BUILD)/test/aws/%: test/aws/%.c $(wildcard test/aws/*.h) $(AWS_STATIC_LIB) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(AWS_CPPFLAGS) -Itest/aws -DBP_STATIC -o $@ $< $(AWS_STATIC_LIB) \
		$(STATIC_LIB) $(AWS_LIBS) -lcmocka $(EXTRA_LDFLAGS)

# The Node packages of the end-to-end tests (kinesalite, Powertools, the AWS SDK) come from
# node-packages (the top Makefile).
check-aws: $(AWS_TEST_BINS) $(AWS_SHARED_LIB) $(BPCONSUME) | $(DEPS_STAMP) node-packages
	@sh test/aws/run_tests.sh $(BUILD) $(AWS_TEST_BINS)
	@CC="$(CC)" EXTRA_FLAGS="$(EXTRA_CFLAGS) $(EXTRA_LDFLAGS)" sh test/aws/install_check.sh $(BUILD)

# ---- install ----
install-aws: aws
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/batchpoint
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(BPCONSUME) $(DESTDIR)$(BINDIR)/
	install -m 644 $(AWS_STATIC_LIB) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(AWS_SHARED_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libbatchpoint-aws.so.$(AWS_MAJOR) $(DESTDIR)$(LIBDIR)/libbatchpoint-aws.so
	$(if $(wildcard lib/aws/bp_aws.h),install -m 644 lib/aws/bp_aws.h \
		$(DESTDIR)$(INCLUDEDIR)/batchpoint/bp_aws.h)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		lib/aws/batchpoint-aws.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/batchpoint-aws.pc

else # no libcurl: every add-on target says so, once

aws install-aws:
	@echo "$(AWS_SKIP_MSG)"
check-aws:
	@echo "aws tests: skipped: libcurl not installed (Debian: libcurl4-openssl-dev)"
	@[ "$$BP_REQUIRE_ALL" != 1 ] || { echo "BP_REQUIRE_ALL=1: nothing may be skipped"; exit 1; }

endif

uninstall-aws:
	rm -f $(DESTDIR)$(LIBDIR)/libbatchpoint-aws.a $(DESTDIR)$(LIBDIR)/libbatchpoint-aws.so \
		$(DESTDIR)$(LIBDIR)/libbatchpoint-aws.so.$(AWS_MAJOR) \
		$(DESTDIR)$(LIBDIR)/pkgconfig/batchpoint-aws.pc $(DESTDIR)$(INCLUDEDIR)/batchpoint/bp_aws.h \
		$(DESTDIR)$(BINDIR)/bpconsume

install: install-aws
uninstall: uninstall-aws

endif
