# Builds and installs slaacd.
#
#   make                      release binaries in target/release
#   make install              installs them under PREFIX (default /usr/local), below
#                             DESTDIR if given
#   make install-user         creates the unprivileged user the children run as
#
# slaacd looks for its children in ../libexec/slaacd from its own directory, so one build
# installs under any PREFIX. Only a LIBEXECDIR that is not $(SBINDIR)/../libexec/slaacd
# must be compiled into slaacd (as SLAACD_LIBEXECDIR); the build passes it then, and only
# then, and cargo rebuilds slaacd for it, in place in the target directory.
#
# `make install CARGO_PROFILE=dev` installs the binaries of `cargo build` (target/debug)
# and, with the default directories, rebuilds nothing that build already built.
#
# With PREFIX=/usr the service files go where the system looks for them (systemd unit,
# /etc/init.d, /etc/default); with any other PREFIX they go to DOCDIR as examples. The
# sources name /usr/local paths; installing rewrites them for SBINDIR, LIBEXECDIR and
# DOCDIR. Shell completions go to BASHCOMPDIR, ZSHCOMPDIR and FISHCOMPDIR; an example
# slaacd.conf goes to DOCDIR (slaacd runs without one).

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/slaacd
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/slaacd
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
SYSCONFDIR ?= /etc
SLAACD_USER ?= _slaacd

CARGO ?= cargo
CARGO_PROFILE ?= release
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
INSTALL ?= install

# Cargo writes the dev profile to target/debug and every other profile to its own name.
BUILD_DIR = $(TARGET_DIR)/$(if $(filter dev,$(CARGO_PROFILE)),debug,$(CARGO_PROFILE))
# The four programs, chosen from the whole workspace: cargo unifies dependency features over
# the packages selected, so `-p` of these four alone would build (and put in BUILD_DIR)
# other copies than `cargo build --workspace --bins` does.
PROGRAMS = --workspace --bin slaacd --bin slaacd-frontend --bin slaacd-engine --bin slaacctl

# Where slaacd finds its children without being told (see above); any other LIBEXECDIR is
# compiled in.
ifeq ($(abspath $(LIBEXECDIR)),$(abspath $(SBINDIR)/../libexec/slaacd))
BUILD_ENV =
else
BUILD_ENV = SLAACD_LIBEXECDIR='$(LIBEXECDIR)'
endif

# Copies file $(1) to $(2) with mode $(3), with the paths the sources name turned into this
# installation's, and the note saying so removed.
rewrite = sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' \
	-e 's|/usr/local/libexec/slaacd|$(LIBEXECDIR)|g' \
	-e 's|/usr/local/share/doc/slaacd|$(DOCDIR)|g' \
	-e '/rewrites them for its PREFIX/d' $(1) > '$(DESTDIR)$(2)' && chmod $(3) '$(DESTDIR)$(2)'

.PHONY: all install install-user

all:
	$(BUILD_ENV) $(CARGO) build --locked \
		--profile '$(CARGO_PROFILE)' --target-dir '$(TARGET_DIR)' $(PROGRAMS)

install: all
	$(INSTALL) -d '$(DESTDIR)$(SBINDIR)' '$(DESTDIR)$(BINDIR)' \
		'$(DESTDIR)$(LIBEXECDIR)' '$(DESTDIR)$(MANDIR)/man5' '$(DESTDIR)$(MANDIR)/man8' \
		'$(DESTDIR)$(DOCDIR)/openbsd' '$(DESTDIR)$(BASHCOMPDIR)' \
		'$(DESTDIR)$(ZSHCOMPDIR)' '$(DESTDIR)$(FISHCOMPDIR)'
	$(INSTALL) -m 0755 '$(BUILD_DIR)/slaacd' '$(DESTDIR)$(SBINDIR)/slaacd'
	$(INSTALL) -m 0755 '$(BUILD_DIR)/slaacctl' '$(DESTDIR)$(BINDIR)/slaacctl'
	$(INSTALL) -m 0755 '$(BUILD_DIR)/slaacd-frontend' '$(BUILD_DIR)/slaacd-engine' \
		'$(DESTDIR)$(LIBEXECDIR)/'
	$(call rewrite,man/slaacd.8,$(MANDIR)/man8/slaacd.8,0644)
	$(INSTALL) -m 0644 man/slaacctl.8 '$(DESTDIR)$(MANDIR)/man8/slaacctl.8'
	$(call rewrite,man/slaacd.conf.5,$(MANDIR)/man5/slaacd.conf.5,0644)
	$(INSTALL) -m 0644 deploy/slaacd.conf '$(DESTDIR)$(DOCDIR)/slaacd.conf'
	$(INSTALL) -m 0644 deploy/completions/bash/slaacd deploy/completions/bash/slaacctl \
		'$(DESTDIR)$(BASHCOMPDIR)/'
	$(INSTALL) -m 0644 deploy/completions/zsh/_slaacd deploy/completions/zsh/_slaacctl \
		'$(DESTDIR)$(ZSHCOMPDIR)/'
	$(INSTALL) -m 0644 deploy/completions/fish/slaacd.fish \
		deploy/completions/fish/slaacctl.fish '$(DESTDIR)$(FISHCOMPDIR)/'
	$(call rewrite,deploy/openbsd/slaacd,$(DOCDIR)/openbsd/slaacd,0755)
ifeq ($(PREFIX),/usr)
	$(INSTALL) -d '$(DESTDIR)$(SYSTEMDUNITDIR)' '$(DESTDIR)$(SYSCONFDIR)/init.d' \
		'$(DESTDIR)$(SYSCONFDIR)/default'
	$(call rewrite,deploy/systemd/slaacd.service,$(SYSTEMDUNITDIR)/slaacd.service,0644)
	$(call rewrite,deploy/debian/slaacd.init,$(SYSCONFDIR)/init.d/slaacd,0755)
# An existing /etc/default/slaacd holds the administrator's settings: keep it.
	[ -e '$(DESTDIR)$(SYSCONFDIR)/default/slaacd' ] || $(INSTALL) -m 0644 \
		deploy/debian/slaacd.default '$(DESTDIR)$(SYSCONFDIR)/default/slaacd'
else
	$(INSTALL) -d '$(DESTDIR)$(DOCDIR)/systemd' '$(DESTDIR)$(DOCDIR)/debian'
	$(call rewrite,deploy/systemd/slaacd.service,$(DOCDIR)/systemd/slaacd.service,0644)
	$(call rewrite,deploy/debian/slaacd.init,$(DOCDIR)/debian/slaacd.init,0755)
	$(INSTALL) -m 0644 deploy/debian/slaacd.default '$(DESTDIR)$(DOCDIR)/debian/slaacd.default'
endif

install-user:
	id '$(SLAACD_USER)' >/dev/null 2>&1 || useradd --system --no-create-home \
		--home-dir /nonexistent --shell /usr/sbin/nologin '$(SLAACD_USER)'
