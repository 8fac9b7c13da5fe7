"""The expansion stage: what one simple command really runs.

The walk hands over the words of a simple command; this stage peels its
wrappers (`sudo`, `env`, `timeout`, `xargs`, ...), finds the commands the
program runs itself (`bash -c CODE`, `eval`, `find -exec`, `git -c
core.pager=...`, `nix-shell --run`), and the code held in variables that
programs run (`GIT_PAGER=...`, `alias x=...`). It answers with data: the
`SimpleCommand` to record and the nested work (shell code to parse, argument
vectors to expand in turn), which the walk carries out in order. It adds no
facts: those are the analyzer's processors' job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from tether.core.safety.shell_model import SimpleCommand, WalkContext
from tether.core.safety.shell_words import Word
from tether.core.safety.wrappers import (
    EMBEDDING_PROGRAMS,
    EXEC_VARIABLES,
    NOT_WRAPPED,
    Code,
    Embedded,
    Unwrapped,
    embedded_commands,
    program_name,
    unwrap,
)

__all__ = [
    "Expansion",
    "NestedArgv",
    "NestedScript",
    "bare_command",
    "context_fields",
    "expand_assignments",
    "expand_command",
    "is_walked_shell_code",
    "plain_command",
]


@dataclass(frozen=True, slots=True)
class NestedScript:
    """Shell code a command runs, to be parsed and walked where `ctx` says."""

    text: str
    ctx: WalkContext


@dataclass(frozen=True, slots=True)
class NestedArgv:
    """The words of a command another command runs (`find -exec CMD ... ;`)."""

    words: tuple[Word, ...]
    ctx: WalkContext


@dataclass(slots=True)
class Expansion:
    """One simple command expanded: what to record, and the nested work, in order."""

    command: SimpleCommand
    nested: list[NestedScript | NestedArgv] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# Shells whose `-c` string tree-sitter-bash reads as the shell would (not fish or csh).
_WALKED_SHELLS = frozenset({"sh", "bash", "rbash", "dash", "ash", "zsh", "ksh", "mksh"})
# Single-letter shell options that change nothing about what the -c string runs:
# errexit, nounset, xtrace, verbose, noglob, login shell (reads the user's profile,
# as every terminal does), and `-c` itself. Not `-i` (interactive rc files), `-s`
# (stdin), `-k` (assignments anywhere: changes how the string parses), `+B`.
_HARMLESS_SHELL_LETTERS = frozenset("ceuxvfl")
_HARMLESS_SET_OPTIONS = frozenset(
    {"errexit", "nounset", "pipefail", "xtrace", "verbose", "noglob", "noclobber", "posix"}
)
_HARMLESS_SHOPT = frozenset(
    {"extglob", "nullglob", "globstar", "dotglob", "failglob", "nocaseglob", "inherit_errexit"}
)
_HARMLESS_LONG = frozenset({"--login", "--norc", "--noprofile", "--posix", "--noediting"})
# `{}`, `{/}`, `{.}`, `{1}`: placeholders xargs, find, fd and parallel replace with file
# names inside the string: a file name becomes code.
_PLACEHOLDER = re.compile(r"\{[^{}\s]{0,4}\}")


def is_walked_shell_code(program: str, args: Sequence[str], code: str) -> bool:
    """Whether `program ARGS` is a shell running `code` with -c and nothing else.

    Such a shell is a wrapper of its code: the code's commands are judged on
    their own, and the shell adds nothing to them. Any option outside the
    harmless set (rc files, stdin, interactive mode, parsing changes) keeps
    the shell judged as running inline code.
    """
    if program not in _WALKED_SHELLS or _PLACEHOLDER.search(code):
        return False
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            return True
        if arg.startswith("--"):
            if arg not in _HARMLESS_LONG:
                return False
        elif arg[:1] in {"-", "+"} and len(arg) > 1:
            letters = arg[1:]
            if letters in {"o", "O"}:
                allowed = _HARMLESS_SET_OPTIONS if letters == "o" else _HARMLESS_SHOPT
                if index + 1 >= len(args) or args[index + 1] not in allowed:
                    return False
                index += 1
            elif arg[0] == "+" or not set(letters) <= _HARMLESS_SHELL_LETTERS:
                return False
        else:
            return True  # the -c string: what follows are its positional parameters
        index += 1
    return True


def expand_command(
    words: Sequence[Word],
    ctx: WalkContext,
    assignments: tuple[tuple[str, str], ...],
    assignment_words: Sequence[Word],
) -> Expansion:
    """The command `words` run in `ctx`, with what its wrappers and embedded code run.

    One pass builds the command once. Most commands have no wrapper, no embedded
    code and no environment to read: for them every step below past the record
    is skipped by a test of what is empty, never by guessing from the words.
    """
    texts = [w.text for w in words]
    first = program_name(texts[0]) if texts[0] else ""
    peeled = unwrap(texts, first)
    if peeled is NOT_WRAPPED and not assignments and not assignment_words:
        plain = _plain(words, texts, first, ctx)
        if plain is not None:
            return plain
    return _expanded(words, texts, first, peeled, ctx, assignments, assignment_words)


def bare_command(
    texts: list[str], ctx: WalkContext, fields: tuple[object, ...] | None = None
) -> SimpleCommand | None:
    """`expand_command(...).command` of words that are only their texts (`Word(text)`,
    as `plain_command` takes), when the expansion is that command alone; None when it
    holds nested work or a problem (the walk's own work).

    `plain_command` when it answers, else the full pass, with the program's name and
    its wrappers found once for both (`expand_command` would find them again).
    """
    first = program_name(texts[0]) if texts[0] else ""
    peeled = unwrap(texts, first)
    if peeled is NOT_WRAPPED:
        command = _plain_record(texts, first, context_fields(ctx) if fields is None else fields)
        if command is not None:
            return command
    # (`_plain` of these words is `_plain_record`'s answer: none of them is flagged.)
    words = [_new(Word, (text, *_BARE_WORD)) for text in texts]
    expansion = _expanded(words, texts, first, peeled, ctx, (), ())
    return None if expansion.problems or expansion.nested else expansion.command


_new = tuple.__new__
_BARE_WORD = Word("")[1:]
"""The fields of a word after its text, for a word that is only its text (`Word(text)`,
built as the tuple it is: the named tuple's constructor is a Python call per word)."""


def _expanded(
    words: Sequence[Word],
    texts: list[str],
    first: str,
    peeled: Unwrapped,
    ctx: WalkContext,
    assignments: tuple[tuple[str, str], ...],
    assignment_words: Sequence[Word],
) -> Expansion:
    """`expand_command`'s full pass, past the plain record: `texts` are the texts of
    `words`, `first` the program name of the first, `peeled` its wrappers."""
    if peeled.args_from_stdin and ctx.stdin_text is not None and ctx.stdin != "none":
        # `echo /etc/passwd | xargs cat`: what xargs reads is known, so are the arguments.
        words = [*words, *(Word(text) for text in ctx.stdin_text.split()[:64])]
        texts = [w.text for w in words]
    index = peeled.program if peeled.program is not None else 0
    program_word = words[index]
    args = words[index + 1 :]
    arg_texts = texts[index + 1 :]
    all_assignments = assignments
    if peeled.assignments:
        all_assignments += tuple(
            (name, value)
            for name, value in (
                texts[i].split("=", 1) for i in peeled.assignments if "=" in texts[i]
            )
        )
    program = first
    if index != 0:  # a wrapper was peeled: the program is a later word
        program = program_name(program_word.text) if program_word.text else ""
    # A dynamic program is analysed by its best guess too (`$0 -c '...'` runs bash):
    # what that finds can deny; the dynamic mark already keeps it from being allowed.
    embedded = embedded_commands(program, arg_texts) if program in EMBEDDING_PROGRAMS else None

    nested: list[tuple[Code, Sequence[Word], str]] = []
    if peeled.scripts:
        nested.extend((code, words, program or "shell") for code in peeled.scripts)
    if embedded is not None and embedded.scripts:
        nested.extend((code, args, f"{program} code") for code in embedded.scripts)
    code_dynamic = program_word.dynamic
    for code, owner, _ in nested:
        if any(w.dynamic for w in owner[code.start : code.end]):
            code_dynamic = True

    sources: list[str] = []
    variables: list[str] = []
    for w in words:
        if w.sources:
            sources.extend(w.sources)
        if w.variables:
            variables.extend(w.variables)
    for w in assignment_words:
        if w.sources:
            sources.extend(w.sources)
        if w.variables:
            variables.extend(w.variables)
    if sources:
        sources = _substituted(words, index, nested, sources)

    flagged = [i for i, a in enumerate(args) if a.dynamic or a.glob or a.procsub]
    code_walked = (
        embedded is not None
        and len(embedded.scripts) == 1
        and not code_dynamic
        and not program_word.dynamic
        and not peeled.args_from_stdin
        and not ctx.run_by
        and is_walked_shell_code(program, arg_texts, embedded.scripts[0].text)
    )
    command = SimpleCommand(
        program=program,
        program_text=program_word.text,
        args=tuple(arg_texts),
        dynamic_program=program_word.dynamic,
        dynamic_args=tuple(i for i in flagged if args[i].dynamic) if flagged else (),
        glob_args=tuple(i for i in flagged if args[i].glob) if flagged else (),
        procsub_args=tuple(i for i in flagged if args[i].procsub) if flagged else (),
        dynamic_code=code_dynamic,
        code_walked=code_walked,
        substituted=tuple(dict.fromkeys(sources)) if sources else (),
        variables=tuple(dict.fromkeys(variables)) if variables else (),
        assignments=all_assignments,
        redirects=ctx.redirects,
        wrappers=peeled.wrappers,
        wrapper_paths=tuple((texts[i], access) for i, access in peeled.paths)
        if peeled.paths
        else (),
        wrapper_facts=peeled.facts,
        stdin=ctx.stdin,
        stdin_text=ctx.stdin_text,
        piped_from=ctx.piped_from,
        args_from_stdin=peeled.args_from_stdin,
        source=ctx.source,
        function=ctx.function,
        depth=ctx.depth,
        subshell=ctx.subshell,
        text=" ".join([program or "<unknown>", *arg_texts]),
    )
    expansion = Expansion(command)
    # Only xargs and parallel run commands in parallel, and both are peeled as wrappers.
    flood = _unbounded_parallelism(texts) if peeled.args_from_stdin else None
    if flood:
        expansion.problems.append(
            f"{flood} starts as many processes as it can: it may flood the machine"
        )
    runs_more = embedded is not None and (embedded.argvs or embedded.stdin_script)
    if all_assignments or nested or runs_more or program == "alias":
        _nested_work(expansion, ctx, words, args, peeled, embedded, nested, code_walked)
    return expansion


_FIELDS = len(SimpleCommand._fields)


def plain_command(
    texts: list[str], ctx: WalkContext, fields: tuple[object, ...] | None = None
) -> SimpleCommand | None:
    """`expand_command(...).command` of words that hold nothing to expand, or None.

    `texts` are the words' texts, of words neither dynamic nor a glob nor a process
    substitution, reading no variable and substituting nothing (bare and single-quoted
    words, `Word(text)`); the command has no assignment before it. None when the full
    pass has more to do (a wrapper, embedded code, `alias`): the caller runs it then.
    `fields` is `context_fields(ctx)` when the caller holds it (built once for a context
    many commands run in).
    """
    first = program_name(texts[0]) if texts[0] else ""
    if unwrap(texts, first) is not NOT_WRAPPED:
        return None
    return _plain_record(texts, first, context_fields(ctx) if fields is None else fields)


def context_fields(ctx: WalkContext) -> tuple[object, ...]:
    """The fields of a plain command's record run in `ctx` after its words (fourth to
    twenty-fourth): its context alone decides them (`_plain_record`)."""
    return (
        False,
        (),
        (),
        (),
        False,
        False,
        (),
        (),
        (),
        ctx.redirects,
        (),
        (),
        (),
        ctx.stdin,
        ctx.stdin_text,
        ctx.piped_from,
        False,
        ctx.source,
        ctx.function,
        ctx.depth,
        ctx.subshell,
    )


def _plain(
    words: Sequence[Word], texts: list[str], program: str, ctx: WalkContext
) -> Expansion | None:
    """The command of plain words (the common case), or None when the full pass is needed.

    Plain: no wrapper was peeled, no assignment precedes the command, no word is
    dynamic, a glob, a process substitution or reads a variable, the program
    runs no code of its own (its embedder finds nothing) and is not `alias`.
    With all that empty, every step of `expand_command` past the record adds
    nothing and every index list is empty, so the record below is the one the
    full pass builds, field for field (a test compares the two over the corpus).
    """
    for w in words:
        if w.dynamic or w.glob or w.procsub or w.sources or w.variables:
            return None
    command = _plain_record(texts, program, context_fields(ctx))
    return None if command is None else Expansion(command)


def _plain_record(
    texts: list[str], program: str, fields: tuple[object, ...]
) -> SimpleCommand | None:
    """`_plain`'s record of the plain words `texts` run where `fields`
    (`context_fields`) says, or None when the program runs code."""
    if program in EMBEDDING_PROGRAMS:
        found = embedded_commands(program, texts[1:])
        if found.scripts or found.argvs or found.stdin_script:
            return None
    elif program == "alias":
        return None
    args = texts[1:]
    # Built as the tuple it is: the named tuple's keyword constructor is a Python
    # call that costs some fifteen times as much for its twenty-five fields.
    command: SimpleCommand = tuple.__new__(
        SimpleCommand,
        (
            program,
            texts[0],
            tuple(args),
            *fields,
            # (The words themselves when the program is its word as written: no new list.)
            " ".join(texts)
            if program and program == texts[0]
            else " ".join([program or "<unknown>", *args]),
        ),
    )
    return command


assert _FIELDS == 25, "_plain builds every field of SimpleCommand in order"
assert len(context_fields(WalkContext())) == _FIELDS - 4, "the fields between words and text"


def _substituted(
    words: Sequence[Word],
    index: int,
    nested: Sequence[tuple[Code, Sequence[Word], str]],
    sources: list[str],
) -> list[str]:
    """The programs substituted into the command, those that make its code first.

    What makes the program word or the code it runs (`$(curl ...)` as the
    program, inside a `bash -c` string) leads, then every word's in order.
    """
    code_sources: list[str] = list(words[index].sources)
    for code, owner, _ in nested:
        span = owner[code.start : code.end]
        if any(w.dynamic for w in span):
            for w in span:
                code_sources.extend(w.sources)
    for w in words[: index + 1]:
        code_sources.extend(w.sources)
    return code_sources + sources


def _nested_work(
    expansion: Expansion,
    ctx: WalkContext,
    words: Sequence[Word],
    args: Sequence[Word],
    peeled: Unwrapped,
    embedded: Embedded | None,
    nested: Sequence[tuple[Code, Sequence[Word], str]],
    code_walked: bool,
) -> None:
    """The code and commands the command runs itself, in the order the walk takes them."""
    command = expansion.command
    program = command.program
    child = ctx._replace(depth=ctx.depth + 1, extra_args=(), subshell=True, run_by="")
    work = expansion.nested
    for name, value, dynamic in _exec_assignments(command.assignments, words, peeled.assignments):
        if not dynamic:
            work.append(
                NestedScript(value, child._replace(source=f"${name}", stdin="none", redirects=()))
            )
    if program == "alias":
        for word in args:
            name, equals, value = word.text.partition("=")
            if equals and value and not word.dynamic:
                work.append(
                    NestedScript(value, child._replace(source=f"alias {name}", stdin="none"))
                )
    for code, owner, label in nested:
        span = owner[code.start : code.end]
        if any(w.dynamic for w in span):
            continue
        if code_walked:
            # The -c string's commands read the shell's stdin (`curl x | bash -c 'sh'`).
            inner = child._replace(source=label, redirects=())
        else:
            inner = child._replace(source=label, stdin="none", redirects=())
        work.append(NestedScript(code.text, inner))
    if embedded is None:
        return
    for start, end in embedded.argvs:
        # `{}` stands for each file found: under find's start paths, which the sandbox
        # checks, so it is left as a relative name rather than marked unknown.
        label = "find -exec" if program == "find" else program
        runs = ctx._replace(source=label, extra_args=(), run_by=program)
        work.append(NestedArgv(tuple(args[start:end]), runs))
    reads_code = embedded.stdin_script and ctx.stdin in {"heredoc", "herestring"}
    if reads_code and ctx.stdin_text is not None:
        work.append(
            NestedScript(ctx.stdin_text, child._replace(source=f"{program} <<", stdin="none"))
        )


def expand_assignments(
    assignments: tuple[tuple[str, str], ...], words: Sequence[Word], ctx: WalkContext
) -> Expansion:
    """A bare `NAME=value ...` statement, and the code held in variables programs run."""
    expansion = Expansion(_assignment_only(assignments, words, ctx))
    child = ctx._replace(depth=ctx.depth + 1, extra_args=(), stdin="none", run_by="")
    for (name, value), word in zip(assignments, words, strict=False):
        if name in EXEC_VARIABLES and value and not word.dynamic:
            expansion.nested.append(
                NestedScript(value, child._replace(source=f"${name}", redirects=()))
            )
    return expansion


def _assignment_only(
    assignments: tuple[tuple[str, str], ...], words: Sequence[Word], ctx: WalkContext
) -> SimpleCommand:
    sources: list[str] = []
    variables: list[str] = []
    for word in words:
        sources.extend(word.sources)
        variables.extend(word.variables)
    return SimpleCommand(
        program="",
        program_text="",
        args=(),
        dynamic_program=False,
        dynamic_args=(),
        glob_args=(),
        procsub_args=(),
        dynamic_code=False,
        code_walked=False,
        substituted=tuple(dict.fromkeys(sources)),
        variables=tuple(dict.fromkeys(variables)),
        assignments=assignments,
        redirects=ctx.redirects,
        wrappers=(),
        wrapper_paths=(),
        wrapper_facts=(),
        stdin=ctx.stdin,
        stdin_text=ctx.stdin_text,
        piped_from=ctx.piped_from,
        args_from_stdin=False,
        source=ctx.source,
        function=ctx.function,
        depth=ctx.depth,
        subshell=ctx.subshell,
        text=" ".join(f"{name}={value}" for name, value in assignments),
    )


def _exec_assignments(
    assignments: Sequence[tuple[str, str]], words: Sequence[Word], env_indexes: Sequence[int]
) -> Iterator[tuple[str, str, bool]]:
    """Assignments to variables whose value is a command (`GIT_PAGER`, `EDITOR`...)."""
    dynamic_values = {words[i].text.split("=", 1)[1] for i in env_indexes if words[i].dynamic}
    for name, value in assignments:
        if name in EXEC_VARIABLES and value:
            yield name, value, value in dynamic_values


_PARALLEL_OPTIONS = {
    "xargs": ("-P", "--max-procs"),
    "parallel": ("-j", "-P", "--jobs", "--max-procs"),
}


def _unbounded_parallelism(texts: Sequence[str]) -> str | None:
    """`xargs -P 0`, `parallel -j0`: no limit on how many processes run at once."""
    # Each option below is read from a word after the program's that starts with it:
    # in the words joined by blanks, a blank comes before it (xargs' `-0 -n 1`: none).
    joined = " ".join(texts)
    if " -P" not in joined and " -j" not in joined and " --" not in joined:
        return None
    return _unbounded_option(texts)


def _unbounded_option(texts: Sequence[str]) -> str | None:
    """`_unbounded_parallelism`, word by word."""
    for index, text in enumerate(texts):
        options = _PARALLEL_OPTIONS.get(text.rsplit("/", 1)[-1])
        if options is None:
            continue
        for position in range(index + 1, min(len(texts), index + 32)):
            word = texts[position]
            if word[:1] != "-":
                continue  # every option below starts with a dash
            following = texts[position + 1] if position + 1 < len(texts) else ""
            for option in options:
                if word == option:
                    value = following
                elif word.startswith(option + "="):
                    value = word[len(option) + 1 :]
                elif len(option) == 2 and word.startswith(option):
                    value = word[2:]
                else:
                    continue
                if value.strip() in {"0", "0%"}:
                    return f"{text} {option} 0"
    return None
