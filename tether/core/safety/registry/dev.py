"""Specs of the everyday development tools: test runners, builds, package queries, containers.

Test runners and builds run the project's own code (the default policy
allows that; docs/safety.md "Limits"). What they must not do without a
person is load code or a runner from elsewhere: plugins (`pytest -p`),
runner settings (`--config` that names a runner, `-toolexec`), code URLs.
Those options are not listed, so they are not vetted. Path options are
listed with their roles, so the sandbox checks them in both spellings.
"""

from __future__ import annotations

from tether.core.safety.registry.spec import Node, alias, program, sub

__all__ = ["SPECS"]

_HELP = "--help -h --version -V"

_PYTEST = (
    "-q|--quiet -v|--verbose -x|--exitfirst --maxfail= -k= -m= -s --capture= --tb= -r= "
    "-l|--showlocals --no-showlocals --lf|--last-failed --ff|--failed-first --nf|--new-first "
    "--sw|--stepwise --sw-skip|--stepwise-skip --lfnf|--last-failed-no-failures= "
    "--co|--collect-only --durations= --durations-min= --no-header --no-summary -W= "
    "--pythonwarnings= --color= --code-highlight= --strict-markers --strict-config --strict "
    "--import-mode= --rootdir=d -c|--config-file=r --confcutdir=d --basetemp= "
    "--junitxml|--junit-xml=w --doctest-modules --doctest-glob= --doctest-continue-on-failure "
    "--ignore=l --ignore-glob= --deselect= --runxfail --setup-show --setup-only --setup-plan "
    "--fixtures|--funcargs --fixtures-per-test --markers --full-trace --log-level= "
    "--log-cli-level= --log-format= --log-date-format= --log-file=w --log-file-level= "
    "--disable-warnings|--disable-pytest-warnings --cache-show=? --cache-clear "
    "--keep-duplicates --continue-on-collection-errors --assert= --no-cov "
    "--cov=? --cov-fail-under= --cov-branch --cov-append --cov-context= -n|--numprocesses= "
    "--dist= --maxprocesses= --timeout= --reruns= --reruns-delay= --asyncio-mode= "
    "-ra -rA -rf -rs -rx -rE --random-order --random-order-seed= " + _HELP
)

_JEST = (
    "--ci --coverage --collectCoverage --runInBand -i --verbose --silent --bail=? "
    "-t|--testNamePattern= --testPathPattern= --testPathPatterns= --testPathIgnorePatterns= "
    "-o|--onlyChanged --passWithNoTests --detectOpenHandles --forceExit --maxWorkers= -w= "
    "--json --outputFile=w -u|--updateSnapshot!file_write --clearCache --listTests "
    "--no-cache --cache --changedSince= --selectProjects= --shard= --logHeapUsage "
    "--testTimeout= --colors --no-colors --watch --watchAll --findRelatedTests "
    "-c|--config=r --rootDir=d --showConfig --noStackTrace --expand -e --lastCommit "
    "--onlyFailures -f --testLocationInResults --useStderr --randomize --seed= " + _HELP
)

_VITEST_OPTIONS = (
    "--run --watch=? --coverage=? --silent=? -t|--testNamePattern= --bail= "
    "-u|--update!file_write -c|--config=r --dir=d -r|--root=d --project= --environment= "
    "--passWithNoTests --pool= --changed=? --shard= --outputFile=w --reporter= "
    "--allowOnly --globals --dom --isolate --no-isolate --sequence.shuffle --retry= "
    "--maxWorkers= --minWorkers= --typecheck --no-color --color --hideSkippedTests "
    "--clearScreen --no-file-parallelism --testTimeout= --logHeapUsage " + _HELP
)

_CARGO_BUILD = (
    "--lib --bins --bin= --tests --test= --examples --example= --benches --bench= "
    "--all-targets --doc --no-run --no-fail-fast -p|--package= --workspace --all "
    "--exclude= -j|--jobs= -r|--release --profile= -F|--features= --all-features "
    "--no-default-features --target= --target-dir=w --manifest-path=r "
    "--message-format= -v|--verbose -vv -q|--quiet --color= --frozen --locked --offline "
    "--keep-going --timings=? --future-incompat-report --ignore-rust-version --unit-graph"
)

_RUSTFMT_OPTIONS = (
    "--check!~file_write --diff!~file_write --edition= --config-path=r --config= --emit= "
    "-l|--files-with-diff -q|--quiet -v|--verbose --color= " + _HELP
)
_LIBTEST = sub(
    "--include-ignored --ignored --force-run-in-process --exclude-should-panic --test --bench "
    "--list --logfile=w --nocapture --no-capture --test-threads= --skip= -q|--quiet --exact "
    "--color= --format= --show-output -Z= --report-time --ensure-time --shuffle "
    "--shuffle-seed= -h|--help",
    operands="v",
)
"""Rust's test harness, which `cargo test -- ARGS` runs with ARGS."""

# `cargo fmt -- --check`: the words after `--` are rustfmt's options.
_RUSTFMT = sub(_RUSTFMT_OPTIONS, operands="r", facts="file_write")

_NPM_COMMON = (
    "-w|--workspace= -ws|--workspaces --include-workspace-root --if-present -s|--silent "
    "--loglevel= -d --verbose -q|--quiet --json --parseable -p --color= --no-color "
    "--prefix=d -C|--dir=d --filter= -r|--recursive --stream --reporter= --no-bail "
    "--ignore-scripts --long -l"
)

# What `npm test -- ARGS` hands to the test script: the options of the JavaScript test
# runners, with their facts (`-u` updates snapshots: a write, as `jest -u` is).
_SCRIPT_ARGS = sub(_JEST + " " + _VITEST_OPTIONS, operands="v")

_NPM_SUBS: dict[str, Node] = {
    **alias(sub("", operands="v", max_operands=0, passes_to=_SCRIPT_ARGS), "test", "t", "tst"),
    "run": sub("", operands="v", max_operands=1, passes_to=_SCRIPT_ARGS),
    "run-script": sub("", operands="v", max_operands=1, passes_to=_SCRIPT_ARGS),
    **alias(
        sub(
            "--depth= -a|--all --all-recursive --prod|--production --dev -D -P --omit= "
            "--include= --link -g|--global --only= --long --depth-limit= --no-optional",
            operands="v",
        ),
        "ls",
        "list",
        "la",
        "ll",
    ),
    **alias(sub("", operands="v"), "why", "explain"),
    **alias(sub("", operands="-"), "version", "-v"),
}
for _word in [
    "install",
    "i",
    "ci",
    "add",
    "uninstall",
    "remove",
    "rm",
    "un",
    "r",
    "unlink",
    "update",
    "up",
    "upgrade",
    "link",
    "ln",
    "publish",
    "unpublish",
    "dedupe",
    "prune",
    "rebuild",
    "exec",
    "x",
    "dlx",
    "init",
    "create",
    "import",
    "global",
]:
    _NPM_SUBS[_word] = sub("", operands="a", facts="package_install network", any_options=True)
del _word

_PIP_GLOBAL = (
    "-v|--verbose -q|--quiet --isolated --no-color --disable-pip-version-check --no-input "
    "--require-virtualenv --no-python-version-warning --progress-bar= --no-cache-dir " + _HELP
)
_PIP_SUBS: dict[str, Node] = {
    "list": sub(
        "-u|--uptodate -e|--editable -l|--local --user --path=l --format= "
        "--not-required --exclude-editable --include-editable --exclude=",
        operands="-",
    ),
    "show": sub("-f|--files", operands="v"),
    "freeze": sub("-l|--local --user --all --exclude-editable --path=l --exclude=", operands="-"),
    "check": sub("", operands="-"),
    "help": sub("", operands="v"),
}
for _word in ["install", "uninstall", "download", "wheel"]:
    _PIP_SUBS[_word] = sub("", operands="a", facts="package_install network", any_options=True)
del _word

_MAKE = (
    "-C|--directory=d -j|--jobs=? -k|--keep-going -S|--no-keep-going "
    "-s|--silent|--quiet -w|--print-directory --no-print-directory -O|--output-sync=? "
    "-l|--load-average=? -B|--always-make -i|--ignore-errors -r|--no-builtin-rules "
    "-R|--no-builtin-variables --warn-undefined-variables --trace -d --debug=? " + "--help "
    "-v|--version"
)

_LINT_PY = {
    "mypy": (
        "--strict --ignore-missing-imports --config-file=r --show-error-codes "
        "--hide-error-codes --pretty --no-pretty -p|--package= -m|--module= -c|--command= "
        "--python-version= --platform= --no-incremental --incremental --cache-dir=w "
        "--sqlite-cache --follow-imports= --namespace-packages --explicit-package-bases "
        "--exclude= --show-column-numbers --show-error-context --show-absolute-path "
        "--no-error-summary --error-summary --show-traceback --tb --junit-xml=w "
        "--warn-* --no-warn-* --disallow-* --allow-* --no-implicit-optional --implicit-optional "
        "--check-untyped-defs --no-check-untyped-defs --strict-optional --no-strict-optional "
        "--strict-equality --extra-checks --enable-error-code= --disable-error-code= "
        "--no-site-packages --no-silence-site-packages --soft-error-limit= "
        "--install-types!package_install -v|--verbose " + _HELP
    ),
    "pyflakes": _HELP,
}

_FORMATTERS_CHECK = "--check!~file_write --diff!~file_write"

SPECS: dict[str, Node] = {
    # -- test runners ---------------------------------------------------------------------
    # pytest reads options after `--` too (`pytest -- --junitxml=F` writes F), and more
    # options from an `@FILE` operand.
    **program("pytest py.test", _PYTEST, operands="a", dashdash=False, response_files=True),
    **program(
        "unittest",
        "-v|--verbose -q|--quiet -f|--failfast -c|--catch -b|--buffer -k= --locals "
        "--durations= -h|--help",
        operands="v",
        subs={
            "discover": sub(
                "-s|--start-directory=l -p|--pattern= -t|--top-level-directory=l -v|--verbose",
                operands="l",
            )
        },
    ),
    **program("jest", _JEST, operands="v"),
    **program(
        "vitest",
        _VITEST_OPTIONS,
        operands="v",
        subs={**alias(sub("", operands="v"), "run", "related", "list", "bench", "watch", "dev")},
    ),
    **program(
        "mocha",
        "--reporter= -R= -g|--grep= -f|--fgrep= -t|--timeout= --recursive --exit --no-exit "
        "-b|--bail -w|--watch --spec= --parallel -j|--jobs= -u|--ui= --file=r --extension= "
        "--ignore|--exclude= --forbid-only --forbid-pending -s|--slow= --color --no-color "
        "-c|--colors --config=r --dry-run --check-leaks --full-trace --inline-diffs "
        "--sort -S --retries= --list-reporters --list-interfaces " + _HELP,
        operands="r",
    ),
    **program(
        "ava",
        "-v|--verbose -m|--match= --fail-fast -s|--serial --tap -t -T|--timeout= "
        "-u|--update-snapshots!file_write -w|--watch -c|--concurrency= --config=r --color "
        "--no-color --reset-cache " + _HELP,
        operands="r",
    ),
    **program(
        "rspec",
        "-f|--format= -t|--tag= -e|--example= --fail-fast=? --only-failures --next-failure "
        "-n --order= --seed= -P|--pattern= --exclude-pattern= -b|--backtrace --color "
        "--no-color --force-color --no-force-color -p|--profile=? --dry-run -o|--out=w "
        "--default-path=l -w|--warnings --bisect=? " + _HELP,
        operands="r",
    ),
    **program(
        "phpunit",
        "--filter= --testsuite= --group= --exclude-group= --stop-on-failure --stop-on-error "
        "--stop-on-defect --testdox --colors=? --coverage-text=? --coverage-html=w "
        "-c|--configuration=r --no-coverage --log-junit=w --list-tests --list-suites "
        "--list-groups --debug -v|--verbose --fail-on-warning --fail-on-risky --order-by= "
        "--cache-result --do-not-cache-result --no-configuration " + _HELP,
        operands="r",
    ),
    **program(
        "ctest",
        "--output-on-failure -V|--verbose -VV|--extra-verbose -j|--parallel=? "
        "-R|--tests-regex= -E|--exclude-regex= -L|--label-regex= -LE|--label-exclude= "
        "-N|--show-only=? --test-dir=d --timeout= --rerun-failed --stop-on-failure "
        "-C|--build-config= --preset= -Q|--quiet --progress --schedule-random --repeat= "
        "--no-tests= --output-log=w -O=w -I= --tests-information= " + _HELP,
        operands="-",
    ),
    # -- package managers and runners -----------------------------------------------------
    **program("npm", _NPM_COMMON + " " + _HELP + " -v", operands="-", subs=_NPM_SUBS),
    **program("pnpm", _NPM_COMMON + " " + _HELP + " -v", operands="-", subs=_NPM_SUBS),
    **program(
        "yarn",
        _NPM_COMMON + " " + _HELP + " -v",
        operands="v",
        # `yarn version` bumps the package's version (npm's and pnpm's only print).
        subs={w: n for w, n in _NPM_SUBS.items() if w not in {"version", "-v"}},
    ),
    **program(
        "bun",
        "--silent --cwd=d --bail=? --watch --hot --timeout= --coverage --only --todo "
        "-t|--test-name-pattern= --rerun-each= --update-snapshots!file_write " + _HELP,
        operands="-",
        subs={
            "test": sub("", operands="r"),
            **alias(sub("", operands="v"), "run"),
            "pm": sub("", operands="-", subs={"ls": sub("--all", operands="-")}),
        },
    ),
    **program("pip pip3", _PIP_GLOBAL, operands="-", subs=_PIP_SUBS),
    **program(
        "uv",
        "-q|--quiet -v|--verbose --no-cache --offline --color= --no-progress --directory=d "
        "--project=d --native-tls --frozen --locked " + _HELP,
        operands="-",
        subs={
            "pip": sub("", operands="-", subs=_PIP_SUBS),
            "tree": sub(
                "--depth= -d --prune= --package= --no-dedupe --invert --outdated "
                "--universal --all-groups --no-dev --only-dev --group=",
                operands="-",
            ),
            "version": sub("--short --output-format=", operands="-"),
            **{
                w: sub("", operands="a", facts="package_install network", any_options=True)
                for w in ("add", "remove", "sync", "lock", "tool")
            },
        },
    ),
    **program(
        "poetry",
        "-q|--quiet -v|-vv|-vvv|--verbose --no-interaction -n --no-ansi --ansi "
        "-C|--directory=d -P|--project=d " + _HELP,
        operands="-",
        subs={
            "show": sub(
                "--tree --only= --with= --without= --top-level -T --why --no-dev --all",
                operands="v",
            ),
            "check": sub("--lock --strict", operands="-"),
            "env": sub(
                "", operands="-", subs={"info": sub("-p|--path -e|--executable", operands="-")}
            ),
            "version": sub("-s|--short", operands="-"),
            **{
                w: sub("", operands="a", facts="package_install network", any_options=True)
                for w in ("add", "remove", "install", "update", "lock", "publish", "self")
            },
        },
    ),
    **program(
        "pdm",
        "-v|--verbose -q|--quiet " + _HELP,
        operands="-",
        subs={
            **alias(
                sub(
                    "--tree --graph --freeze --json --fields= --sort= --include= --exclude=",
                    operands="v",
                ),
                "list",
                "show",
            ),
            "info": sub("--python --where --packages --env --json", operands="-"),
        },
    ),
    **program(
        "cargo",
        "-v|--verbose -vv -q|--quiet --color= --frozen --locked --offline " + _HELP,
        operands="-",
        subs={
            **alias(sub(_CARGO_BUILD, operands="v"), "build", "b", "check", "c", "doc", "d"),
            # `cargo test -- ARGS` hands ARGS to the test binary (libtest): vetted as its
            # options (`--logfile PATH` writes PATH).
            **alias(sub(_CARGO_BUILD, operands="v", passes_to=_LIBTEST), "test", "t", "bench"),
            "clippy": sub(
                _CARGO_BUILD + " --fix!file_write --allow-dirty --allow-staged --no-deps",
                operands="v",
            ),
            "fmt": sub(
                "--all --check!~file_write -p|--package= --manifest-path=r "
                "--message-format= -v|--verbose -q|--quiet",
                operands="v",
                facts="file_write",
                passes_to=_RUSTFMT,
            ),
            "tree": sub(
                "-e|--edges= -i|--invert= --depth= --prefix= --no-dedupe "
                "-d|--duplicates --charset= -f|--format= -p|--package= --workspace "
                "--manifest-path=r --features= --all-features --no-default-features "
                "--target= -q|--quiet",
                operands="-",
            ),
            "metadata": sub(
                "--format-version= --no-deps --manifest-path=r --features= "
                "--all-features --no-default-features --filter-platform= -q",
                operands="-",
            ),
            "version": sub("-v|--verbose", operands="-"),
            **{
                w: sub("", operands="a", facts="package_install network", any_options=True)
                for w in ("install", "uninstall", "add", "remove", "rm", "publish")
            },
        },
    ),
    **program(
        "go",
        _HELP,
        operands="-",
        subs={
            "test": sub(
                "-v -run= -count= -race -cover -coverprofile=w -short -timeout= -bench= "
                "-benchmem -benchtime= -failfast -p= -parallel= -tags= -json -cpu= -list= "
                "-skip= -vet= -covermode= -coverpkg= -mod= -shuffle= -trimpath -C=d -x -n "
                "-a -buildvcs= -fullpath -o=w -exec=x -toolexec=x -ldflags= -gcflags= "
                "-asmflags= -modfile=r -overlay=r -work",
                operands="v",
                words=True,
            ),
            "vet": sub("-json -tags= -c= -C=d -mod= -x -n -vettool=x", operands="v", words=True),
            "build": sub(
                "-o=w -v -race -tags= -trimpath -C=d -mod= -ldflags= -gcflags= -x -n "
                "-a -p= -buildvcs= -toolexec=x -modfile=r -overlay=r -work",
                operands="v",
                words=True,
            ),
            "list": sub(
                "-f= -json=? -m -u -versions -deps -test -e -find -export -compiled "
                "-tags= -mod= -C=d",
                operands="v",
                words=True,
            ),
            "version": sub("-m -v -json", operands="r", words=True),
            "env": sub("-json -changed", operands="v", words=True),
            "doc": sub("-all -c -cmd -short -src -u", operands="v", words=True),
            "fmt": sub("-n -x -mod=", operands="v", facts="file_write", words=True),
            "mod": sub(
                "",
                operands="-",
                subs={
                    "graph": sub("-go= -x", operands="-", words=True),
                    "why": sub("-m -vendor", operands="v", words=True),
                },
            ),
            **{
                w: sub("", operands="a", facts="package_install network", any_options=True)
                for w in ("install", "get")
            },
        },
    ),
    **program(
        "gem",
        _HELP,
        operands="-",
        subs={
            "list": sub(
                "-l|--local -d|--details --versions --no-versions -a|--all -e|--exact "
                "-i|--installed",
                operands="v",
            )
        },
    ),
    **program(
        "brew",
        "--version -v --help",
        operands="-",
        subs={
            **alias(
                sub(
                    "--versions --formula|--formulae --cask|--casks -1 -l --full-name "
                    "--pinned --multiple -t -r",
                    operands="v",
                ),
                "list",
                "ls",
            )
        },
    ),
    **program(
        "conda mamba",
        "--version -V --help -h",
        operands="-",
        subs={
            "list": sub(
                "-n|--name= -p|--prefix=l --explicit --export --json -f|--full-name "
                "--revisions --md5 -c|--canonical",
                operands="v",
            ),
            "info": sub("-e|--envs --json -a|--all -s|--system --base", operands="-"),
            "env": sub("", operands="-", subs={"list": sub("--json", operands="-")}),
        },
    ),
    **program("make gmake", _MAKE, operands="v", one_target=True),
    **program(
        "just",
        "-f|--justfile=r -d|--working-directory=d -n|--dry-run -q|--quiet -v|--verbose "
        "-l|--list --summary --show= -s --evaluate --dump --color= --unsorted " + _HELP,
        operands="v",
        one_target=True,
    ),
    # -- the toolchains' test commands ------------------------------------------------
    **program(
        "deno",
        _HELP,
        operands="-",
        subs={
            # `-A` is `--allow-all`: the tests get the network, subprocesses and writes that
            # plain `deno test` denies them.
            "test": sub(
                "-A|--allow-all!unvetted --allow-read=? --allow-env=? --parallel --filter= "
                "--fail-fast=? --coverage=? --doc --no-check --watch -q|--quiet --reload "
                "--trace-leaks "
                "--shuffle=? --reporter= --junit-path=w --permit-no-files --config=r -c=r",
                operands="r",
            ),
            **alias(sub("--check --config=r -c=r -q", operands="r"), "check", "lint"),
            "fmt": sub("--check!~file_write -q --config=r -c=r", operands="r", facts="file_write"),
        },
    ),
    **program(
        "swift",
        _HELP,
        operands="-",
        subs={
            "test": sub(
                "--parallel --filter= --skip= -c|--configuration= --package-path=d "
                "-v|--verbose --enable-code-coverage --skip-build --list-tests",
                operands="-",
            ),
            "build": sub(
                "-c|--configuration= --package-path=d -v|--verbose --product= --target=",
                operands="-",
            ),
        },
    ),
    **program(
        "dotnet",
        _HELP + " --info --list-sdks --list-runtimes",
        operands="-",
        subs={
            **alias(
                sub(
                    "-c|--configuration= -f|--framework= --no-build --no-restore "
                    "-v|--verbosity= --filter= --logger= -l= --nologo",
                    operands="r",
                ),
                "test",
                "build",
            ),
        },
    ),
    **program(
        "mix",
        _HELP,
        operands="-",
        subs={
            "test": sub(
                "--cover --failed --stale --trace --seed= --only= --exclude= --include= "
                "--max-failures= --warnings-as-errors --color --no-color",
                operands="r",
            ),
            "compile": sub("--force --warnings-as-errors", operands="-"),
            "format": sub(
                "--check-formatted!~file_write --dry-run!~file_write",
                operands="r",
                facts="file_write",
            ),
        },
    ),
    **program(
        "mvn",
        "-q|--quiet -B|--batch-mode -e|--errors -X|--debug -o|--offline "
        "-pl|--projects= -am|--also-make -Dtest= -DskipTests -T|--threads= "
        "-f|--file=r -ntp|--no-transfer-progress " + _HELP,
        operands="v",
        operand_values=(
            "test",
            "verify",
            "compile",
            "package",
            "validate",
            "clean",
            "test-compile",
        ),
    ),
    **program(
        "gradle gradlew",
        "-q|--quiet -i|--info --offline --console= --no-daemon "
        "--stacktrace -s --scan!network --build-cache --parallel -x|--exclude-task= "
        "--tests= --continue -p|--project-dir=d " + _HELP,
        operands="v",
        operand_values=(
            "test",
            "check",
            "build",
            "compileJava",
            "assemble",
            "tasks",
            "dependencies",
        ),
    ),
    # -- containers -----------------------------------------------------------------------
    **program(
        "docker podman nerdctl",
        # Another daemon or configuration: read with their values, never vetted.
        "-D|--debug -l|--log-level= --version -v --help -h -c|--context=!unvetted "
        "-H|--host=!unvetted --config=!unvetted",
        operands="-",
        # Judged by code: privileged settings in every spelling, host mounts, prunes.
        detect="container_settings",
        other=sub("", operands="v", facts="container", any_options=True),
        subs={
            "ps": sub(
                "-a|--all -q|--quiet -n|--last= -l|--latest -s|--size -f|--filter= "
                "--format= --no-trunc",
                operands="-",
            ),
            "images": sub(
                "-a|--all -q|--quiet --digests -f|--filter= --format= --no-trunc --tree",
                operands="v",
            ),
            "version": sub("-f|--format=", operands="-"),
            # `docker compose`: the project's own compose file says what runs, so
            # starting services is container work a person approves (or relaxes
            # with a rule of their own); listing and reading logs only read.
            "compose": sub(
                "-f|--file=r -p|--project-name= --project-directory=d --profile= "
                "--env-file=r --ansi= --progress= --parallel= --compatibility --dry-run",
                operands="-",
                subs={
                    "up": sub(
                        "-d|--detach --build --no-build --force-recreate --no-recreate "
                        "--always-recreate-deps --remove-orphans --wait --wait-timeout= "
                        "-t|--timeout= --scale= --no-deps --pull= --quiet-pull "
                        "-V|--renew-anon-volumes --abort-on-container-exit "
                        "--exit-code-from= --attach= --no-attach= --attach-dependencies "
                        "--no-color --no-log-prefix --no-start -y|--yes -w|--watch "
                        "--timestamps --menu",
                        operands="v",
                        facts="container",
                    ),
                    "start": sub("--wait --wait-timeout=", operands="v", facts="container"),
                    "stop": sub("-t|--timeout=", operands="v", facts="container"),
                    "restart": sub("-t|--timeout= --no-deps", operands="v", facts="container"),
                    "build": sub(
                        "--no-cache --pull -q|--quiet --build-arg= --progress= --with-dependencies",
                        operands="v",
                        facts="container",
                    ),
                    "ps": sub(
                        "-a|--all -q|--quiet --services --filter= --format= --status= "
                        "--no-trunc --orphans",
                        operands="v",
                    ),
                    "ls": sub("-a|--all -q|--quiet --filter= --format=", operands="-"),
                    "logs": sub(
                        "-f|--follow -t|--timestamps --tail= -n= --since= --until= "
                        "--no-color --no-log-prefix --index=",
                        operands="v",
                    ),
                    "images": sub("-q|--quiet --format=", operands="v"),
                    "config": sub(
                        "-q|--quiet --services --volumes --profiles --images --hash= "
                        "--format= --no-interpolate --no-normalize --resolve-image-digests",
                        operands="-",
                    ),
                    "version": sub("-f|--format= --short", operands="-"),
                },
            ),
            "container": sub(
                "",
                operands="-",
                subs={
                    "ls": sub(
                        "-a|--all -q|--quiet -n|--last= -l|--latest -s|--size -f|--filter= "
                        "--format= --no-trunc",
                        operands="-",
                    )
                },
            ),
            "image": sub(
                "",
                operands="-",
                subs={
                    "ls": sub(
                        "-a|--all -q|--quiet --digests -f|--filter= --format= --no-trunc",
                        operands="v",
                    )
                },
            ),
        },
    ),
    # -- linters, formatters, type checkers -----------------------------------------------
    **{
        name: node
        for name, options in _LINT_PY.items()
        # mypy reads more options from an `@FILE` operand (argparse's prefix).
        for name, node in program(
            name, options, operands="r", response_files=name == "mypy"
        ).items()
    },
    **program(
        "ruff",
        "-q|--quiet -v|--verbose -s|--silent --config=r --isolated " + _HELP,
        operands="-",
        subs={
            "check": sub(
                "--fix!file_write --unsafe-fixes!file_write --no-fix --fix-only!file_write "
                "--diff --watch -w --select= --extend-select= --ignore= --extend-ignore= "
                "--per-file-ignores= --exclude= --extend-exclude= --line-length= "
                "--target-version= --output-format= --statistics --show-fixes --no-show-fixes "
                "--show-files --show-settings -e|--exit-zero --exit-non-zero-on-fix "
                "-n|--no-cache --cache-dir=w --preview --no-preview --force-exclude "
                "--no-force-exclude --respect-gitignore --no-respect-gitignore "
                "--stdin-filename= -o|--output-file=w --fixable= --unfixable= "
                "--extend-fixable= --dummy-variable-rgx= --add-noqa!file_write",
                operands="r",
            ),
            "format": sub(
                "--check!~file_write --diff!~file_write -n|--no-cache --cache-dir=w "
                "--exclude= --extend-exclude= --line-length= --target-version= --preview "
                "--no-preview --force-exclude --respect-gitignore --stdin-filename= "
                "--range=",
                operands="r",
                facts="file_write",
            ),
            "version": sub("--output-format=", operands="-"),
            "rule": sub("--all --output-format=", operands="v"),
            "linter": sub("--output-format=", operands="-"),
            "config": sub("--output-format=", operands="v"),
        },
    ),
    **program(
        "black",
        _FORMATTERS_CHECK
        + " -l|--line-length= -t|--target-version= -S|--skip-string-normalization "
        "-C|--skip-magic-trailing-comma --preview --unstable -q|--quiet -v|--verbose --color "
        "--no-color --fast --safe --exclude= --extend-exclude= --force-exclude= --include= "
        "--config=r -W|--workers= --required-version= --pyi --ipynb --python-cell-magics= "
        "-x|--skip-source-first-line --line-ranges= " + _HELP,
        operands="r",
        facts="file_write",
    ),
    **program(
        "isort",
        "-c|--check-only|--check!~file_write --diff|--df!~file_write --profile= "
        "-l|--line-length|--line-width= --settings-path|--sp|--settings-file|--settings=r "
        "-q|--quiet -v|--verbose -s|--skip= --sg|--skip-glob= --filter-files --show-files "
        "--src=l --py= --only-modified --color " + _HELP,
        operands="r",
        facts="file_write",
    ),
    **program(
        "flake8",
        "--max-line-length= --max-doc-length= --select= --ignore= --extend-ignore= "
        "--extend-select= --exclude= --extend-exclude= --per-file-ignores= --count "
        "--statistics --show-source --max-complexity= --config=r --append-config=r --isolated "
        "-q|--quiet -v|--verbose --format= --output-file=w --tee --exit-zero -j|--jobs= "
        "--benchmark --filename= --hang-closing --color= " + _HELP,
        operands="r",
    ),
    **program(
        "pylint",
        "--rcfile=r -d|--disable= -e|--enable= -f|--output-format= -j|--jobs= "
        "-s|--score= -r|--reports= -E|--errors-only --exit-zero --recursive= --ignore= "
        "--ignore-patterns= --ignore-paths= --max-line-length= --fail-under= --fail-on= "
        "--output=w -v|--verbose --persistent= --py-version= --msg-template= "
        "--disable-all --enable-all-extensions " + _HELP,
        operands="r",
    ),
    **program(
        "pyright basedpyright",
        "--outputjson -p|--project=r --pythonversion= --pythonplatform= --level= --verbose "
        "--warnings --stats --lib --watch -w --verifytypes= --ignoreexternal "
        "--skipunannotated --threads=? --dependencies " + _HELP,
        operands="r",
    ),
    **program(
        "bandit",
        "-r|--recursive -a|--aggregate= -n|--number= -c|--configfile=r -p|--profile= "
        "-t|--tests= -s|--skip= -l -i -f|--format= -o|--output=w -v|--verbose -d|--debug "
        "-q|--quiet|--silent --ignore-nosec -x|--exclude= -b|--baseline=r --ini=r "
        "--exit-zero --severity-level= --confidence-level= " + _HELP,
        operands="r",
    ),
    **program(
        "pydocstyle",
        "--convention= --select= --ignore= --add-select= --add-ignore= --match= --match-dir= "
        "--config=r --count -e|--explain -s|--source -d|--debug -v|--verbose " + _HELP,
        operands="r",
    ),
    **program(
        "pycodestyle",
        "--max-line-length= --max-doc-length= --select= --ignore= --statistics --count "
        "--show-source --show-pep8 --first -q|--quiet -v|--verbose --exclude= --filename= "
        "--hang-closing --config=r --format= " + _HELP,
        operands="r",
    ),
    **program(
        "autopep8",
        "-i|--in-place!file_write -d|--diff -r|--recursive -a|--aggressive -j|--jobs= "
        "--max-line-length= --select= --ignore= --exclude= -v|--verbose --global-config=r "
        "--ignore-local-config -p|--pep8-passes= --list-fixes " + _HELP,
        operands="r",
    ),
    **program(
        "yapf",
        "-i|--in-place!file_write -d|--diff -r|--recursive --style= -p|--parallel "
        "-vv|--verbose -q|--quiet -e|--exclude= -m|--print-modified -l|--lines= "
        "--no-local-style " + _HELP,
        operands="r",
    ),
    **program(
        "coverage",
        _HELP,
        operands="-",
        subs={
            "run": sub(
                "--branch --source= --omit= --include= -p|--parallel-mode -a|--append "
                "--concurrency= --context= --data-file= --rcfile=r -m|--module -L|--pylib "
                "--timid --save-signal=",
                operands="v",
            ),
            "report": sub(
                "-m|--show-missing --skip-covered --no-skip-covered --fail-under= "
                "--precision= --format= --data-file=r --rcfile=r --omit= --include= "
                "-i|--ignore-errors --sort= --skip-empty --contexts= -q",
                operands="r",
            ),
            **alias(
                sub(
                    "-d|--directory=w -o=w --data-file=r --rcfile=r --omit= --include= "
                    "-i|--ignore-errors --skip-covered --skip-empty --title= -q "
                    "--fail-under= --precision= --show-contexts --pretty-print",
                    operands="r",
                    facts="file_write",
                ),
                "html",
                "xml",
                "json",
                "lcov",
            ),
            "combine": sub(
                "--append --keep -q --data-file= --rcfile=r", operands="r", facts="file_write"
            ),
            "erase": sub("--data-file= --rcfile=r", operands="-", facts="file_delete"),
            "debug": sub("--data-file=r --rcfile=r", operands="v"),
        },
    ),
    **program(
        "tox",
        "-e= -p|--parallel=? -r|--recreate --notest -q|--quiet -v|--verbose "
        "--skip-missing-interpreters=? -c|--conf=r --root=d --workdir=w -m|--labels= "
        "--develop --no-provision= --colored= --list-dependencies " + _HELP,
        operands="v",
        subs={
            **alias(
                sub("", operands="v"),
                "run",
                "r",
                "run-parallel",
                "p",
                "list",
                "l",
                "config",
                "c",
                "depends",
                "de",
            )
        },
    ),
    **program(
        "nox",
        "-s|-e|--session|--sessions= -k|--keywords= -t|--tags= -l|--list --json "
        "-R|--reuse-existing-virtualenvs -r|--reuse-venv= --no-reuse-existing-virtualenvs "
        "-p|--python= -f|--noxfile=r --envdir=w --no-install --no-error-on-missing-interpreters "
        "--error-on-external-run -x|--stop-on-first-error --non-interactive -v|--verbose "
        "--no-color --forcecolor " + _HELP,
        operands="v",
    ),
    **program("doctest", "-v -o= -f", operands="r"),
    **program(
        "eslint",
        "--fix!file_write --fix-dry-run --fix-type= -c|--config=r --no-eslintrc "
        "--no-config-lookup --ext= --cache --cache-location=w --cache-strategy= "
        "--max-warnings= --quiet -o|--output-file=w --ignore-path=r --ignore-pattern= "
        "--no-ignore --report-unused-disable-directives "
        "--report-unused-disable-directives-severity= "
        "--no-error-on-unmatched-pattern --debug --color --no-color --print-config=r "
        "--env= --global= --parser-options= --stdin --stdin-filename= --no-inline-config "
        "--exit-on-fatal-error --no-warn-ignored --pass-on-no-patterns --flag= "
        "--concurrency= --stats " + _HELP,
        operands="r",
    ),
    **program(
        "prettier",
        "-w|--write!file_write -c|--check -l|--list-different --config=r --no-config "
        "--no-editorconfig --log-level|--loglevel= --cache --cache-location=w --cache-strategy= "
        "--ignore-path=r -u|--ignore-unknown --no-error-on-unmatched-pattern "
        "--stdin-filepath= --parser= --print-width= --tab-width= --use-tabs --no-semi "
        "--single-quote --jsx-single-quote --quote-props= --trailing-comma= "
        "--no-bracket-spacing --bracket-same-line --arrow-parens= --prose-wrap= "
        "--end-of-line= --embedded-language-formatting= --single-attribute-per-line "
        "--experimental-ternaries --object-wrap= --insert-pragma!file_write --require-pragma "
        "--range-start= --range-end= --find-config-path=r --file-info=r --support-info "
        "--color --no-color --with-node-modules " + _HELP,
        operands="r",
    ),
    **program(
        "tsc",
        "--noEmit!~file_write --noemit!~file_write -p|--project=r --pretty --strict "
        "--target= --module= --lib= --jsx= --skipLibCheck --listFiles --showConfig!~file_write "
        "--extendedDiagnostics --diagnostics --traceResolution --explainFiles "
        "--noErrorTruncation --allowJs --checkJs --esModuleInterop --resolveJsonModule "
        "--moduleResolution= --noUnusedLocals --noUnusedParameters --noImplicitAny "
        "--strictNullChecks --isolatedModules --incremental --outDir=w --declaration "
        "--emitDeclarationOnly --tsBuildInfoFile=w -w|--watch -b|--build " + _HELP + " -v",
        operands="r",
        facts="file_write",
    ),
    **program(
        "biome",
        _HELP,
        operands="-",
        subs={
            **alias(
                sub(
                    "--write!file_write --fix!file_write --apply!file_write "
                    "--apply-unsafe!file_write --unsafe --config-path=r --reporter= "
                    "--diagnostic-level= --max-diagnostics= --staged --changed --since= "
                    "--no-errors-on-unmatched --error-on-warnings --colors= --verbose "
                    "--skip= --only= --formatter-enabled= --linter-enabled= "
                    "--organize-imports-enabled= --vcs-use-ignore-file=",
                    operands="r",
                ),
                "check",
                "lint",
                "ci",
                "format",
            ),
            "version": sub("", operands="-"),
        },
    ),
    **program(
        "stylelint",
        "--fix!file_write -c|--config=r --config-basedir=d -f|--formatter= -q|--quiet "
        "--quiet-deprecation-warnings --max-warnings= --cache --cache-location=w "
        "-i|--ignore-path=r --ignore-pattern= --allow-empty-input --aei "
        "--report-needless-disables --rd --report-invalid-scope-disables --rid "
        "-o|--output-file=w --color --no-color --ignore-disables --id --print-config=r " + _HELP,
        operands="r",
    ),
    **program("tsx", "", operands="x", facts="run_script", any_options=True),
    **program("rustfmt", _RUSTFMT_OPTIONS, operands="r", facts="file_write"),
    **program("gofmt", "-l -d -e -s -r= -w!file_write", operands="r", words=True),
    **program(
        "goimports",
        "-l -d -e -w!file_write -local= -format-only -srcdir=d",
        operands="r",
        words=True,
    ),
    **program(
        "golangci-lint",
        "-v|--verbose -c|--config=r --no-config --color= " + _HELP,
        operands="-",
        subs={
            "run": sub(
                "--fix!file_write --timeout= --fast --fast-only -E|--enable= "
                "-D|--disable= --enable-all --disable-all --presets= -p= "
                "--out-format= --new --new-from-rev= --new-from-patch=r --tests "
                "--build-tags= --skip-dirs= --skip-files= --exclude= "
                "--concurrency= -j= --allow-parallel-runners --max-issues-per-linter= "
                "--max-same-issues= --issues-exit-code= --print-issued-lines "
                "--sort-results --path-prefix= --show-stats --modules-download-mode= "
                "--go= --whole-files --uniq-by-line",
                operands="r",
            ),
            "linters": sub("", operands="-"),
            "version": sub("--format= --debug", operands="-"),
            "config": sub(
                "",
                operands="-",
                subs={"path": sub("", operands="-"), "verify": sub("", operands="-")},
            ),
        },
    ),
    **program(
        "staticcheck",
        "-checks= -f= -fail= -tags= -tests= -go= -show-ignored -explain= -version -list-checks",
        operands="v",
        words=True,
    ),
    **program(
        "shellcheck",
        "-a|--check-sourced -C|--color=? -i|--include= -e|--exclude= --extended-analysis= "
        "-f|--format= --list-optional -o|--enable= -P|--source-path= -s|--shell= "
        "-S|--severity= -W|--wiki-link-count= -x|--external-sources --norc --rcfile=r "
        "-V|--version --help",
        operands="r",
    ),
    **program(
        "shfmt",
        "-w|--write!file_write -l|--list -d|--diff -s|--simplify -i|--indent= "
        "-ln|--language-dialect= -p|--posix -bn|--binary-next-line -ci|--case-indent "
        "-sr|--space-redirects -kp|--keep-padding -fn|--func-next-line -mn|--minify "
        "--apply-ignore -f|--find --filename= -tojson|--to-json --from-json -version "
        "--version --help -h",
        operands="r",
        words=True,
    ),
    **program(
        "hadolint",
        "-c|--config=r -f|--format= --ignore= --no-fail --no-color -t|--failure-threshold= "
        "--trusted-registry= --require-label= --strict-labels --verbose -V|--version --help",
        operands="r",
    ),
    **program(
        "yamllint",
        "-c|--config-file=r -d|--config-data= -f|--format= -s|--strict --no-warnings "
        "--list-files -v|--version -h|--help",
        operands="r",
    ),
    **program(
        "markdownlint markdownlint-cli2",
        "--fix!file_write -c|--config=r -i|--ignore= -p|--ignore-path=r -s|--stdin "
        "-o|--output=w -q|--quiet -j|--json --enable= --disable= -d|--dot " + _HELP,
        operands="r",
    ),
    **program(
        "clang-format",
        "-i!file_write --dry-run -n --Werror -style= -fallback-style= -assume-filename= "
        "-lines= -offset= -length= -sort-includes -output-replacements-xml -verbose "
        "-version --version -help --help -dump-config -files=r -ferror-limit= "
        "-qualifier-alignment=",
        operands="r",
        words=True,
    ),
    **program(
        "clang-tidy",
        "-checks= -p=r -fix!file_write -fix-errors!file_write -header-filter= "
        "-warnings-as-errors= -quiet -config= -config-file=r -list-checks -export-fixes=w "
        "-extra-arg= -extra-arg-before= -use-color -format-style= -system-headers "
        "-version --version -help --help",
        operands="r",
        words=True,
    ),
    **program(
        "cppcheck",
        "--enable= --std= --platform= --inconclusive -q|--quiet --error-exitcode= -I=r "
        "-i= --suppress= --suppressions-list=r --template= --xml --output-file=w -j= --force "
        "--language= --check-config --project=r --inline-suppr -D= -U= --max-configs= "
        "--file-list=r --cppcheck-build-dir=w -v|--verbose " + _HELP,
        operands="r",
    ),
    **program(
        "rubocop",
        "-a|--autocorrect!file_write -A|--autocorrect-all!file_write -x|--fix-layout!file_write "
        "-f|--format= -o|--out=w -c|--config=r --only= --except= -D|--display-cop-names "
        "-E|--extra-details -S|--display-style-guide -l|--lint -P|--parallel "
        "--no-parallel --fail-level= --force-exclusion -L|--list-target-files --cache= "
        "--no-color --color -s|--stdin= --debug " + _HELP,
        operands="r",
    ),
    **program("standardrb", "--fix!file_write -f|--format= --no-fix " + _HELP, operands="r"),
    **program(
        "ktlint",
        "-F|--format!file_write --reporter= --relative --color --verbose --editorconfig=r "
        "--baseline=r --limit= " + _HELP,
        operands="r",
    ),
    **program(
        "swiftlint",
        "--fix!file_write --autocorrect!file_write --strict --quiet --config=r --reporter= "
        "--path=l --no-cache --cache-path=w --enable-all-rules --lenient --force-exclude "
        "--progress --output=w " + _HELP,
        operands="r",
        subs={
            "lint": sub(
                "--strict --quiet --config=r --reporter= --path=l --no-cache "
                "--cache-path=w --enable-all-rules --lenient --force-exclude "
                "--progress --output=w",
                operands="r",
            ),
            "version": sub("", operands="-"),
            "rules": sub("", operands="v"),
        },
    ),
    **program(
        "swiftformat",
        "--lint!~file_write --dryrun!~file_write --config=r --swiftversion= --rules= "
        "--disable= --enable= --exclude= --quiet --verbose --lenient --reporter= --report=w "
        + _HELP,
        operands="r",
        facts="file_write",
    ),
    **program(
        "taplo",
        _HELP,
        operands="-",
        subs={
            **alias(
                sub(
                    "--schema= --default-schema-catalogs -c|--config=r --no-schema "
                    "--no-auto-config",
                    operands="r",
                ),
                "check",
                "lint",
            ),
            **alias(
                sub(
                    "--check!~file_write --diff!~file_write -c|--config=r "
                    "--no-auto-config -o|--option=",
                    operands="r",
                    facts="file_write",
                ),
                "fmt",
                "format",
            ),
        },
    ),
    **program(
        "actionlint",
        "-color -oneline -format= -ignore= -no-color -verbose -debug -config-file=r "
        "-version -stdin-filename=",
        operands="r",
        words=True,
    ),
    **program(
        "pre-commit",
        _HELP,
        operands="-",
        subs={
            "run": sub(
                "-a|--all-files --files= --from-ref|-s|--source= --to-ref|-o|--origin= "
                "--show-diff-on-failure -v|--verbose --hook-stage= --color= -c|--config=r",
                operands="v",
            )
        },
    ),
    **program(
        "npx bunx pnpx",
        "-y|--yes --no --no-install --offline -q|--quiet " + _HELP,
        operands="-",
    ),
}

# `npx TOOL`: the tool's own spec, found where npx finds it (a project dependency).
for _runner in ("npx", "bunx", "pnpx"):
    SPECS[_runner].subs.update(
        {
            tool: SPECS[tool]
            for tool in (
                "jest",
                "vitest",
                "eslint",
                "prettier",
                "tsc",
                "biome",
                "mocha",
                "stylelint",
            )
        }
    )
del _runner

UPLOADS: dict[str, tuple[tuple[tuple[str, ...], frozenset[str]], ...]] = {
    program: tuple((tuple(words.split()), frozenset(options.split())) for words, options in subs)
    for program, subs in (
        (
            "gh",
            (
                ("gist create", "-f --filename"),
                ("gist edit", "-a --add"),
                ("release upload", ""),
                ("release create", ""),
                ("secret set", "-f --env-file"),
            ),
        ),
        ("glab", (("snippet create", "-f --filename"), ("release upload", ""))),
        ("aws", (("s3 cp", ""), ("s3 mv", ""), ("s3 sync", ""), ("s3api put-object", "--body"))),
        ("gsutil", (("cp", ""), ("mv", ""), ("rsync", ""))),
        ("gcloud", (("storage cp", ""), ("storage mv", ""), ("storage rsync", ""))),
        (
            "az",
            (
                ("storage blob upload", "-f --file"),
                ("storage blob upload-batch", "-s --source"),
                ("storage file upload", "--source"),
            ),
        ),
        ("kubectl", (("cp", ""),)),
        ("oc", (("cp", ""),)),
        ("docker", (("cp", ""), ("container cp", ""))),
        ("podman", (("cp", ""),)),
        ("rclone", (("copy", ""), ("copyto", ""), ("sync", ""), ("move", ""))),
        ("mc", (("cp", ""), ("mirror", ""))),
    )
}
"""Network programs' subcommands that send local files: their file operands are read paths,
so a credential file among them is a credential read (denied), whatever the handler named."""
