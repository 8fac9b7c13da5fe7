"""Programs that read, write, delete or change the permissions of files."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tether.core.safety.facts import PathAccess, PathUse
from tether.core.safety.options import OptionSpec, ParsedArgs
from tether.core.safety.programs.base import (
    Findings,
    Handler,
    HandlerTable,
    broad_target,
    is_block_device,
    is_secret_name,
    names,
    parse,
    spec,
)
from tether.core.safety.registry.scripts import awk_features, jq_features, sed_script

__all__ = ["HANDLERS"]

HANDLERS = HandlerTable()

_QUIET_OUTPUTS = names("/dev/null /dev/stdout /dev/stderr -")


# -- deleting -----------------------------------------------------------------------------


@HANDLERS.on("rm")
def _rm(f: Findings) -> None:
    c = f.command
    parsed = parse(f, spec("", "--interactive --preserve-root"))
    f.operands(parsed, "delete")
    f.handled_paths = True
    targets = parsed.operands
    if not targets and not c.args_from_stdin:
        return
    if parsed.has("-r", "-R", "--recursive"):
        broad = c.args_from_stdin or parsed.has("--no-preserve-root")
        broad = broad or any(
            broad_target(text, i in c.dynamic_args, i in c.glob_args) for i, text in targets
        )
        f.fact("destructive_delete" if broad else "recursive_delete")
    else:
        f.fact("file_delete")


@HANDLERS.on("rmdir unlink")
def _rmdir(f: Findings) -> None:
    f.operands(parse(f, spec()), "delete")
    f.handled_paths = True
    f.fact("file_delete")


@HANDLERS.on("shred srm wipe")
def _shred(f: Findings) -> None:
    f.operands(parse(f, spec("nsx", "--iterations --size --random-source")), "delete")
    f.handled_paths = True
    f.fact("disk_destruction", f"{f.command.text} (overwrites data beyond recovery)")


_FIND_VALUES = names(
    "-name -iname -path -ipath -wholename -iwholename -regex -iregex -type -xtype -newer -anewer "
    "-cnewer -mtime -mmin -atime -amin -ctime -cmin -size -user -group -uid -gid -perm -links "
    "-inum -samefile -lname -ilname -maxdepth -mindepth -fstype -context -used -newermt -newerat "
    "-newerct -printf -fprint -fprint0 -fls -fprintf -regextype -files0-from"
)
_FIND_FILTERS = names(
    "-name -iname -path -ipath -wholename -iwholename -regex -iregex -type -xtype -newer -anewer "
    "-cnewer -mtime -mmin -atime -amin -ctime -cmin -size -user -group -uid -gid -perm -links "
    "-inum -samefile -lname -ilname -empty -newermt -newerat -newerct -readable -writable "
    "-executable -nouser -nogroup -used"
)
_FIND_EXEC = names("-exec -execdir -ok -okdir")
_DELETERS = names("rm rmdir unlink shred srm")
_FIND_NAMES = names("-name -iname -path -ipath -wholename -iwholename")


@HANDLERS.on("find gfind")
def _find(f: Findings) -> None:
    args = f.command.args
    index = 0
    while index < len(args) and not args[index].startswith(("-", "(", "!")):
        f.arg(index, "list")
        index += 1
    if index == 0:
        f.text_path(".", "list")
    filters = False
    deletes = False
    executes = False
    name_patterns: list[str] = []
    while index < len(args):
        arg = args[index]
        if arg in _FIND_NAMES and index + 1 < len(args):
            name_patterns.append(args[index + 1])
        if arg in _FIND_EXEC:
            executes = True
            end = index + 1
            while end < len(args) and args[end] not in {";", "+"}:
                end += 1
            if index + 1 < len(args) and args[index + 1].rsplit("/", 1)[-1] in _DELETERS:
                deletes = True
            index = end + 1
            continue
        if arg == "-delete":
            deletes = True
        elif arg in {"-fprint", "-fprint0", "-fls", "-fprintf"}:
            f.arg(index + 1, "write")
            f.fact("file_write")
        filters = filters or arg in _FIND_FILTERS
        index += 2 if arg in _FIND_VALUES else 1
    f.handled_paths = True
    if deletes:
        # Without a filter, find deletes the whole tree it walks.
        f.fact("recursive_delete" if filters else "destructive_delete")
    if executes:
        # `find . -name .env -exec cat {} ;` reads every file the filter picks.
        for pattern in name_patterns:
            f.paths.append(PathUse(path=pattern.lstrip("*/") or pattern, access="read", glob=True))


_FD_VALUES = names(
    "-e --extension -t --type -d --max-depth --min-depth --exact-depth -E --exclude -S --size "
    "--changed-within --changed-before --change-newer-than --change-older-than --newer --older "
    "-o --owner -j --threads --max-results --base-directory --path-separator --search-path "
    "-c --color --ignore-file --format --batch-size --max-buffer-time --and"
)
_FD_EXEC = names("-x --exec -X --exec-batch")
_FD_UNHIDE = names("-H --hidden -u --unrestricted -I --no-ignore -uu")


@HANDLERS.on("fd fdfind")
def _fd(f: Findings) -> None:
    """fd PATTERN PATH...; `-x CMD` / `-X CMD` run CMD on what it finds (like find -exec)."""
    args = f.command.args
    operands: list[int] = []
    commands: list[list[str]] = []
    filters = False
    unhidden = False
    index = 0
    while index < len(args):
        arg = args[index]
        name = arg.partition("=")[0]
        if arg in _FD_EXEC:
            end = index + 1
            while end < len(args) and args[end] != ";":
                end += 1
            commands.append(list(args[index + 1 : end]))
            index = end + 1
            continue
        if arg == "--":
            operands.extend(range(index + 1, len(args)))
            break
        if arg.startswith("-") and len(arg) > 1:
            unhidden = unhidden or arg in _FD_UNHIDE
            filters = filters or name in {"-e", "--extension", "-S", "--size", "--and"}
            if name in {"--search-path", "--base-directory"}:
                if "=" in arg:
                    f.text_path(arg.partition("=")[2], "list")
                else:
                    f.arg(index + 1, "list")
            index += 2 if arg in _FD_VALUES else 1
            continue
        operands.append(index)
        index += 1
    if operands:
        filters = True
    for position in operands[1:]:
        f.arg(position, "list")
    if len(operands) <= 1:
        f.text_path(".", "list")
    f.handled_paths = True
    for command in commands:
        program = command[0].rsplit("/", 1)[-1] if command else ""
        if program in _DELETERS:
            f.fact("recursive_delete" if filters else "destructive_delete")
        if unhidden:
            # `fd -H -x cat` also reads hidden files such as `.env`.
            f.fact("unresolved_path", f"{f.command.text} (runs a command on hidden files)")


# -- writing ------------------------------------------------------------------------------


def _copy_like(f: Findings, option_spec: OptionSpec, source_access: PathAccess) -> None:
    parsed = parse(f, option_spec)
    targets = parsed.values("-t", "--target-directory")
    operands = parsed.operands
    destinations: list[str] = []
    if targets:
        f.option_path(parsed, ("-t", "--target-directory"), "write")
        f.operands(parsed, source_access)
        destinations = targets
    elif operands:
        for index, _ in operands[:-1]:
            f.arg(index, source_access)
        f.arg(operands[-1][0], "write")
        destinations = [operands[-1][1]]
    f.handled_paths = True
    if any(is_block_device(d) for d in destinations):
        f.fact("disk_destruction")
    f.fact("file_write")


_CP = spec("tS", "--target-directory --suffix --backup --reflink --sparse --preserve")
_LN = spec("tS", "--target-directory --suffix --backup")
_INSTALL = spec("mogtS", "--mode --owner --group --target-directory --suffix")


@HANDLERS.on("cp gcp")
def _cp(f: Findings) -> None:
    _copy_like(f, _CP, "read")


@HANDLERS.on("mv gmv")
def _mv(f: Findings) -> None:
    _copy_like(f, _CP, "delete")


@HANDLERS.on("ln")
def _ln(f: Findings) -> None:
    _copy_like(f, _LN, "read")


@HANDLERS.on("install")
def _install(f: Findings) -> None:
    _copy_like(f, _INSTALL, "read")


@HANDLERS.on("touch mkdir mkfifo mknod")
def _touch(f: Findings) -> None:
    parsed = parse(f, spec("drtmM", "--date --reference --time --mode --context"))
    f.option_path(parsed, ("-r", "--reference"), "read")
    for index, text in parsed.operands:
        f.arg(index, "write")
        if is_block_device(text):
            f.fact("disk_destruction")
    f.handled_paths = True
    if parsed.operands:
        f.fact("file_write")


@HANDLERS.on("truncate")
def _truncate(f: Findings) -> None:
    f.operands(parse(f, spec("sr", "--size --reference")), "write")
    f.handled_paths = True
    f.fact("file_write")


@HANDLERS.on("tee sponge")
def _tee(f: Findings) -> None:
    for index, text in parse(f, spec("", "--output-error")).operands:
        if text in _QUIET_OUTPUTS:
            continue
        f.arg(index, "write")
        f.fact("disk_destruction" if is_block_device(text) else "file_write")
    f.handled_paths = True


@HANDLERS.on("dd dcfldd")
def _dd(f: Findings) -> None:
    for arg in f.command.args:
        key, _, value = arg.partition("=")
        if key == "if":
            f.text_path(value, "read")
        elif key == "of":
            f.text_path(value, "write")
            if is_block_device(value):
                f.fact("disk_destruction", f"{f.command.text} (writes a disk device)")
            elif value not in _QUIET_OUTPUTS:
                f.fact("file_write")
    f.handled_paths = True


_SED = spec("efl", "--expression --file --line-length", attached="i")


@HANDLERS.on("sed gsed")
def _sed(f: Findings) -> None:
    args = f.command.args
    parsed = parse(f, _SED)
    in_place = parsed.has("-i", "--in-place") or any(a.startswith("--in-place") for a in args)
    scripts = parsed.values("-e", "--expression")
    operands = parsed.operands
    if parsed.has("-i") and not any(o.value for o in parsed.options if o.name == "-i"):
        # BSD sed: `-i ''` takes the next word as the (empty) backup suffix.
        operands = [(i, t) for i, t in operands if not (t == "" and args[i - 1] == "-i")]
    if not scripts and not parsed.values("-f", "--file") and operands:
        scripts = [operands[0][1]]
        operands = operands[1:]
    f.option_path(parsed, ("-f", "--file"), "read")
    for index, _ in operands:
        f.arg(index, "write" if in_place else "read")
    f.handled_paths = True
    if in_place and operands:
        f.fact("file_write")
    for script in scripts:
        use = sed_script(script)
        for command in use.commands:
            f.fact("code_execution", f"{f.command.text} (the sed script runs a command)")
            if command:
                f.shell_strings.append(command)
        for target in use.writes:
            f.fact("file_write")
            if target not in {"/dev/stdout", "/dev/stderr", ""}:
                f.text_path(target, "write")
        for target in use.reads:
            f.text_path(target, "read")
        if use.unknown:
            f.fact("unvetted", f"{f.command.text} ({use.unknown[0]})")


_AWK = spec("fvFEiel", "--file --assign --field-separator --include --exec --load --source")
_AWK_LOAD = re.compile(r"@load\b")
_AWK_EXEC = re.compile(r"\bsystem\s*\(|\|\s*getline|\bprintf?\b[^;{}]*\|\s*\"|\|&")
_AWK_COMMAND = re.compile(
    r"(?:system\s*\(|\|\s*)\s*\"((?:[^\"\\]|\\.)*)\"|\"((?:[^\"\\]|\\.)*)\"\s*\|\s*getline"
)
_AWK_WRITE = re.compile(r"\bprintf?\b[^;{}]*>{1,2}\s*\"?[^\s;}\"=]")
# `getline < "file"` reads a file, `print > "file"` writes one: literal names are paths,
# any other expression is a file only known at run time.
_AWK_GETLINE = re.compile(
    r"\bgetline\b\s*(?:[A-Za-z_$][\w$\[\]]*\s*)?<\s*(?:\"((?:[^\"\\]|\\.)*)\"|(\S))"
)
_AWK_OUTPUT = re.compile(r"\bprintf?\b[^;{}|]*?>{1,2}\s*(?:\"((?:[^\"\\]|\\.)*)\"|(\S))")
_AWK_TO_SHELL = re.compile(r"\|&?\s*\"\s*(/bin/|/usr/bin/)?(sh|bash|zsh|dash|ksh)(\s+-s)?\s*\"")
_AWK_ENVIRON = re.compile(r"\bENVIRON\b(\s*\[\s*\"([^\"]*)\"\s*\])?")


@HANDLERS.on("awk gawk mawk nawk")
def _awk(f: Findings) -> None:
    parsed = parse(f, _AWK)
    programs = parsed.values("-e", "--source")
    operands = parsed.operands
    f.option_path(parsed, ("-f", "--file", "--exec", "-E"), "read")
    if not parsed.values("-f", "--file", "-E", "--exec", "-e", "--source") and operands:
        programs.append(operands[0][1])
        operands = operands[1:]
    for index, text in operands:
        if "=" not in text:
            f.arg(index, "read")
    f.handled_paths = True
    if "inplace" in parsed.values("-i", "--include"):
        f.fact("file_write")
    if parsed.has("-l", "--load") or any(_AWK_LOAD.search(p) for p in programs):
        f.fact("code_execution", f"{f.command.text} (gawk loads a compiled extension)")
    if any("/inet/" in value for value in parsed.values("-v", "--assign")) or any(
        "/inet/" in text and "=" in text for _, text in operands
    ):
        f.fact("reverse_shell", f"{f.command.text} (the awk program opens a network file)")
    for program in programs:
        if _AWK_EXEC.search(program):
            f.fact("code_execution", f"{f.command.text} (the awk program runs a command)")
            for match in _AWK_COMMAND.finditer(program):
                f.shell_strings.append(match.group(1) or match.group(2) or "")
        if _AWK_WRITE.search(program):
            f.fact("file_write")
        _awk_files(f, program)
        if _AWK_TO_SHELL.search(program):
            f.fact("pipe_to_shell", f"{f.command.text} (the awk program pipes text to a shell)")
        features = awk_features(program)
        if features & {"pipe", "system"}:
            f.fact("code_execution", f"{f.command.text} (the awk program runs a command)")
        if "network" in features:
            f.fact("reverse_shell", f"{f.command.text} (the awk program opens a network file)")
        if "directive" in features:
            f.fact("run_script", f"{f.command.text} (the awk program loads another file)")
        if "output" in features:
            f.fact("file_write", f"{f.command.text} (the awk program writes a file)")


def _awk_files(f: Findings, program: str) -> None:
    accesses: tuple[tuple[re.Pattern[str], PathAccess], ...] = (
        (_AWK_GETLINE, "read"),
        (_AWK_OUTPUT, "write"),
    )
    for pattern, access in accesses:
        for match in pattern.finditer(program):
            if match.group(1) is not None:
                f.text_path(match.group(1), access)
            else:
                f.fact("unresolved_path", f"{f.command.text} (a file named at run time)")
    for match in _AWK_ENVIRON.finditer(program):
        name = match.group(2)
        if name is None:
            f.fact("env_dump", f"{f.command.text} (the awk program reads ENVIRON)")
        elif is_secret_name(name):
            f.fact("secrets_read", f"{f.command.text} (reads ${name})")


@HANDLERS.on("sort")
def _sort(f: Findings) -> None:
    parsed = parse(
        f,
        spec(
            "koStT",
            "--key --output --buffer-size --field-separator --temporary-directory "
            "--files0-from --parallel --batch-size",
        ),
    )
    f.operands(parsed, "read")
    f.option_path(parsed, ("-o", "--output"), "write")
    f.option_path(parsed, ("--files0-from",), "read")
    f.handled_paths = True
    if parsed.values("-o", "--output"):
        f.fact("file_write")
    if parsed.values("--files0-from"):
        f.fact("unresolved_path", f"{f.command.text} (reads the files a list names)")


def _input_output(option_spec: OptionSpec) -> Handler:
    """Programs taking `[INPUT [OUTPUT]]` operands (uniq, xxd)."""

    def handler(f: Findings) -> None:
        operands = parse(f, option_spec).operands
        for position, (index, _) in enumerate(operands[:2]):
            f.arg(index, "read" if position == 0 else "write")
        f.handled_paths = True
        if len(operands) >= 2:
            f.fact("file_write")

    return handler


HANDLERS["uniq"] = _input_output(spec("fsw", "--skip-fields --skip-chars --check-chars"))
HANDLERS["xxd"] = _input_output(spec("cglsno", "-cols -groupsize -len -seek -name -offset"))


@HANDLERS.on("split csplit")
def _split(f: Findings) -> None:
    parsed = parse(f, spec("abCdlnt", "--suffix-length --bytes --line-bytes --lines --number"))
    f.operands(parsed, "read")
    f.handled_paths = True
    f.fact("file_write")


@HANDLERS.on("patch")
def _patch(f: Findings) -> None:
    parsed = parse(
        f,
        spec(
            "iodpBDFgrVYzx",
            "--input --output --directory --strip --prefix --reject-file --suffix",
        ),
    )
    f.option_path(parsed, ("-i", "--input"), "read")
    f.option_path(parsed, ("-o", "--output", "-r", "--reject-file"), "write")
    f.option_path(parsed, ("-d", "--directory"), "cd")
    f.operands(parsed, "write")
    f.handled_paths = True
    if not parsed.has("--dry-run"):
        f.fact("file_write")


_TAR = spec(
    "fCTXIbgHKLNV",
    "--file --directory --files-from --exclude-from --exclude --use-compress-program "
    "--to-command --format --blocking-factor --listed-incremental --newer --label --transform "
    "--xform --owner --group --mode --mtime",
)


@HANDLERS.on("tar gtar bsdtar")
def _tar(f: Findings) -> None:
    args = f.command.args
    letters = ""
    start = 0
    archives: list[str] = []
    if args and not args[0].startswith("-"):
        # Old style: `tar czf out.tgz dir`; `f` and `C` take the words that follow.
        letters = args[0]
        position = 1
        for letter in letters:
            if letter in "fCTXIbgHKLNV" and position < len(args):
                access: PathAccess = "cd" if letter == "C" else "arg"
                if letter == "f":
                    access = "write" if any(m in letters for m in "cru") else "read"
                    archives.append(args[position])
                f.arg(position, access)
                position += 1
        start = position
    parsed = parse(f, _TAR, start)
    letters += "".join(o.name[1:] for o in parsed.options if len(o.name) == 2)
    longs = {o.name for o in parsed.options}
    creates = any(m in letters for m in "cruA") or bool(
        longs & {"--create", "--append", "--update", "--delete", "--catenate", "--concatenate"}
    )
    extracts = "x" in letters or bool(longs & {"--extract", "--get"})
    f.option_path(parsed, ("-f", "--file"), "write" if creates else "read")
    f.option_path(parsed, ("-C", "--directory"), "write" if extracts else "cd")
    f.option_path(parsed, ("-T", "--files-from", "-X", "--exclude-from"), "read")
    f.operands(parsed, "read" if creates else "arg")
    f.handled_paths = True
    archives += [o.value for o in parsed.value_options("-f", "--file") if o.value]
    # `tar -cf - src`: a new archive written to stdout reads the tree and writes no file
    # (the tree itself is checked at the sandbox stage; a redirect is judged on its own).
    modifies = any(m in letters for m in "ruA") or bool(
        longs & {"--append", "--update", "--delete", "--catenate", "--concatenate"}
    )
    to_stdout = set(archives) <= {"-"} and not modifies
    if extracts or (creates and not to_stdout):
        f.fact("file_write")
    if _tar_runs_program(args, letters):
        f.fact("code_execution", f"{f.command.text} (tar runs another program)")
    for arg in args:
        name, equals, value = arg.partition("=")
        if equals and name in {"--index-file", "--volno-file"}:
            f.text_path(value, "write")
            f.fact("file_write")
    if "--force-local" not in args and any(":" in a.split("/")[0] for a in archives):
        f.fact("network", f"{f.command.text} (`HOST:FILE` opens a remote shell)")


_TAR_PROGRAM_OPTIONS = (
    "--use-compress-program",
    "--to-command",
    "--info-script",
    "--new-volume-script",
    "--rsh-command",
    "--rmt-command",
    "--checkpoint-action",
)


def _tar_runs_program(args: Sequence[str], letters: str) -> bool:
    """`-I PROG`, `-F SCRIPT`, `--to-command=...`: tar starts a program of the caller's choice."""
    if "I" in letters or "F" in letters:
        return True
    for arg in args:
        if arg.startswith(_TAR_PROGRAM_OPTIONS):
            return True
        if arg.startswith("-") and not arg.startswith("--") and ("I" in arg or "F" in arg):
            return True
    return False


@HANDLERS.on("unzip")
def _unzip(f: Findings) -> None:
    parsed = parse(f, spec("dxP"))
    f.operands(parsed, "read")
    f.option_path(parsed, ("-d",), "write")
    f.handled_paths = True
    if not parsed.has("-l", "-t", "-v", "-Z", "-p", "-c"):
        f.fact("file_write")


@HANDLERS.on("zip 7z 7za 7zz")
def _zip(f: Findings) -> None:
    operands = parse(f, spec("bintxP", "--temp-path --password --exclude --include")).operands
    if operands:
        f.arg(operands[0][0], "write")
        for index, _ in operands[1:]:
            f.arg(index, "read")
    f.handled_paths = True
    f.fact("file_write")


_COMPRESS_READ_ONLY = names("-c --stdout --to-stdout -t --test -l --list")


@HANDLERS.on("gzip gunzip bzip2 bunzip2 xz unxz zstd unzstd lz4 compress uncompress")
def _compressor(f: Findings) -> None:
    parsed = parse(f, spec("S", "--suffix"))
    f.operands(parsed, "write")
    f.handled_paths = True
    if parsed.operands and not any(o.name in _COMPRESS_READ_ONLY for o in parsed.options):
        f.fact("file_write")


@HANDLERS.on("vi vim nvim nano emacs ed ex micro pico")
def _editor(f: Findings) -> None:
    parsed = parse(f, spec("cSTuUiw", "--cmd --eval -eval"))
    operands = [(i, t) for i, t in parsed.operands if not t.startswith("+")]
    for index, _ in operands:
        f.arg(index, "write")
    f.handled_paths = True
    f.fact("file_write", f"{f.command.text} (opens an editor)")
    commands = [*parsed.values("-c", "--cmd"), *(t[1:] for _, t in parsed.operands if t[:1] == "+")]
    for command in commands:
        # `vim -c '!rm -rf /'`, `-c 'call system("...")'`: Ex commands that run a shell.
        for match in _EX_SHELL.finditer(command):
            f.fact("code_execution", f"{f.command.text} (the editor runs a command)")
            f.shell_strings.append(match.group(1) or match.group(2) or "")
    if parsed.values("--eval", "-eval"):
        f.fact("code_execution", f"{f.command.text} (the editor evaluates code)")


_EX_SHELL = re.compile(
    r"(?:^|[|:\s])(?:\d*,?\d*|%)?(?:r(?:ead)?\s*|w(?:rite)?\s*)?!\s*(.+)|"
    r"(?:system|systemlist|execute|jobstart|termopen|term_start)\s*\(\s*['\"](.*?)['\"]"
)


# -- permissions --------------------------------------------------------------------------

_SETUID = re.compile(r"^[ugoa]*[+=][rwxXt]*s|^[0-7]?[2-7][0-7]{3}$")


@HANDLERS.on("chmod")
def _chmod(f: Findings) -> None:
    parsed = parse(f, spec("", "--reference"))
    operands = parsed.operands
    if not parsed.values("--reference") and operands:
        mode = operands[0][1]
        if any(_SETUID.match(part) for part in mode.split(",")):
            f.fact("privilege_escalation", f"{f.command.text} (sets the setuid or setgid bit)")
        operands = operands[1:]
    _permission_targets(f, parsed, operands)


@HANDLERS.on("chattr")
def _chattr(f: Findings) -> None:
    """`chattr +i x`, `chattr -i x`: a `-` mode looks like an option, so modes are
    the operands that start with `+` or `=`, and every other operand is a target."""
    parsed = parse(f, spec("vp", "--version --project"))
    operands = [(i, t) for i, t in parsed.operands if not t.startswith(("+", "="))]
    _permission_targets(f, parsed, operands)


@HANDLERS.on("chown chgrp")
def _chown(f: Findings) -> None:
    parsed = parse(f, spec("", "--reference --from"))
    operands = parsed.operands
    if not parsed.values("--reference") and operands:
        operands = operands[1:]
    _permission_targets(f, parsed, operands)


@HANDLERS.on("setfacl")
def _setfacl(f: Findings) -> None:
    parsed = parse(f, spec("mMxX", "--modify --modify-file --remove --remove-file --set"))
    _permission_targets(f, parsed, parsed.operands)


def _permission_targets(
    f: Findings, parsed: ParsedArgs, operands: Sequence[tuple[int, str]]
) -> None:
    c = f.command
    for index, _ in operands:
        f.arg(index, "write")
    f.handled_paths = True
    broad = any(broad_target(t, i in c.dynamic_args, i in c.glob_args) for i, t in operands)
    recursive = parsed.has("-R", "--recursive")
    if broad and (recursive or any(t.rstrip("/") in {"", "/", "~"} for _, t in operands)):
        f.fact("destructive_permissions")
    elif operands:
        f.fact("permission_change")


# -- reading ------------------------------------------------------------------------------


def _reads(option_spec: OptionSpec, access: PathAccess = "read") -> Handler:
    def handler(f: Findings) -> None:
        f.operands(parse(f, option_spec), access)
        f.handled_paths = True

    return handler


for _programs, _spec in (
    ("cat more md5sum sha1sum sha256sum sha512sum cksum rev zcat", spec()),
    ("head tail", spec("nc", "--lines --bytes --pid --sleep-interval", numeric=True)),
    ("wc", spec("", "--files0-from")),
    ("nl", spec("bdfhilnsvw")),
    ("cut", spec("bcdf", "--bytes --characters --delimiter --fields --output-delimiter")),
    ("column", spec("csoNRHWEl", "--separator --output-separator --output-width")),
    ("strings", spec("nteT", "--bytes --radix --encoding --target")),
    ("od", spec("AjNtSw", "--address-radix --skip-bytes --read-bytes --format --width")),
    ("hexdump", spec("eEfns")),
    ("shasum", spec("a", "--algorithm")),
    ("b2sum", spec("l", "--length")),
    ("tac", spec("s", "--separator")),
    ("fold", spec("w", "--width")),
    ("fmt", spec("wgp", "--width --goal --prefix")),
    ("paste", spec("d", "--delimiters")),
    ("join", spec("aeotj12")),
    ("comm", spec("", "--output-delimiter")),
    ("expand unexpand", spec("t", "--tabs")),
    ("bat batcat", spec("lHmrp", "--language --highlight-line --line-range --style --theme")),
):
    for _program in _programs.split():
        HANDLERS[_program] = _reads(_spec)
for _programs, _spec in (
    ("ls gls", spec("ITw", "--ignore --hide --tabsize --width --block-size --format --sort")),
    ("du df", spec("dBtX", "--max-depth --block-size --threshold --exclude --exclude-from")),
    ("stat", spec("cf", "--format --printf")),
    ("realpath readlink", spec("", "--relative-to --relative-base")),
):
    for _program in _programs.split():
        HANDLERS[_program] = _reads(_spec, "list")
del _programs, _program, _spec


@HANDLERS.on("base64 base32 basenc")
def _base64(f: Findings) -> None:
    parsed = parse(f, spec("wio", "--wrap --input --output"))
    f.operands(parsed, "read")
    f.option_path(parsed, ("-i", "--input"), "read")
    f.option_path(parsed, ("-o", "--output"), "write")
    f.handled_paths = True
    if any(v not in _QUIET_OUTPUTS for v in parsed.values("-o", "--output")):
        f.fact("file_write")


@HANDLERS.on("diff cmp sdiff colordiff")
def _diff(f: Findings) -> None:
    parsed = parse(
        f,
        spec(
            "CUDFIxXSWLo",
            "--context --unified --label --exclude --exclude-from --from-file --to-file "
            "--output --starting-file --ifdef --line-format --width",
        ),
    )
    f.operands(parsed, "read")
    f.option_path(parsed, ("--from-file", "--to-file", "-X", "--exclude-from"), "read")
    f.option_path(parsed, ("-o", "--output"), "write")
    f.handled_paths = True
    if parsed.values("-o", "--output"):
        f.fact("file_write")


@HANDLERS.on("man")
def _man(f: Findings) -> None:
    """`man ls` looks up a page; `man -l FILE` or `man ./x` reads a file."""
    parsed = parse(f, spec("PMSmLCpEeRHKIr", "--pager --manpath --sections --config-file"))
    local = parsed.has("-l", "--local-file")
    for index, text in parsed.operands:
        if local or "/" in text:
            f.arg(index, "read")
    f.option_path(parsed, ("-M", "--manpath", "-C", "--config-file"), "read")
    f.handled_paths = True


def _files_from(access: PathAccess, option_spec: OptionSpec) -> Handler:
    """`wc --files0-from=F`: reads F, then every file F names (only known at run time)."""
    reads = _reads(option_spec, access)

    def handler(f: Findings) -> None:
        reads(f)
        parsed = parse(f, option_spec)
        f.option_path(parsed, ("--files0-from", "--files-from"), "read")
        if parsed.values("--files0-from", "--files-from"):
            f.fact("unresolved_path", f"{f.command.text} (reads the files a list names)")

    return handler


HANDLERS["wc"] = _files_from("read", spec("", "--files0-from"))


@HANDLERS.on("less more")
def _less(f: Findings) -> None:
    """`less x` reads x; `-o LOG` writes a copy, `-k F` reads key bindings, and a `+CMD`
    operand runs CMD at start (`+!id` runs a shell command, `+|` pipes to one)."""
    parsed = parse(
        f,
        spec(
            "xjyzhpoOkbt",
            "--tabs --jump-target --pattern --log-file --LOG-FILE --lesskey-file --tag",
        ),
    )
    for index, text in parsed.operands:
        if text.startswith("+"):
            if "!" in text or "|" in text:
                f.fact("code_execution", f"{f.command.text} (runs a shell command)")
            continue
        f.arg(index, "read")
    f.option_path(parsed, ("--lesskey-file", "-k"), "read")
    f.option_path(parsed, ("-o", "-O", "--log-file", "--LOG-FILE"), "write")
    if parsed.values("-o", "-O", "--log-file", "--LOG-FILE"):
        f.fact("file_write")
    f.handled_paths = True


@HANDLERS.on("file")
def _file(f: Findings) -> None:
    """`file x` looks at a file; `file -f LIST` prints each line of LIST (as a name) and
    `file -m MAGIC` parses MAGIC, so both read those files' contents."""
    option_spec = spec("fmFeP", "--files-from --magic-file --separator --exclude --parameter")
    parsed = parse(f, option_spec)
    f.operands(parsed, "list")
    f.option_path(parsed, ("-f", "--files-from", "-m", "--magic-file"), "read")
    f.handled_paths = True
    if parsed.values("-f", "--files-from"):
        f.fact("unresolved_path", f"{f.command.text} (looks at the files a list names)")


HANDLERS["du"] = _files_from(
    "list", spec("dBtX", "--max-depth --block-size --threshold --exclude --exclude-from")
)


@HANDLERS.on("tree")
def _tree(f: Findings) -> None:
    parsed = parse(f, spec("LIPo", "--filelimit --timefmt --sort --charset"))
    f.operands(parsed, "list")
    f.option_path(parsed, ("-o",), "write")
    if parsed.values("-o"):
        f.fact("file_write")
    f.handled_paths = True


@HANDLERS.on("grep egrep fgrep zgrep ggrep")
def _grep(f: Findings) -> None:
    parsed = parse(
        f,
        spec(
            "efmABCdDX",
            "--regexp --file --max-count --after-context --before-context --context --label "
            "--include --exclude --exclude-dir --exclude-from --directories --devices "
            "--binary-files --color --colour",
        ),
    )
    operands = parsed.operands
    if not parsed.values("-e", "--regexp", "-f", "--file") and operands:
        operands = operands[1:]  # the first operand is the pattern
    f.option_path(parsed, ("-f", "--file", "--exclude-from"), "read")
    for index, _ in operands:
        f.arg(index, "read")
    _search_filters(f, parsed.values("--include"))
    f.handled_paths = True


def _search_filters(f: Findings, patterns: list[str]) -> None:
    """`grep -r KEY --include=.env .` reads exactly the files its filter names."""
    for pattern in patterns:
        if not pattern.startswith("!"):
            f.paths.append(PathUse(path=pattern, access="read", glob=True))


_RG = spec(
    "efgtTmABCjMErd",
    "--regexp --file --glob --iglob --type --type-not --max-count --after-context "
    "--before-context --context --threads --max-columns --encoding --replace --max-depth "
    "--type-add --type-clear --sort --sortr --ignore-file --pre --pre-glob --path-separator "
    "--max-filesize --colors --color --context-separator --field-match-separator",
)


@HANDLERS.on("rg ripgrep")
def _rg(f: Findings) -> None:
    parsed = parse(f, _RG)
    operands = parsed.operands
    pattern_given = parsed.values("-e", "--regexp", "-f", "--file")
    if not pattern_given and operands and not parsed.has("--files", "--type-list"):
        operands = operands[1:]
    f.option_path(parsed, ("-f", "--file", "--ignore-file"), "read")
    for index, _ in operands:
        f.arg(index, "read")
    if parsed.values("--pre"):
        f.fact("code_execution", f"{f.command.text} (rg runs a preprocessor command)")
    _search_filters(f, parsed.values("-g", "--glob", "--iglob"))
    f.handled_paths = True


@HANDLERS.on("jq gojq jaq")
def _jq(f: Findings) -> None:
    args = f.command.args
    index = 0
    filter_seen = False
    while index < len(args):
        arg = args[index]
        if arg in {"--arg", "--argjson"}:
            index += 3
            continue
        if arg in {"--slurpfile", "--rawfile"}:
            f.arg(index + 2, "read")
            index += 3
            continue
        if arg in {"-f", "--from-file"}:
            f.arg(index + 1, "read")
            filter_seen = True
            index += 2
            continue
        if arg in {"--indent", "-L"}:
            index += 2
            continue
        if not arg.startswith("-"):
            if filter_seen:
                f.arg(index, "read")
            filter_seen = True
        index += 1
    f.handled_paths = True
    for program in (a for i, a in enumerate(args) if not a.startswith("-")):
        _jq_environment(f, program)
        if jq_features(program):
            f.fact("run_script", f"{f.command.text} (the filter loads a module)")


# `env`, `$ENV` (jq), `env(NAME)`, `strenv(NAME)` (yq): the environment, whole or by name.
_JQ_ENV = re.compile(
    r"(?<![\w.$])(?:str)?env\s*\(\s*\"?([A-Za-z_]\w*)|"
    r"(?<![\w.$])(?:\$ENV|env)\b(?:\s*\.\s*\"?([A-Za-z_]\w*)|\s*\[\s*\"([A-Za-z_]\w*)\"\s*\])?"
)
_YQ_LOAD = re.compile(r"\bload(?:_str|_xml|_props|_base64)?\s*\(\s*\"([^\"]*)\"")


def _jq_environment(f: Findings, program: str) -> None:
    if "env" not in program.lower():
        return
    for match in _JQ_ENV.finditer(program):
        name = match.group(1) or match.group(2) or match.group(3)
        if name is None:
            f.fact("env_dump", f"{f.command.text} (the filter reads the environment)")
        elif is_secret_name(name):
            f.fact("secrets_read", f"{f.command.text} (reads ${name})")


@HANDLERS.on("yq")
def _yq(f: Findings) -> None:
    parsed = parse(f, spec("oIp", "--output-format --indent --input-format --expression"))
    operands = parsed.operands
    in_place = parsed.has("-i", "--inplace")
    expressions = [*parsed.values("--expression")]
    if operands and operands[0][1] in {"e", "eval", "ea", "eval-all"}:
        operands = operands[1:]
    if (
        operands
        and not expressions
        and not any(
            t.endswith((".yaml", ".yml", ".json", ".xml", ".toml", ".csv", ".tsv", ".properties"))
            and "(" not in t
            for _, t in operands[:1]
        )
    ):
        expressions.append(operands[0][1])
        operands = operands[1:]
    for index, _ in operands:
        f.arg(index, "write" if in_place else "read")
    f.handled_paths = True
    if in_place and operands:
        f.fact("file_write", f"{f.command.text} (edits files in place)")
    for expression in expressions:
        _jq_environment(f, expression)
        for match in _YQ_LOAD.finditer(expression):
            f.text_path(match.group(1), "read")


@HANDLERS.on("date gdate")
def _date(f: Findings) -> None:
    parsed = parse(f, spec("dfrI", "--date --file --reference --set"))
    f.option_path(parsed, ("-f", "--file", "-r", "--reference"), "read")
    # `date 010100002020` (MMDDhhmm[[CC]YY]) sets the clock as `-s` does; `+FORMAT` prints.
    sets = any(not t.startswith("+") for _, t in parsed.operands) and "-j" not in f.command.args
    if parsed.has("-s", "--set") or sets:
        f.fact("system_admin", f"{f.command.text} (sets the clock)")
    f.handled_paths = True
