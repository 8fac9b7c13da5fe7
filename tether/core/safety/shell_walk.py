"""The walk: every simple command a parsed shell line would run, where it stands.

The walk visits the tree-sitter tree: pipeline stages, `&&`/`||`/`;` lists,
subshells and groups, `$(...)` and backticks (also inside strings, arguments,
assignments and redirect targets), process substitution, loop and `if`/`case`
bodies, function bodies and here-documents. It is the top layer of three:
words are built by `shell_frag.WordBuilder` (with what the line's variables
hold, `shell_variables`), arithmetic that evaluates code is judged by
`shell_arith.ArithmeticWalk`, and this layer hands each command's words to
the expansion stage (`shell_expand`), then walks the nested code and commands
that stage found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tree_sitter import Node, Parser, Query, QueryCursor

from tether.core.safety.shell_arith import ArithmeticWalk, unquoted
from tether.core.safety.shell_bounds import exceeded_bound
from tether.core.safety.shell_expand import (
    Expansion,
    NestedArgv,
    expand_assignments,
    expand_command,
)
from tether.core.safety.shell_frag import LANGUAGE
from tether.core.safety.shell_model import (
    NAME_TAKERS,
    Redirect,
    SimpleCommand,
    StdinKind,
    WalkContext,
)
from tether.core.safety.shell_plain import (
    NeedsWalk,
    NotPlain,
    PlainCommand,
    PlainItem,
    PlainLane,
    PlainPipeline,
    PlainSequence,
    literal_output,
)
from tether.core.safety.shell_variables import NO_VARIABLES
from tether.core.safety.shell_words import (
    Fragment,
    Word,
    expand,
    expand_leading_braces,
    join_continuations,
    plain_word,
    word_from,
)

__all__ = ["LANGUAGE", "Walk", "misread_comment", "parse_line", "read_code", "respell"]

_MAX_NODE_DEPTH = 150
_FALLBACK_WORDS = 64


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STATEMENTS = _names(
    "command pipeline list redirected_statement subshell compound_statement if_statement "
    "while_statement for_statement c_style_for_statement case_statement function_definition "
    "negated_command variable_assignment variable_assignments declaration_command "
    "unset_command test_command do_group program case_item elif_clause else_clause ERROR"
)
_REDIRECTS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})
_LOOPS = frozenset({"while_statement", "for_statement", "c_style_for_statement"})
_NOTHING_GLUED: dict[int, list[Node] | None] = {}
_NAME_TESTERS = frozenset({"test", "[", "unset"})
"""Builtins in `NAME_TAKERS` that name a variable without assigning it."""

_PLAIN = PlainLane(LANGUAGE)
"""The lane of the walks built without one of their own (each parser has its own)."""
_ENDS_A_LINE = frozenset({b"\n", b"\\"})
"""Last bytes after which `parse_line` adds no newline: one is there, or it would join the lines."""
_ENDS_A_TEXT = frozenset({"", "\n", "\\"})
"""`_ENDS_A_LINE` as the last character of a text (none: the text is empty)."""


class Walk(ArithmeticWalk):
    """One parse: walks the tree and collects commands and problems."""

    level: int = 0
    """How many statements deep the walk stands (`_MAX_NODE_DEPTH`)."""
    herestring_sources: tuple[str, ...] = ()

    def __init__(
        self,
        parser: Parser,
        max_nesting: int,
        max_commands: int,
        *,
        plain_lane: bool = True,
        one_pass: bool = True,
        terminated: bool = True,
        lane: PlainLane = _PLAIN,
    ) -> None:
        super().__init__()
        self.parser = parser
        self.plain_lane = plain_lane
        """Walk plain trees in the lane or by their plan (`shell_plain`); off, every tree
        is walked in general."""
        self.lane = lane
        self.one_pass = one_pass
        """Walk plain trees in the lane's one pass first; off, by their plan at once."""
        self.terminated = terminated
        """Parse code as a terminated line (`parse_line`); off only to compare the two parses."""
        self.max_nesting = max_nesting
        self.max_commands = max_commands
        self.commands: list[SimpleCommand] = []
        self.calls: dict[str, set[str]] = {}
        """Function name -> the programs its body runs."""
        self.defined: set[str] = set()
        """Functions defined so far: a call to one runs its body, walked where it is defined."""

    def recursive_functions(self) -> tuple[str, ...]:
        """Functions that reach themselves through calls (`f(){ f|f& }`, or via another)."""
        if not self.calls:
            return ()
        functions = {name.lower(): name for name in self.calls}
        found = []
        for name in self.calls:
            seen: set[str] = set()
            stack = [p for p in self.calls[name] if p in functions]
            while stack:
                current = stack.pop()
                if current == name.lower():
                    found.append(name)
                    break
                if current in seen:
                    continue
                seen.add(current)
                stack.extend(p for p in self.calls.get(functions[current], ()) if p in functions)
        return tuple(sorted(found))

    # -- scripts ---------------------------------------------------------------------

    def script(self, text: str, ctx: WalkContext) -> None:
        """Parse `text` as shell code at nesting `ctx.depth` and walk it."""
        if ctx.depth > self.max_nesting:
            self.problem(f"shell code is nested more than {self.max_nesting} levels deep")
            return
        over = exceeded_bound(text)
        if over is not None:
            # Parsing this could take seconds and gigabytes: look only for denials in it.
            self.problem(f"the command is too large to analyse: {over}")
            self._fallback(text, ctx)
            return
        text, data, root = read_code(self.parser, text, terminated=self.terminated)
        self.tree(text, data, root, ctx)

    def tree(
        self,
        text: str,
        data: bytes,
        root: Node,
        ctx: WalkContext,
        *,
        lane: bool = True,
        plan: bool = True,
    ) -> None:
        """Walk the tree `root` of the shell code `text` (`data` encoded), read by `read_code`.

        Plain trees are walked in the plain lane, or by their plan where the lane
        leaves them (`shell_plain`). `lane` False: the lane was tried already and
        left; `plan` False as well: it left where the plan stops too (`NotPlain`).
        """
        if b"#" in data and misread_comment(data, root):
            # The rest of the line is hidden from the tree: look for denials in the text.
            self.problem(MISREAD_COMMENT)
            self._fallback(text, ctx)
        outer = self.source, self.source_text, self.variables, self.uncollected
        ascii_text = text if text.isascii() else None
        plain = self.plain_lane and ascii_text is not None and not root.has_error
        if plain and lane and self.one_pass and not self.defined and ctx.function is None:
            # (A call to a function defined in the line, and the commands of a
            # function's body, are `emit`'s to record: the lane leaves them out.)
            commands = self.commands
            before = len(commands)
            try:
                self.lane.walk(
                    root,
                    text,
                    ctx,
                    commands,
                    limit=self.max_commands,
                    level=self.level,
                    max_level=_MAX_NODE_DEPTH,
                )
                return
            except NotPlain:
                del commands[before:]
                plan = False  # the plan stops where the lane did
            except (NeedsWalk, RecursionError):
                del commands[before:]
        if plain and plan and ascii_text is not None:
            items = self.lane.plan(root, ascii_text)
            if items is not None:
                # A plain tree holds no expansion: only arithmetic (`let`) reads a
                # variable, and it collects them first (`collect_now`), from this tree.
                self.source, self.source_text = data, ascii_text
                self.variables, self.uncollected = NO_VARIABLES, root
                try:
                    self.plain(items, ctx)
                finally:
                    self.source, self.source_text, self.variables, self.uncollected = outer
                return
        self.source, self.source_text = data, ascii_text
        if b"$" in data:
            self.variables, self.uncollected = self._collect_variables(root), None
        else:
            # Without a `$` only arithmetic reads a variable (`read x; (( x ))`, `let`,
            # `declare -i`, `[[ x -eq 1 ]]`, however spelled): collected when it does.
            self.variables, self.uncollected = NO_VARIABLES, root
        try:
            if root.has_error:
                self.problem(_error_message(root, data))
                self._fallback(text, ctx)
            self.statement(root, ctx)
        finally:
            self.source, self.source_text, self.variables, self.uncollected = outer

    def _fallback(self, text: str, ctx: WalkContext) -> None:
        """Commands read from text tree-sitter could not parse, to find denials in it.

        Quotes, escapes and braces are dropped and the text is split at
        separators: crude, but `{rm,-rf,/}` or `rm -rf / ((` still show `rm -rf /`.
        Such a command is never allowed (it has problems); this only lets it be denied.
        """
        cleaned = re.sub(r"\\\n", "", text)
        cleaned = re.sub(r"[\\'\"]", "", cleaned)
        cleaned = re.sub(r"\$?[{},]", " ", cleaned)
        # Repeated pieces once each, so padding cannot use up the command budget;
        # a substitution or subshell starts a command of its own (`echo $(mkfs ...)`).
        # A pipe joins the stages of one piece: `curl x | sh` stays a pipe into a shell.
        for piece in dict.fromkeys(re.split(r"(?:\|\||[;&\n<>()`])+", cleaned)):
            upstream: tuple[str, ...] = ()
            stages = list(dict.fromkeys(stage.strip() for stage in piece.split("|")))
            if len(stages) > _FALLBACK_WORDS:
                # Both ends of a long pipe: the source and the shell it feeds.
                half = _FALLBACK_WORDS // 2
                stages = stages[:half] + stages[-half:]
            for stage in stages:
                # The first words of each stage: enough to see `rm -rf /`, and bounded.
                words = [Word(w) for w in stage.split()[:_FALLBACK_WORDS] if not w.isdigit()]
                if not words:
                    continue
                stage_ctx = ctx._replace(source="unparsed")
                if upstream:
                    stage_ctx = stage_ctx._replace(stdin="pipe", piped_from=upstream)
                before = len(self.commands)
                self.emit(words, stage_ctx, ())
                upstream += tuple(c.program for c in self.commands[before:] if c.program)

    # -- statements -------------------------------------------------------------------

    def statement(self, node: Node, ctx: WalkContext) -> None:
        self.level += 1
        try:
            if self.level > _MAX_NODE_DEPTH:
                self.problem("the command is nested too deeply to analyse")
                return
            kind = node.type
            if kind == "command":
                self.command(node, ctx)
            elif kind == "pipeline":
                self.pipeline(node.named_children, ctx)
            elif kind == "redirected_statement":
                self.redirected(node, ctx)
            elif kind == "function_definition":
                self.function(node, ctx)
            elif kind in {"variable_assignment", "variable_assignments"}:
                self.assignment(node, ctx)
            elif kind == "declaration_command":
                self.declaration(node, ctx)
            elif kind == "unset_command":
                self.emit([Word("unset"), *self.words_of(node.named_children, ctx)], ctx, ())
                unset_text = self.text(node)
                if "[" in unset_text and "]" in unset_text:
                    # The grammar splits `a[x]` into words of its own: the subscripts
                    # are read from the text, every one, quoted or not (`name_operand`).
                    subscripts = unset_text[unset_text.index("[") + 1 : unset_text.rindex("]")]
                    self.arithmetic(unquoted(subscripts), ctx, literal=True)
            elif kind == "test_command":
                self.scan(node, ctx)
                test_text = self.text(node)
                if test_text.startswith("[["):
                    self.arithmetic_tests(node, ctx)
                if "-v" in test_text or "-R" in test_text:
                    self.name_tests(node, ctx)
                self.emit([Word("test")], ctx, ())
            elif kind == "comment":
                return
            else:
                if kind == "subshell":
                    ctx = ctx._replace(subshell=True)
                elif kind == "compound_statement" and self.text(node).startswith("(("):
                    self.arithmetic(self.text(node)[2:-2], ctx)
                elif kind in _LOOPS:
                    self.loop(node, ctx)
                    if kind == "for_statement":
                        self.loop_variable(node, ctx)
                for child in node.named_children:
                    child_kind = child.type
                    if child_kind in _STATEMENTS:
                        self.statement(child, ctx)
                    elif child_kind in _REDIRECTS:
                        self.statement_redirect(child, ctx)
                    elif child_kind != "comment":
                        self.scan(child, ctx)
        finally:
            self.level -= 1

    def loop_variable(self, node: Node, ctx: WalkContext) -> None:
        """`for NAME in WORDS` (and `select`) assigns NAME each word: judged as `NAME=word`.

        The words' substitutions are walked with the loop's other children; this only
        judges the assignments (`for PATH in src; do ls; done` runs ./src/ls).
        """
        variable = node.child_by_field_name("variable")
        if variable is None:
            return
        name = self.text(variable)
        values = node.children_by_field_name("value")
        if not values:
            # `for NAME; do`: the positional parameters, unknown here.
            self.emit([], ctx, ((name, ""),), assignment_words=[Word("", dynamic=True)])
            return
        # Every distinct word, each a command of its own (the command budget bounds
        # them): a value past some cap could be the one the rule does not find harmless.
        for text in dict.fromkeys(unquoted(self.text(value)) for value in values):
            self.assigned(name, text, ctx)

    def assigned(self, name: str, value: str, ctx: WalkContext) -> None:
        if self.collecting:
            return
        dynamic = "$" in value or "`" in value
        self.emit([], ctx, ((name, value),), assignment_words=[Word(value, dynamic=dynamic)])

    def statement_redirect(self, node: Node, ctx: WalkContext) -> None:
        # A redirect with no command (`> file` alone truncates it).
        redirects, _, _, extras, _ = self.redirects([node], ctx)
        self.emit([Word(":")], ctx._replace(redirects=ctx.redirects + tuple(redirects)), ())
        for extra in extras:
            self.statement(extra, ctx)

    def pipeline(
        self,
        stages: Sequence[Node] | Sequence[PlainItem],
        ctx: WalkContext,
        upstream: tuple[str, ...] = (),
        upstream_text: str | None = None,
        *,
        piped: bool = False,
        visit: Callable[[Any, WalkContext], None] | None = None,
    ) -> None:
        """The stages of a pipeline in turn; `visit` walks one (`statement` by default)."""
        walk_stage: Callable[[Any, WalkContext], None] = visit or self.statement
        in_subshell = piped or len(stages) > 1
        for stage in stages:
            if not piped:
                subshell = ctx.subshell or in_subshell
                stage_ctx = ctx if subshell == ctx.subshell else ctx._replace(subshell=subshell)
                piped = True
            else:
                stage_ctx = ctx.piped(upstream_text, upstream)
            before = len(self.commands)
            walk_stage(stage, stage_ctx)
            produced = self.commands[before:]
            upstream = upstream + tuple(c.program for c in produced if c.program)
            upstream_text = literal_output(produced)

    def plain(self, item: PlainItem, ctx: WalkContext) -> None:
        """Carry out a plain lane's plan: what `statement` does with the nodes it was read from.

        Each item is one `statement` call of the general walk (the same nesting count),
        and each branch applies the context rules of the method named beside it.
        """
        self.level += 1
        if self.level > _MAX_NODE_DEPTH:
            self.problem("the command is nested too deeply to analyse")
        elif isinstance(item, PlainCommand):  # `command`
            redirects = item.redirects
            if redirects is not None:
                ctx = ctx._replace(redirects=ctx.redirects + redirects)
                if item.stdin_file:
                    ctx = ctx._replace(stdin="file", stdin_text=None, piped_from=())
            words = item.words
            if ctx.extra_args:
                words = (*words, *ctx.extra_args)
                ctx = ctx._replace(extra_args=())
            self.emit(words, ctx, ())
        elif isinstance(item, PlainSequence):  # `program`, `list`: the named children in turn
            for child in item.items:
                self.plain(child, ctx)
        elif isinstance(item, PlainPipeline):  # `pipeline`
            self.pipeline(item.stages, ctx, visit=self.plain)
        else:  # `redirected`: no words hang on these redirects, none is a here-document
            inner = ctx._replace(redirects=ctx.redirects + item.redirects, extra_args=())
            if item.stdin_file:
                inner = inner._replace(stdin="file", stdin_text=None, piped_from=())
            self.plain(item.body, inner)
        self.level -= 1

    def redirected(self, node: Node, ctx: WalkContext) -> None:
        body = node.child_by_field_name("body")
        redirect_nodes = [c for c in node.named_children if c.type in _REDIRECTS]
        redirects, stdin, stdin_text, extras, extra_words = self.redirects(redirect_nodes, ctx)
        inner = ctx._replace(
            redirects=ctx.redirects + tuple(redirects), extra_args=tuple(extra_words)
        )
        if stdin != "none":
            inner = inner._replace(
                stdin=stdin,
                stdin_text=stdin_text,
                piped_from=self.stdin_sources(redirects, stdin),
            )
        before = len(self.commands)
        if body is None:
            self.emit([Word(":")], inner, ())
        else:
            self.statement(body, inner)
        produced = self.commands[before:]
        upstream = tuple(c.program for c in produced if c.program)
        for extra in extras:
            if extra.type == "pipeline":
                # `cat <<EOF | sh`: the grammar puts the pipe inside the here-document.
                self.pipeline(
                    extra.named_children, ctx, upstream, literal_output(produced), piped=True
                )
            else:
                self.statement(extra, ctx)

    def redirects(
        self, nodes: Sequence[Node], ctx: WalkContext
    ) -> tuple[list[Redirect], StdinKind, str | None, list[Node], list[Word]]:
        """Redirects of a statement, what they feed to stdin, statements nested in them,
        and words the grammar attached to a redirect that are really arguments.
        """
        redirects: list[Redirect] = []
        stdin: StdinKind = "none"
        stdin_text: str | None = None
        extras: list[Node] = []
        extra_words: list[Word] = []
        for node in nodes:
            if node.type == "file_redirect":
                redirect = self.file_redirect(node, ctx, extra_words)
                if redirect is not None:
                    redirects.append(redirect)
                    if redirect.op in {"<", "0<"}:
                        # `sh < <(curl ...)` reads another program's output, as a pipe would.
                        stdin = "pipe" if redirect.sources else "file"
                        stdin_text = None
            elif node.type == "herestring_redirect":
                words = [self.frag(c, quoted=False, ctx=ctx) for c in node.named_children]
                stdin = "herestring"
                # `sh <<< "$(curl ...)"`: the programs whose output is fed, as with a pipe.
                self.herestring_sources = tuple(p for w in words for p in w.sources)
                known = [w for w in words if not w.dynamic]
                stdin_text = (
                    " ".join(w.texts[0] for w in known) if len(known) == len(words) else None
                )
            elif node.type == "heredoc_redirect":
                stdin = "heredoc"
                for child in node.named_children:
                    if child.type == "heredoc_body":
                        stdin_text = self.text(child)
                        self.scan(child, ctx)
                    elif child.type == "file_redirect":
                        redirect = self.file_redirect(child, ctx, extra_words)
                        if redirect is not None:
                            redirects.append(redirect)
                    elif child.type in _STATEMENTS:
                        extras.append(child)
        return redirects, stdin, stdin_text, extras, extra_words

    def file_redirect(
        self, node: Node, ctx: WalkContext, extra_words: list[Word]
    ) -> Redirect | None:
        op = "".join(self.text(c) for c in node.children if not c.is_named) or ">"
        descriptor = node.child_by_field_name("descriptor")
        if descriptor is not None:
            op = self.text(descriptor) + op
        targets = [c for c in node.named_children if c.type != "file_descriptor"]
        if not targets:
            return None
        # `echo > out hi`: the grammar hangs `hi` on the redirect; the shell passes it to echo.
        extra_words.extend(self.words_of(targets[1:], ctx))
        target = self.frag(targets[0], quoted=False, ctx=ctx)
        text = target.texts[0]
        if op.endswith("&") and (text.isdigit() or text == "-"):
            return None  # `2>&1`, `>&-`: descriptors, not files
        sources = tuple(target.sources) if target.procsub else ()
        return Redirect(
            op=op,
            target=text,
            dynamic=target.dynamic or target.glob,
            sources=sources,
            glob=target.glob,
        )

    def stdin_sources(self, redirects: Sequence[Redirect], stdin: StdinKind) -> tuple[str, ...]:
        if stdin == "herestring":
            return self.herestring_sources
        return _stdin_sources(redirects)

    def function(self, node: Node, ctx: WalkContext) -> None:
        name_node = node.child_by_field_name("name")
        name = self.text(name_node) if name_node is not None else ""
        body = node.child_by_field_name("body")
        if name:
            self.defined.add(name)
        if body is not None:
            self.statement(body, ctx._replace(function=name))

    def assignment(self, node: Node, ctx: WalkContext) -> None:
        nodes = node.named_children if node.type == "variable_assignments" else [node]
        assignments: list[tuple[str, str]] = []
        words: list[Word] = []
        for child in nodes:
            if child.type != "variable_assignment":
                self.scan(child, ctx)
                continue
            name, value = self.assignment_value(child, ctx)
            assignments.append((name, value.text))
            words.append(value)
        self.emit([], ctx, tuple(assignments), assignment_words=words)

    def assignment_value(self, node: Node, ctx: WalkContext) -> tuple[str, Word]:
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        name = self.text(name_node) if name_node is not None else ""
        if name_node is not None and name_node.type == "subscript":
            self.scan(name_node, ctx)
            index = name_node.child_by_field_name("index")
            if index is not None:
                self.arithmetic(self.text(index), ctx)
            name = self.text(name_node).split("[", 1)[0]
        if value_node is None:
            return name, Word("")
        if value_node.type == "array" and "]=" in self.text(value_node):
            self.array_keys(value_node, ctx)
        frag = self.frag(value_node, quoted=False, ctx=ctx)
        return name, word_from(frag, frag.texts[0])

    def array_keys(self, node: Node, ctx: WalkContext) -> None:
        """`a=([KEY]=value)`: an indexed array's keys are arithmetic, quoted or not."""
        for element in node.named_children:
            text = self.text(element)
            if text.startswith("[") and "]=" in text:
                self.arithmetic(unquoted(text[1 : text.rindex("]=")]), ctx, literal=True)

    def declaration(self, node: Node, ctx: WalkContext) -> None:
        keyword = next((self.text(c) for c in node.children if not c.is_named), "declare")
        words = [Word(keyword)]
        assignments: list[tuple[str, str]] = []
        integer = False
        for child in node.named_children:
            text = self.text(child)
            if child.type == "word" and text.startswith("-") and "i" in text:
                integer = True  # `declare -i n=EXPR` evaluates EXPR as arithmetic
            if child.type == "variable_assignment":
                name, value = self.assignment_value(child, ctx)
                if integer:
                    self.arithmetic(value.text, ctx, literal=True)
                    if value.dynamic:
                        self.problem("an integer variable takes a value known only at run time")
                assignments.append((name, value.text))
                words.append(value._replace(text=f"{name}={value.text}"))
            else:
                words.extend(self.words_of([child], ctx))
        self.emit(words, ctx, tuple(assignments))

    def command(self, node: Node, ctx: WalkContext) -> None:
        assignments: list[tuple[str, str]] = []
        assignment_words: list[Word] = []
        programs: list[list[Word]] = [[]]
        words: list[Word] = []
        redirect_nodes: list[Node] = []
        children = node.named_children
        # Only a piece ending in a `$` token is glued: with no `$` in the source, none is.
        glued = _glued_words(children) if b"$" in self.source else _NOTHING_GLUED
        for index, child in enumerate(children):
            group = glued.get(index)
            if group is None and index in glued:
                continue  # glued onto the word before it
            kind = child.type
            if kind == "word" and group is None:
                # The commonest argument: `plain_word` is what `words_of` would give.
                word = plain_word(self.text(child))
                if word is not None:
                    words.append(word)
                    continue
            if kind == "variable_assignment":
                key, value = self.assignment_value(child, ctx)
                assignments.append((key, value.text))
                assignment_words.append(value)
            elif kind in _REDIRECTS:
                redirect_nodes.append(child)
            elif kind == "command_name":
                inner = child.named_children or [child]
                if group:
                    frag = self.glue([*inner, *group], ctx)
                    programs = self.program_words_from([frag])
                else:
                    programs = self.program_words(inner, ctx)
            elif kind != "comment":
                if group:
                    words.extend(expand(self.glue([child, *group], ctx)))
                else:
                    words.extend(self.words_of([child], ctx))
        extras: list[Node] = []
        if redirect_nodes:
            redirects, stdin, stdin_text, extras, extra_words = self.redirects(redirect_nodes, ctx)
            words.extend(extra_words)
            ctx = ctx._replace(redirects=ctx.redirects + tuple(redirects))
            if stdin != "none":
                ctx = ctx._replace(
                    stdin=stdin,
                    stdin_text=stdin_text,
                    piped_from=self.stdin_sources(redirects, stdin),
                )
        if ctx.extra_args:
            words.extend(ctx.extra_args)
            ctx = ctx._replace(extra_args=())
        for program in programs:
            self.emit(
                [*program, *words], ctx, tuple(assignments), assignment_words=assignment_words
            )
        for extra in extras:
            self.statement(extra, ctx)

    # -- words ------------------------------------------------------------------------

    def substitution(self, node: Node, ctx: WalkContext) -> Fragment:
        process = node.type == "process_substitution"
        if self.collecting:
            return Fragment([""], dynamic=True, literal=False, procsub=process)
        before = len(self.commands)
        # `tee >(sh)`: the commands in `>(...)` read what the command writes there.
        written = process and self.text(node).startswith(">(")
        inner = ctx._replace(
            source="<(...)" if process else "$(...)",
            stdin="pipe" if written else "none",
            stdin_text=None,
            piped_from=ctx.piped_from if written else (),
            redirects=(),
            extra_args=(),
            subshell=True,
        )
        for child in node.named_children:
            if child.type in _STATEMENTS:
                self.statement(child, inner)
            elif child.type in _REDIRECTS:
                self.statement_redirect(child, inner)
            else:
                self.scan(child, inner)
        produced = self.commands[before:]
        sources = [c.program for c in produced if c.program]
        for command in produced:
            sources.extend(command.substituted)
        if process:
            return Fragment(
                ["/dev/fd/63"], dynamic=True, literal=False, procsub=True, sources=sources
            )
        output = literal_output(produced)
        return Fragment([output or ""], dynamic=True, literal=False, sources=sources)

    def scan(self, node: Node, ctx: WalkContext) -> None:
        """Walk the commands hidden in `node` (substitutions in words, conditions, values)."""
        if self.collecting:
            return
        for child in _substitutions(node):
            self.substitution(child, ctx)

    # -- commands ---------------------------------------------------------------------

    def emit(
        self,
        words: Sequence[Word],
        ctx: WalkContext,
        assignments: tuple[tuple[str, str], ...],
        *,
        assignment_words: Sequence[Word] = (),
    ) -> None:
        """Record the command `words` form, and walk what its wrappers and code run."""
        if len(self.commands) >= self.max_commands:
            if len(self.commands) == self.max_commands:
                self.problem(f"more than {self.max_commands} commands in one call")
                self.commands.append(SimpleCommand(program="", source="overflow"))
            return
        if not words:
            if assignments:
                self.carry_out(expand_assignments(assignments, assignment_words, ctx))
            return
        first = words[0]
        if not first.dynamic and first.text in self.defined:
            # A call to a function defined in this line: its body was judged where it
            # stands; the call is a no-op with the same words and redirects.
            if ctx.function is not None:
                self.calls.setdefault(ctx.function, set()).add(first.text.lower())
            words = [Word(":"), *words[1:]]
        expansion = expand_command(words, ctx, assignments, assignment_words)
        command = expansion.command
        self.commands.append(command)
        if command.program == "let":
            for index, text in enumerate(command.args):
                self.arithmetic(text, ctx, literal=True)
                if command.is_dynamic(index):
                    self.problem("let evaluates a value known only at run time")
        elif command.program in NAME_TAKERS:
            self.name_operands(command, ctx)
        if ctx.function is not None:
            self.calls.setdefault(ctx.function, set()).add(command.program)
        if expansion.problems or expansion.nested:  # most commands have neither
            self.walk_nested(expansion)

    def name_operands(self, command: SimpleCommand, ctx: WalkContext) -> None:
        """The arguments a builtin takes as variable names, judged by `name_operand`.

        `test -v NAME` and `printf -v NAME` name one; `read`, `mapfile`, `readarray`,
        `wait -p`, `getopts` and `unset` take names as operands and option values,
        so each of their arguments is read as one (`read -p 'a [y/n]'` names none).
        """
        args = command.args
        flag = NAME_TAKERS[command.program]
        for index, arg in enumerate(args):
            if flag is None:
                operand = arg
            elif arg == flag and index + 1 < len(args):
                operand, index = args[index + 1], index + 1
            elif arg.startswith(flag) and len(arg) > len(flag) and command.program == "printf":
                operand = arg[len(flag) :]
            else:
                continue
            self.name_operand(operand, ctx, dynamic=command.is_dynamic(index))
            if command.program not in _NAME_TESTERS and "[" in operand:
                # `read 'PATH[0]'` assigns PATH (element 0 of a scalar is the scalar),
                # which the rule reads from plain names only: judged as `PATH=<unknown>`.
                base = operand.partition("[")[0]
                if base.isidentifier():
                    bare = ctx._replace(redirects=())  # (the builtin's redirects are its own)
                    self.emit([], bare, ((base, ""),), assignment_words=[Word("", dynamic=True)])

    def carry_out(self, expansion: Expansion) -> None:
        """Record an expanded command, then walk its nested code and commands in order."""
        self.commands.append(expansion.command)
        self.walk_nested(expansion)

    def walk_nested(self, expansion: Expansion) -> None:
        """The expansion stage's problems, and the code and commands it found, in order."""
        for message in expansion.problems:
            self.problem(message)
        for item in expansion.nested:
            if isinstance(item, NestedArgv):
                self.emit(list(item.words), item.ctx, ())
            else:
                self.script(item.text, item.ctx)


def read_code(parser: Parser, text: str, *, terminated: bool = True) -> tuple[str, bytes, Node]:
    """Shell code as the walk reads it: (its text, that text encoded, the tree of it).

    Line continuations are joined first; a line tree-sitter reads as a broken group
    that the shell reads as a brace expansion (`{ls,-la}` is `ls -la`) is respelled.
    """
    if "\\\n" in text:
        text = join_continuations(text)
    data = text.encode("utf-8", "surrogatepass")
    if terminated and text[-1:] not in _ENDS_A_TEXT and "<<" not in text:
        # `parse_line`, inline on the text (its last character is ASCII exactly when
        # the last byte is, and so is `<<`): the terminated tree when it has no error.
        root = parser.parse(data + b"\n").root_node
        if not root.has_error:
            return text, data, root
    root = parser.parse(data).root_node
    if root.has_error and "{" in text:
        return respell(parser, text, data, root, terminated=terminated)
    return text, data, root


_COMMENTS = Query(LANGUAGE, "(comment) @comment")
_COMMENT_OPENERS = frozenset(b" \t\n;&|()<>")
"""The bytes after which bash may start a comment: its blanks and metacharacters, unescaped."""
MISREAD_COMMENT = (
    "a `#` the parser reads as a comment but the shell does not (it follows an escaped "
    "blank, a carriage return or other word text), so the rest of the line is hidden"
)


def misread_comment(data: bytes, root: Node) -> bool:
    """True when the tree of `data` has a comment bash does not read as one.

    Bash starts a comment only at a `#` that opens a word: at the start of the text
    or after an unescaped blank or metacharacter. tree-sitter-bash also opens one
    after an escaped blank (`echo \\ #; rm -rf ~` is `echo ' #'` then `rm` to bash)
    and after a carriage return, vertical tab or form feed (word text to bash), and
    then drops the rest of the line. Line continuations are joined before the parse
    (`read_code`), so the byte before a comment is what bash sees before it too.
    """
    for node in QueryCursor(_COMMENTS).captures(root).get("comment", ()):
        start = node.start_byte
        if start == 0:
            continue
        if data[start - 1] not in _COMMENT_OPENERS:
            return True
        backslashes = 0
        index = start - 2
        while index >= 0 and data[index] == 0x5C:
            backslashes += 1
            index -= 1
        if backslashes % 2:
            return True
    return False


def respell(
    parser: Parser, text: str, data: bytes, root: Node, *, terminated: bool = True
) -> tuple[str, bytes, Node]:
    """`read_code` of a text whose tree has an error: its brace expansion, when that parses.

    `{ls,-la}` is a broken group to tree-sitter and `ls -la` to bash.
    """
    spelled = expand_leading_braces(text)
    if spelled is not None:
        spelled_data = spelled.encode("utf-8", "surrogatepass")
        retry = parse_line(parser, spelled_data, terminated=terminated)
        if not retry.has_error:
            return spelled, spelled_data, retry
    return text, data, root


def parse_line(parser: Parser, data: bytes, *, terminated: bool = True) -> Node:
    """The tree of `data`, parsed as the terminated line it is.

    tree-sitter-bash reaches the end of input inside a pipeline of three or
    more stages with two parse stacks, and puts one through error recovery
    before it accepts the other: `a | b | c` takes about 80 µs, and
    `a | b | c` followed by a newline 4 µs (`bench/shell_parse.py`). The
    shell reads a line that ends at the end of its input as if a newline
    ended it, except for a backslash just before the end (a newline after it
    would join the lines) and a here-document (its delimiter is a line of
    its own): those, and any text whose terminated parse finds an error, are
    parsed as given, so a tree with an error is exactly the one the text
    itself gives. Every node of a terminated tree but the root ends where it
    would have ended; the newline lies past every node the walk reads. The
    one tree that changes is one tree-sitter got wrong: it errs at the end of
    some lines that end in an escaped blank (`}\\ `), which the shell reads
    as a word, and so does the terminated parse (`test_shell_terminated`).
    """
    if terminated and data and data[-1:] not in _ENDS_A_LINE and b"<<" not in data:
        root = parser.parse(data + b"\n").root_node
        if not root.has_error:
            return root
    return parser.parse(data).root_node


def _ends_with_dollar(node: Node) -> bool:
    if node.type == "command_name" and node.named_children:
        node = node.named_children[-1]
    last = node.children[-1] if node.type == "concatenation" and node.children else None
    return last is not None and not last.is_named and last.type == "$"


def _glued_words(children: Sequence[Node]) -> dict[int, list[Node] | None]:
    """Words the grammar split at a `$` inside a word (`-rf$IFS/` -> `-rf$` + `IFS/`).

    Maps the index of the first piece to the pieces glued onto it, and each glued
    piece to None. The pieces touch (no blank between them), as in the shell's one word.
    """
    glued: dict[int, list[Node] | None] = {}
    index = 0
    while index < len(children):
        tail = children[index]
        group: list[Node] = []
        following = index + 1
        while (
            _ends_with_dollar(tail)
            and following < len(children)
            and children[following].type in {"word", "concatenation"}
            and children[following].start_byte == tail.end_byte
        ):
            tail = children[following]
            group.append(tail)
            glued[following] = None
            following += 1
        if group:
            glued[index] = group
        index = following
    return glued


def _stdin_sources(redirects: Sequence[Redirect]) -> tuple[str, ...]:
    for redirect in redirects:
        if redirect.op in {"<", "0<"} and redirect.sources:
            return redirect.sources
    return ()


def _substitutions(node: Node) -> Iterator[Node]:
    """Command and process substitutions inside `node` (or `node` itself), outermost first."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in {"command_substitution", "process_substitution"}:
            yield current
            continue
        stack.extend(reversed(current.children))


def _error_message(root: Node, data: bytes) -> str:
    for node in _error_nodes(root):
        snippet = data[node.start_byte : node.end_byte].decode("utf-8", "replace")[:40]
        if node.is_missing:
            return f"the shell syntax is incomplete (missing {node.type!r})"
        return f"the shell syntax could not be parsed near {snippet!r}"
    return "the shell syntax could not be parsed"


def _error_nodes(root: Node) -> Iterator[Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            yield node
            continue
        if node.has_error:
            stack.extend(reversed(node.children))
