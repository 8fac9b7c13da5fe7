"""The spec of git: global options, and each subcommand's vetted options.

This is the one list of git's read-only subcommands: those listed with
`_read` are vetted option by option; every other subcommand changes the
repository. Subcommands that change it take any option (their facts ask
already); the options that make them hard denies or discards are listed in
every spelling (`--force`, `-f`, a unique prefix such as `--forc`), with the
options that take a value, so an option's value is never read as a branch,
a path or a setting. What depends on operands (`git push origin +main`,
`git branch new`, `git config core.pager x`, `git show HEAD:.env`) is read
by the detectors in `detect_git.py`.
"""

from __future__ import annotations

import re

from tether.core.safety.registry.lazy import LazyPattern
from tether.core.safety.registry.spec import Node, alias, program, sub

__all__ = ["COMMAND_KEYS", "SPECS", "runs_command"]

COMMAND_KEYS = LazyPattern(
    r"^(alias\..+|core\.(pager|editor|sshcommand|fsmonitor|askpass|hookspath|gitproxy|"
    r"alternaterefscommand)|"
    r"(diff|merge|filter|difftool|mergetool|trailer|man)\..+\.(command|textconv|driver|clean|"
    r"smudge|process|cmd|path)|diff\.external|interactive\.difffilter|"
    r"sequence\.editor|credential\..*helper|credential\.helper|gpg\..*(program|command)|pager\..+|"
    r"remote\..+\.(uploadpack|receivepack|vcs)|submodule\..+\.update|"
    r"include\.path|includeif\..+\.path|man\.viewer|help\.browser|instaweb\..+|"
    r"uploadpack\.packobjectshook|web\.browser|browser\..+\.(cmd|path)|sendemail\..*|"
    r"protocol\.(.+\.)?allow|init\.templatedir|core\.worktree|receive\.procreceiverefs)$",
    re.IGNORECASE,
)
"""Every git setting that git documents as running a command (or loading settings that do)."""

_HARMLESS_PAGER = LazyPattern(r"^(core\.pager|pager\..+)$", re.IGNORECASE)


def runs_command(key: str, value: str | None) -> bool:
    """Whether setting `key` (to `value`, None when only known at run time) runs a command."""
    if not COMMAND_KEYS.match(key.strip()):
        return False
    # `git -c core.pager=cat log`: a pager that only prints.
    return not (value is not None and _HARMLESS_PAGER.match(key) and value.strip() in {"cat", ""})


_GLOBAL = (
    "-C=d -c= --config-env= --no-pager -P -p|--paginate --git-dir=d --work-tree=d --bare "
    "--no-replace-objects --literal-pathspecs --glob-pathspecs --noglob-pathspecs "
    "--icase-pathspecs --no-optional-locks --namespace= --exec-path=? --no-advice "
    "--version -v --help -h --html-path --man-path --info-path"
)

_DIFF = (
    "-p|-u|--patch -s|--no-patch --raw --patch-with-raw --stat=? --numstat --shortstat "
    "--compact-summary --dirstat=? --cumulative --summary --name-only --name-status "
    "--patch-with-stat -z -U|--unified= --output-indicator-new= --output-indicator-old= "
    "--output-indicator-context= --indent-heuristic --no-indent-heuristic --minimal "
    "--patience --histogram --anchored= --diff-algorithm= --stat-width= --stat-name-width= "
    "--stat-count= --stat-graph-width= --submodule=? --color=? --no-color --color-moved=? "
    "--no-color-moved --color-moved-ws= --word-diff=? --word-diff-regex= --color-words=? "
    "--no-renames --rename-empty --no-rename-empty --check --ws-error-highlight= "
    "--full-index --binary --abbrev=? --no-abbrev -B|--break-rewrites=? -M|--find-renames=? "
    "-C|--find-copies=? --find-copies-harder -D|--irreversible-delete -l= --diff-filter= "
    "-S= -G= --find-object= --pickaxe-all --pickaxe-regex -O=r --skip-to= --rotate-to= "
    "-R --relative=? --no-relative -a|--text --ignore-cr-at-eol --ignore-space-at-eol "
    "-b|--ignore-space-change -w|--ignore-all-space --ignore-blank-lines "
    "-I|--ignore-matching-lines= --inter-hunk-context= -W|--function-context --exit-code "
    "--quiet --no-ext-diff --no-textconv --textconv --ignore-submodules=? --src-prefix= "
    "--dst-prefix= --no-prefix --default-prefix --line-prefix= --ita-invisible-in-index "
    "--ita-visible-in-index --cached --staged --merge-base --no-index -1 -2 -3 --base "
    "--ours --theirs -0 --dd -m -c --cc --diff-merges= --no-diff-merges --remerge-diff "
    "--combined-all-paths --ignore-cr-at-eol"
)

_LOG = (
    _DIFF + " --follow --no-decorate --decorate=? --decorate-refs= --decorate-refs-exclude= "
    "--source --mailmap --no-mailmap --use-mailmap --no-use-mailmap --full-diff --log-size "
    "-L= -n|--max-count= --skip= --since= --after= --since-as-filter= --until= --before= "
    "--author= --committer= --grep-reflog= --grep= --all-match --invert-grep "
    "-i|--regexp-ignore-case --basic-regexp -E|--extended-regexp -F|--fixed-strings "
    "-P|--perl-regexp --remove-empty --merges --no-merges --min-parents= --max-parents= "
    "--no-min-parents --no-max-parents --first-parent --exclude-first-parent-only --not "
    "--all --branches=? --tags=? --remotes=? --glob= --exclude= --exclude-hidden= "
    "--reflog --alternate-refs --single-worktree --ignore-missing --bisect --stdin "
    "--cherry-mark --cherry-pick --left-only --right-only --cherry -g|--walk-reflogs --merge "
    "--boundary --simplify-by-decoration --show-pulls --full-history --dense --sparse "
    "--simplify-merges --ancestry-path=? --date-order --author-date-order --topo-order "
    "--reverse --no-walk=? --do-walk --pretty=? --format= --abbrev-commit --no-abbrev-commit "
    "--oneline --encoding= --expand-tabs=? --no-expand-tabs --notes=? --no-notes "
    "--show-notes=? --show-signature --relative-date --date= --parents --children "
    "--left-right --graph --show-linear-break=? -t --count --objects --objects-edge "
    "--in-commit-order --no-object-names --timestamp --header --unpacked --show-origin"
)


def _read(options: str, operands: str = "a", **extra: object) -> Node:
    return sub(options, operands=operands, inherit=False, **extra)  # type: ignore[arg-type]


# Options that take a value, across the subcommands that change things: with them,
# `git commit -m main` names no branch and `git config -f x k v` sets `k`.
_CHANGE_VALUES = (
    "-m|--message= -F|--file=r --reuse-message= --reedit-message= --author= --date= "
    "--format= --pretty= -n|--max-count= --since= --until= --after= --before= --grep= "
    "--committer= -U|--unified= -b= -B= -X= -s= --strategy= --strategy-option= "
    "-o|--push-option= --onto= --exec= -x= --depth= --branch= --origin= --template= "
    "--reference= --separate-git-dir= -j|--jobs= --shallow-since= --shallow-exclude= "
    "--filter= --config= --upload-pack=x --receive-pack=x --exclude= --sort= --points-at= "
    "--contains= --no-contains= --merged= --no-merged= --set-upstream-to= -u= --abbrev= "
    "--encoding= -O= --color-moved= --word-diff= --word-diff-regex= -G= -S= "
    "--diff-filter= -L= --skip= --cleanup= --trailer= --squash= --fixup= -C= -c="
)


def _changes(options: str = "", facts: str = "git_mutation", **extra: object) -> Node:
    return sub(
        _CHANGE_VALUES + " " + options,
        operands="a",
        facts=facts,
        any_options=True,
        inherit=False,
        **extra,  # type: ignore[arg-type]
    )


_LOG_NODE = _read(_LOG, numeric=True)
_DIFF_NODE = _read(_DIFF + " --no-index")

_SUBS: dict[str, Node] = {
    "status": _read(
        "-s|--short -b|--branch --show-stash --porcelain=? --long -v|--verbose "
        "-u|--untracked-files=? --ignore-submodules=? --ignored=? -z --column=? --no-column "
        "--ahead-behind --no-ahead-behind --renames --no-renames --find-renames=?"
    ),
    "log": _LOG_NODE,
    "whatchanged": _LOG_NODE,
    "rev-list": _LOG_NODE,
    "shortlog": _read(_LOG + " -s|--summary -e|--email -w=? --group= --committer", numeric=True),
    "show": _read(_LOG, numeric=True),
    "diff": _DIFF_NODE,
    "diff-tree": _read(_DIFF + " -r -t --root --merge-base --stdin --no-commit-id --always"),
    "diff-files": _read(_DIFF + " -q"),
    "diff-index": _read(_DIFF),
    "range-diff": _read(
        _DIFF + " --creation-factor= --no-dual-color --left-only --right-only --notes=?"
    ),
    "blame": _read(
        "-b --root --show-stats --progress --no-progress -L= -l -t -S=r --reverse= "
        "--first-parent -p|--porcelain --line-porcelain --incremental --encoding= "
        "--contents=r --date= --color-lines --color-by-age -M=? -C=? --ignore-rev= "
        "--ignore-revs-file=r -e|--show-email -f|--show-name -n|--show-number -s -w "
        "--abbrev=? -c --score-debug --since="
    ),
    "annotate": _read("-b --root -L= -l -t -S=r --reverse= -p|--porcelain -M=? -C=? -w"),
    "branch": _read(
        "-a|--all -r|--remotes -l|--list -v|-vv|--verbose -q|--quiet --show-current "
        "--contains=? --no-contains=? --merged=? --no-merged=? --sort= --format= "
        "--points-at= --color=? --no-color --column=? --no-column -i|--ignore-case "
        "--abbrev= --no-abbrev --omit-empty -d|-D|--delete!git_mutation -m|-M|--move!git_mutation "
        "-c|--copy!git_mutation -f|--force!git_mutation -u|--set-upstream-to=!git_mutation "
        "--unset-upstream!git_mutation --edit-description!git_mutation --track=?!git_mutation "
        "--no-track!git_mutation --create-reflog!git_mutation"
    ),
    "tag": _read(
        "-l|--list -n=? --sort= --contains=? --no-contains=? --merged=? --no-merged=? "
        "--points-at= --format= --color=? -i|--ignore-case --column=? --no-column "
        "-v|--verify --omit-empty -d|--delete!git_mutation -a|--annotate!git_mutation "
        "-s|--sign!git_mutation -f|--force!git_mutation -m|--message=!git_mutation "
        "-F|--file=r!git_mutation -u|--local-user=!git_mutation"
    ),
    "remote": sub(
        "-v|--verbose",
        operands="-",
        inherit=False,
        # `remote show NAME` asks the remote (ssh or https) unless `-n` keeps it local.
        subs={
            "show": _read("-n!~network", facts="network"),
            "get-url": _read("--push --all"),
        },
    ),
    "stash": sub(
        "",
        operands="-",
        inherit=False,
        subs={"list": _LOG_NODE, "show": _read(_DIFF + " -u|--include-untracked --only-untracked")},
    ),
    # `--list` prints every setting, the tokens Tether denies one by one among them
    # (`http.<url>.extraheader`, credential helpers): a person looks first.
    "config": _read(
        "-l|--list!unvetted --get --get-all --get-regexp --get-urlmatch --get-color "
        "--get-colorbool --show-origin --show-scope --name-only --global --system --local "
        "--worktree "
        "-f|--file=r --blob= -z|--null --type= --bool --int --bool-or-int --path "
        "--expiry-date --default= --includes --no-includes --fixed-value",
        subs={
            "get": _read(
                "--all --regexp --value= --fixed-value --url= --show-origin "
                "--show-scope --name-only --type= --default= -z|--null --global "
                "--system --local --worktree -f|--file=r --includes --no-includes"
            ),
            # `list` prints every setting unless `--name-only`: its other options are
            # marked so, and `git config list` alone is the detector's (`_config`).
            "list": _read(
                "--name-only --show-origin!unvetted --show-scope!unvetted -z|--null!unvetted "
                "--global!unvetted --system!unvetted --local!unvetted --worktree!unvetted "
                "-f|--file=r!unvetted --includes!unvetted --no-includes!unvetted"
            ),
        },
    ),
    "reflog": sub(
        "",
        operands="a",
        inherit=False,
        subs={
            "show": _LOG_NODE,
            "exists": _read(""),
            **alias(_changes(facts="git_discard git_mutation"), "expire", "delete"),
        },
    ),
    "worktree": sub(
        "",
        operands="-",
        inherit=False,
        subs={"list": _read("--porcelain -v|--verbose -z --expire=")},
    ),
    "rev-parse": _read(
        "--show-toplevel --abbrev-ref=? --short=? --verify -q|--quiet --git-dir --git-common-dir "
        "--absolute-git-dir --is-inside-work-tree --is-inside-git-dir --is-bare-repository "
        "--is-shallow-repository --show-prefix --show-cdup --show-superproject-working-tree "
        "--symbolic --symbolic-full-name --all --branches=? --tags=? --remotes=? --glob= "
        "--exclude= --sq --sq-quote --not --default= --local-env-vars --path-format= "
        "--git-path= --resolve-git-dir= --since= --after= --until= --before= --revs-only "
        "--no-revs --flags --no-flags --show-object-format=? --show-ref-format --disambiguate= "
        "--shared-index-path --parseopt --stop-at-non-option --keep-dashdash --stuck-long"
    ),
    "ls-files": _read(
        "-c|--cached -d|--deleted -m|--modified -o|--others -i|--ignored -s|--stage "
        "-u|--unmerged -k|--killed -z -t -v -f --full-name --recurse-submodules --abbrev=? "
        "-x|--exclude= -X|--exclude-from=r --exclude-per-directory= --exclude-standard "
        "--error-unmatch --with-tree= --eol --deduplicate --sparse --format= --directory "
        "--no-empty-directory --debug --resolve-undo"
    ),
    "ls-tree": _read(
        "-d -r -t -l|--long -z --name-only|--name-status --object-only --full-name "
        "--full-tree --abbrev=? --format="
    ),
    "cat-file": _read(
        "-t -s -e -p --textconv --filters --batch=? --batch-check=? --batch-command=? "
        "--batch-all-objects --buffer --follow-symlinks --unordered --allow-unknown-type "
        "--path= -Z --use-mailmap --no-use-mailmap"
    ),
    "show-ref": _read(
        "--head --heads --branches --tags -d|--dereference -s|--hash=? --verify --abbrev=? "
        "-q|--quiet --exclude-existing=? --exists"
    ),
    "for-each-ref": _read(
        "--count= --sort= --format= -s|--shell -p|--perl --python --tcl --points-at= "
        "--merged=? --no-merged=? --contains=? --no-contains=? --ignore-case --omit-empty "
        "--exclude= --stdin --color=? --start-after="
    ),
    "grep": _read(
        "--cached --no-index --untracked --no-exclude-standard --exclude-standard "
        "--recurse-submodules -a|--text --textconv --no-textconv -i|--ignore-case -I "
        "--max-depth= -r|--recursive --no-recursive -w|--word-regexp -v|--invert-match -h -H "
        "--full-name -E|--extended-regexp -G|--basic-regexp -P|--perl-regexp "
        "-F|--fixed-strings -n|--line-number --column -l|--files-with-matches|--name-only "
        "-L|--files-without-match -z|--null -o|--only-matching -c|--count --color=? "
        "--no-color --break --heading -p|--show-function -A|--after-context= "
        "-B|--before-context= -C|--context= -W|--function-context -m|--max-count= "
        "--threads= -f=r -e= --and --or --not --all-match -q|--quiet",
        numeric=True,
    ),
    "describe": _read(
        "--all --tags --contains --abbrev= --candidates= --exact-match --debug --long "
        "--match= --exclude= --always --first-parent --dirty=? --broken=?"
    ),
    "name-rev": _read(
        "--tags --refs= --exclude= --all --annotate-stdin --stdin --name-only --no-undefined "
        "--always"
    ),
    "merge-base": _read("-a|--all --octopus --independent --is-ancestor --fork-point"),
    "count-objects": _read("-v|--verbose -H|--human-readable"),
    "check-ignore": _read("-q|--quiet -v|--verbose -n|--non-matching --stdin -z --no-index"),
    "check-attr": _read("-a|--all --cached --stdin -z --source="),
    "check-ref-format": _read(
        "--normalize --allow-onelevel --no-allow-onelevel --refspec-pattern --branch"
    ),
    "cherry": _read("-v --abbrev=?"),
    "show-branch": _read(
        "-a|--all -r|--remotes --list --more= --merge-base --independent --no-name "
        "--sha1-name --topo-order --date-order --current --color=? --no-color --sparse"
    ),
    "var": _read("-l"),
    "version": _read("--build-options"),
    "help": _read(
        "-a|--all -g|--guides -c|--config --user-interfaces --developer-interfaces "
        "-i|--info -m|--man --verbose --no-verbose --no-external-commands "
        "--no-aliases",
        operands="v",
    ),
    "get-tar-commit-id": _read(""),
    # -- changes: any option, facts ask; the hard-deny spellings are listed -------------
    "push": _changes(
        "-u|--set-upstream -f|--force!force_push --force-with-lease=?!force_push "
        "--force-if-includes!force_push "
        "--mirror!force_push -d|--delete!force_push --prune!force_push",
        facts="git_mutation network",
    ),
    **alias(
        _changes(facts="git_mutation network"),
        "pull",
        "fetch",
        "clone",
        "ls-remote",
        "send-email",
        "request-pull",
    ),
    "reset": _changes("--hard!git_discard --merge!git_discard --keep!git_discard"),
    "clean": _changes("-n|--dry-run!~git_discard", facts="git_discard git_mutation"),
    "rm": _changes(
        "--cached!~file_delete -n|--dry-run!~file_delete", facts="file_delete git_mutation"
    ),
    "checkout": _changes("-f|--force!git_discard -p|--patch!git_discard"),
    "archive": _changes("--remote=!network -o|--output=w --exec="),
    "format-patch": _changes("-o|--output-directory=w --output=w"),
    **alias(
        _changes(facts="secrets_read git_mutation"),
        "credential",
        "credential-store",
        "credential-cache",
    ),
}
for _word in [
    "add",
    "commit",
    "merge",
    "rebase",
    "switch",
    "restore",
    "mv",
    "cherry-pick",
    "revert",
    "am",
    "apply",
    "init",
    "submodule",
    "notes",
    "bisect",
    "gc",
    "prune",
    "repack",
    "mergetool",
    "difftool",
    "update-index",
    "update-ref",
    "symbolic-ref",
    "replace",
    "filter-branch",
    "sparse-checkout",
    "maintenance",
    "lfs",
    "hash-object",
    "write-tree",
    "commit-tree",
    "read-tree",
    "mktree",
    "citool",
    "gui",
    "instaweb",
    "daemon",
    "http-backend",
    "fast-import",
    "fast-export",
    "bundle",
]:
    _SUBS[_word] = _changes()
del _word

SPECS: dict[str, Node] = {
    **program(
        "git",
        _GLOBAL,
        operands="-",
        subs=_SUBS,
        scan="git_call",  # git_settings, git_pathspecs, git_changes: in that order
    )
}
