"""Programs whose version flag really prints a version (and does nothing else).

`X --version` is everyday and harmless only for a program that prints its
version for that flag: for another it may be an option of something else
(`bash -v` is verbose and runs stdin), and an unknown program may do
anything. With stdin redirected, a program may read a script from it.
"""

from __future__ import annotations

__all__ = ["VERSION_FLAGS", "VERSION_WORDS"]

_DASH_V = "-v --version"
_CAP_V = "-V --version"
_JAVA = "-version --version"

_TABLE = (
    ("python python3 pypy pypy3", "-V --version -VV"),
    ("node nodejs ruby php lua luajit", _DASH_V),
    ("perl", "-v --version -V"),
    ("java javac kotlin scala", _JAVA),
    ("rustc rustup cargo uv poetry pdm pipx ruff", _CAP_V),
    ("pip pip3 npm pnpm yarn bun deno", "--version -v -V"),
    (
        "gcc g++ cc c++ clang clang++ make gmake cmake ninja meson bazel git curl wget jq "
        "yq rg fd bash zsh fish vim nvim emacs nano tmux gh glab aws gcloud az terraform "
        "tofu helm kubectl docker podman psql mysql sqlite3 redis-cli mongosh dotnet swift "
        "mvn gradle ant sbt lein mix elixir erl ghc cabal stack zig nim crystal dart "
        "flutter go gofmt black isort mypy flake8 pylint pytest tox nox pre-commit eslint "
        "prettier tsc jest vitest mocha shellcheck hadolint yamllint openssl gpg rsync "
        "tar gzip zstd xz unzip zip 7z ffmpeg convert magick pandoc latex pdflatex env sed awk "
        "gawk grep find xargs sort timeout nice",
        "--version",
    ),
    ("ssh scp sftp tmux", "-V"),
    ("ruby php lua erl", "-v"),
    ("mvn gradle", "-v"),
    ("terraform tofu", "-v -version"),
    ("openssl", "version"),
    ("go", "version"),
    ("kubectl", "version"),
    ("helm", "version"),
    ("docker podman", "version -v"),
    ("gh", "version"),
)

VERSION_FLAGS: dict[str, frozenset[str]] = {}
"""Program -> the flags (or words) that print its version."""
for _programs, _flags in _TABLE:
    for _program in _programs.split():
        VERSION_FLAGS[_program] = VERSION_FLAGS.get(_program, frozenset()) | set(_flags.split())
del _programs, _flags, _program

VERSION_WORDS = frozenset({"--version", "-V", "-v", "-version", "version", "-VV"})
"""What a version query looks like (the presets' version-queries rule matches these)."""
