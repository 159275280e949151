# luci-app-wsflowd (luci-app-wsflowd/): what its checks and its browser test need,
# and its lint. Included by the top Makefile:
#
#   make luci-deps   Debian's Chromium and ChromeDriver (the browser test in
#                    tests/luci_app.rs), gettext (xgettext and msguniq, with
#                    which the test remakes the translation template as
#                    LuCI's i18n-scan.pl does), node and npm if node is
#                    missing, and ESLint from npm into tests/luci/node_modules
#                    (gitignored; versions pinned by tests/luci/package-lock.json)
#   make luci-lint   the JSON files parse, every JS file passes `node --check`
#                    (a view as LuCI's loader compiles it: the body of a
#                    function), ESLint with tests/luci/eslint.config.mjs

LUCI_APP := luci-app-wsflowd
LUCI_TESTS := tests/luci
LUCI_APT_PACKAGES := chromium chromium-driver gettext
LUCI_VIEWS := $(wildcard $(LUCI_APP)/htdocs/luci-static/resources/view/*/*.js)
LUCI_JSON := $(shell find $(LUCI_APP) -name '*.json') $(LUCI_TESTS)/package.json $(LUCI_TESTS)/package-lock.json
LUCI_PLAIN_JS := $(wildcard $(LUCI_TESTS)/*.js $(LUCI_TESTS)/*.mjs $(LUCI_TESTS)/shim/*.js)
LUCI_NODE_MODULES := $(LUCI_TESTS)/node_modules/.package-lock.json

.PHONY: luci-deps luci-lint

luci-deps:
	@missing=""; for p in $(LUCI_APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@$(MAKE) --no-print-directory $(LUCI_NODE_MODULES)

# npm ci when the lock file is newer than what is installed.
$(LUCI_NODE_MODULES): $(LUCI_TESTS)/package-lock.json $(LUCI_TESTS)/package.json
	cd $(LUCI_TESTS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

luci-lint: $(LUCI_NODE_MODULES)
	@node -e 'for (const f of process.argv.slice(1)) { try { JSON.parse(require("fs").readFileSync(f, "utf8")); } catch (e) { console.error(f + ": " + e.message); process.exit(1); } }' $(LUCI_JSON)
	@echo "luci-lint: $(words $(LUCI_JSON)) JSON files parse"
	@for f in $(LUCI_PLAIN_JS); do node --check $$f || exit 1; done
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	for f in $(LUCI_VIEWS); do \
	  out="$$tmp/$$(echo $$f | tr / _)"; \
	  { printf '(function(window, document, L) {'; cat $$f; printf '\n});\n'; } > "$$out"; \
	  node --check "$$out" || { echo "$$f: syntax error (line numbers as in the file)"; exit 1; }; \
	done
	@echo "luci-lint: node --check passed on $(words $(LUCI_PLAIN_JS) $(LUCI_VIEWS)) JS files"
	$(LUCI_TESTS)/node_modules/.bin/eslint -c $(LUCI_TESTS)/eslint.config.mjs --max-warnings 0 $(LUCI_APP)/htdocs $(LUCI_TESTS)
