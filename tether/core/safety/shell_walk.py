"""The walk: every simple command a parsed shell line would run, where it stands.

The walk visits the tree-sitter tree: pipeline stages, `&&`/`||`/`;` lists,
subshells and groups, `$(...)` and backticks (also inside strings, arguments,
assignments and redirect targets), process substitution, loop and `if`/`case`
bodies, function bodies and here-documents. It builds each command's words
(`shell_words`, with what the line's variables hold from `shell_variables`)
and hands them to the expansion stage (`shell_expand`), then walks the nested
code and commands that stage finds. Arithmetic contexts that evaluate code
(`(( ))`, `[[ a -eq b ]]`, subscripts, `let`, `declare -i`) are followed too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace as _replace

import tree_sitter_bash
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from tether.core.safety.shell_bounds import exceeded_bound
from tether.core.safety.shell_expand import (
    Expansion,
    NestedArgv,
    expand_assignments,
    expand_command,
)
from tether.core.safety.shell_model import Redirect, SimpleCommand, StdinKind, WalkContext
from tether.core.safety.shell_variables import Variables
from tether.core.safety.shell_words import (
    Fragment,
    Word,
    ansi_c,
    expand,
    expand_leading_braces,
    join_continuations,
    unescape_double,
    unquoted_word,
    word_from,
)

__all__ = ["LANGUAGE", "Walk"]

LANGUAGE = Language(tree_sitter_bash.language())

_MAX_NODE_DEPTH = 150
_FALLBACK_WORDS = 64


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_VARIABLES_QUERY = Query(
    LANGUAGE,
    """
    (variable_assignment name: (variable_name) @name value: (_)? @value)
    (variable_assignment name: (subscript name: (variable_name) @element))
    (declaration_command (word) @flag)
    (for_statement variable: (variable_name) @var value: (_)* @values)
    (command name: (command_name (word) @cmd) argument: (_)* @arg)
    """,
)

# Commands that assign the variables named in their arguments at run time.
_ASSIGNING_COMMANDS = frozenset({"read", "mapfile", "readarray", "getopts", "printf", "let"})


_STATEMENTS = _names(
    "command pipeline list redirected_statement subshell compound_statement if_statement "
    "while_statement for_statement c_style_for_statement case_statement function_definition "
    "negated_command variable_assignment variable_assignments declaration_command "
    "unset_command test_command do_group program case_item elif_clause else_clause ERROR"
)
_REDIRECTS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL_EXPANSION = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])\}$")
# `${x[@]}`, `${x[*]}`, `${x[2]}`, `${x[-1]}`: an array's elements, or one of them.
_ELEMENT_EXPANSION = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\[(@|\*|-?[0-9]{1,6})\]\}$")
# `${!name}` and `${!name:-x}`, not `${!prefix*}` (names only) or `${!array[@]}` (keys).
_INDIRECT_EXPANSION = re.compile(r"^\$\{!([A-Za-z_][A-Za-z0-9_]*)(?:[:#%/^,][^}]*)?\}$")
_ARITHMETIC_TESTS = frozenset({"-eq", "-ne", "-lt", "-le", "-gt", "-ge"})
# `$(cmd)` or backticks, not the arithmetic `$((`.
_COMMAND_IN_TEXT = re.compile(r"\$\((?!\()|`")
_WRITTEN_SUBSTITUTION = re.compile(r"\$\(([^()]*)\)|`([^`]*)`")
_LOOPS = frozenset({"while_statement", "for_statement", "c_style_for_statement"})
_CODE_IN_VALUE = re.compile(r"\$\(|`|\$\{|\[")
# Words that make variables worth collecting even when the line has no `$`:
# arithmetic reads a variable by its bare name (`read x; (( x ))`).
_ARITHMETIC_MARKS = (b"((", b"[[", b"let", b"-i", b"[")
_DEFAULT_EXPANSION = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-=+?])(.*)\}$", re.DOTALL)


class Walk:
    """One parse: walks the tree and collects commands and problems."""

    def __init__(self, parser: Parser, max_nesting: int, max_commands: int) -> None:
        self.parser = parser
        self.max_nesting = max_nesting
        self.max_commands = max_commands
        self.commands: list[SimpleCommand] = []
        self.problems: list[str] = []
        self.calls: dict[str, set[str]] = {}
        """Function name -> the programs its body runs."""
        self.level = 0
        self.source = b""
        self.variables = Variables()
        self.collecting = False
        self.herestring_sources: tuple[str, ...] = ()
        self.defined: set[str] = set()
        """Functions defined so far: a call to one runs its body, walked where it is defined."""

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def recursive_functions(self) -> tuple[str, ...]:
        """Functions that reach themselves through calls (`f(){ f|f& }`, or via another)."""
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
        if "\\\n" in text:
            text = join_continuations(text)
        data = text.encode("utf-8", "surrogatepass")
        tree = self.parser.parse(data)
        root = tree.root_node
        if root.has_error and "{" in text:
            # `{ls,-la}` is a broken group to tree-sitter and `ls -la` to bash.
            spelled = expand_leading_braces(text)
            if spelled is not None:
                retry = self.parser.parse(spelled.encode("utf-8", "surrogatepass"))
                if not retry.root_node.has_error:
                    text, data, root = (
                        spelled,
                        spelled.encode("utf-8", "surrogatepass"),
                        retry.root_node,
                    )
        outer_source, outer_variables = self.source, self.variables
        self.source = data
        collect = b"$" in data or any(mark in data for mark in _ARITHMETIC_MARKS)
        self.variables = self._collect_variables(root) if collect else Variables()
        try:
            if root.has_error:
                self.problem(_error_message(root, data))
                self._fallback(text, ctx)
            self.statement(root, ctx)
        finally:
            self.source, self.variables = outer_source, outer_variables

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
                stage_ctx = _replace(ctx, source="unparsed")
                if upstream:
                    stage_ctx = _replace(stage_ctx, stdin="pipe", piped_from=upstream)
                before = len(self.commands)
                self.emit(words, stage_ctx, ())
                upstream += tuple(c.program for c in self.commands[before:] if c.program)

    def _collect_variables(self, root: Node) -> Variables:
        """Variables assigned in this script and every static value they take (`Variables`)."""
        known = Variables()
        self.collecting = True
        try:
            self._collect_into(known, root)
        finally:
            self.collecting = False
        return known

    def _collect_into(self, known: Variables, root: Node) -> None:
        references = False
        for _, captures in QueryCursor(_VARIABLES_QUERY).matches(root):
            if "name" in captures:
                name_node = captures["name"][0]
                name = self.text(name_node)
                values = captures.get("value")
                append = _appends(name_node.parent)
                if values and values[0].type == "array":
                    elements = [self.frag(n, quoted=False) for n in values[0].named_children]
                    known.remember_array(name, elements, append=append)
                else:
                    frag = self.frag(values[0], quoted=False) if values else Fragment([""])
                    known.remember(name, frag, append=append)
            elif "element" in captures:
                # `x[0]=rm` changes what `$x` and `"${x[@]}"` hold: not followed, unknown.
                known.forget(self.text(captures["element"][0]))
            elif "flag" in captures:
                flag = self.text(captures["flag"][0])
                # `declare -n ref=x`: assigning ref assigns x, or whatever ref names later.
                references = references or (flag.startswith("-") and "n" in flag)
            elif "var" in captures:
                name = self.text(captures["var"][0])
                for node in captures.get("values", []):
                    known.remember(name, self.frag(node, quoted=False))
                if not captures.get("values"):
                    known.forget(name)  # `for x; do` iterates over "$@"
            elif "cmd" in captures and self.text(captures["cmd"][0]) in _ASSIGNING_COMMANDS:
                # The whole statement, here-string included: what the value may hold.
                command_name = captures["cmd"][0].parent
                statement = command_name.parent if command_name is not None else None
                holder = statement.parent if statement is not None else None
                if holder is not None and holder.type == "redirected_statement":
                    statement = holder
                for node in captures.get("arg", []):
                    word = self.text(node)
                    if _NAME.fullmatch(word):
                        known.forget(word)
                        if statement is not None:
                            known.hints.setdefault(word, []).append(self.text(statement))
        if references:
            known.forget_all()

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
            elif kind == "test_command":
                self.scan(node, ctx)
                if self.text(node).startswith("[["):
                    self.arithmetic_tests(node, ctx)
                self.emit([Word("test")], ctx, ())
            elif kind == "comment":
                return
            else:
                if kind == "subshell":
                    ctx = _replace(ctx, subshell=True)
                elif kind == "compound_statement" and self.text(node).startswith("(("):
                    self.arithmetic(self.text(node)[2:-2], ctx)
                elif kind in _LOOPS:
                    self.loop(node, ctx)
                for child in node.named_children:
                    if child.type in _STATEMENTS:
                        self.statement(child, ctx)
                    elif child.type in _REDIRECTS:
                        self.statement_redirect(child, ctx)
                    elif child.type != "comment":
                        self.scan(child, ctx)
        finally:
            self.level -= 1

    def loop(self, node: Node, ctx: WalkContext) -> None:
        """A loop's header arithmetic, and a loop that starts background processes (a flood)."""
        if node.type == "c_style_for_statement":
            body = node.child_by_field_name("body")
            end = body.start_byte if body is not None else node.end_byte
            header = self.source[node.start_byte : end].decode("utf-8", "surrogatepass")
            self.arithmetic(header.partition("((")[2].rpartition("))")[0], ctx)
        body = node.child_by_field_name("body")
        if body is not None and _backgrounds(body):
            self.problem("a loop starts background processes: it may flood the machine")

    def arithmetic(
        self, text: str, ctx: WalkContext, *, hops: int = 0, literal: bool = False
    ) -> None:
        """Bash evaluates arithmetic recursively: a variable whose value is `a[$(cmd)]` runs cmd.

        Substitutions written in `text` are walked where they stand; this judges
        what the names in it hold: a value with code is walked and never allowed,
        a value only known at run time (`read x`, `printf -v x`) is never allowed.
        """
        if self.collecting or not text:
            return
        if _COMMAND_IN_TEXT.search(text):
            self.problem("arithmetic evaluates the output of a command, which can run more code")
            if literal:
                # Quoted text (`let 'x=a[$(cmd)]'`) was not walked as code, but runs as such.
                self.script(": " + text, _replace(ctx, depth=ctx.depth + 1, source="arithmetic"))
        for name in dict.fromkeys(_NAME.findall(text[:4096])):
            if name not in self.variables:
                continue
            values = self.variables.texts(name)
            if values is None:
                self.problem(
                    f"arithmetic evaluates ${name}, a value only known at run time: it can run code"
                )
                self.runtime_values(name, ctx)
                continue
            for value, _ in values:
                if _CODE_IN_VALUE.search(value):
                    self.problem(f"arithmetic evaluates code in the value of ${name}")
                    if "$(" in value or "`" in value or "<(" in value:
                        child = _replace(ctx, depth=ctx.depth + 1, source="arithmetic")
                        self.script(": " + value, child)
                elif hops < 4 and _NAME.search(value):
                    self.arithmetic(value, ctx, hops=hops + 1)

    def runtime_values(self, name: str, ctx: WalkContext) -> None:
        """Walk the substitutions written in what assigns `name` at run time, to find denials."""
        child = _replace(ctx, depth=ctx.depth + 1, source="arithmetic")
        for statement in self.variables.hints.get(name, ())[:8]:
            for match in _WRITTEN_SUBSTITUTION.finditer(statement):
                self.script(match.group(1) or match.group(2) or "", child)

    def arithmetic_tests(self, node: Node, ctx: WalkContext) -> None:
        """`[[ a -eq b ]]` evaluates both sides as arithmetic."""
        stack = [node]
        while stack:
            current = stack.pop()
            operator = current.child_by_field_name("operator")
            if (
                current.type == "binary_expression"
                and operator is not None
                and self.text(operator) in _ARITHMETIC_TESTS
            ):
                for side in ("left", "right"):
                    operand = current.child_by_field_name(side)
                    if operand is not None:
                        self.arithmetic(self.text(operand).lstrip("$"), ctx)
            stack.extend(current.named_children)

    def statement_redirect(self, node: Node, ctx: WalkContext) -> None:
        # A redirect with no command (`> file` alone truncates it).
        redirects, _, _, extras, _ = self.redirects([node], ctx)
        self.emit([Word(":")], _replace(ctx, redirects=ctx.redirects + tuple(redirects)), ())
        for extra in extras:
            self.statement(extra, ctx)

    def pipeline(
        self,
        stages: Sequence[Node],
        ctx: WalkContext,
        upstream: tuple[str, ...] = (),
        upstream_text: str | None = None,
        *,
        piped: bool = False,
    ) -> None:
        in_subshell = piped or len(stages) > 1
        for stage in stages:
            if not piped:
                stage_ctx = _replace(ctx, subshell=ctx.subshell or in_subshell)
                piped = True
            else:
                stage_ctx = _replace(
                    ctx,
                    stdin="pipe",
                    stdin_text=upstream_text,
                    piped_from=upstream,
                    subshell=True,
                )
            before = len(self.commands)
            self.statement(stage, stage_ctx)
            produced = self.commands[before:]
            upstream = upstream + tuple(c.program for c in produced if c.program)
            upstream_text = _literal_output(produced)

    def redirected(self, node: Node, ctx: WalkContext) -> None:
        body = node.child_by_field_name("body")
        redirect_nodes = [c for c in node.named_children if c.type in _REDIRECTS]
        redirects, stdin, stdin_text, extras, extra_words = self.redirects(redirect_nodes, ctx)
        inner = _replace(
            ctx, redirects=ctx.redirects + tuple(redirects), extra_args=tuple(extra_words)
        )
        if stdin != "none":
            inner = _replace(
                inner,
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
                    extra.named_children, ctx, upstream, _literal_output(produced), piped=True
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
        return Redirect(op=op, target=text, dynamic=target.dynamic, sources=sources)

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
            self.statement(body, _replace(ctx, function=name))

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
        frag = self.frag(value_node, quoted=False, ctx=ctx)
        return name, word_from(frag, frag.texts[0])

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
                words.append(_replace(value, text=f"{name}={value.text}"))
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
        glued = _glued_words(children)
        for index, child in enumerate(children):
            if index in glued and glued[index] is None:
                continue  # glued onto the word before it
            if child.type == "variable_assignment":
                key, value = self.assignment_value(child, ctx)
                assignments.append((key, value.text))
                assignment_words.append(value)
            elif child.type in _REDIRECTS:
                redirect_nodes.append(child)
            elif child.type == "command_name":
                inner = child.named_children or [child]
                group = glued.get(index)
                if group:
                    frag = self.glue([*inner, *group], ctx)
                    programs = self.program_words_from([frag])
                else:
                    programs = self.program_words(inner, ctx)
            elif child.type != "comment":
                group = glued.get(index)
                if group:
                    words.extend(expand(self.glue([child, *group], ctx)))
                else:
                    words.extend(self.words_of([child], ctx))
        extras: list[Node] = []
        if redirect_nodes:
            redirects, stdin, stdin_text, extras, extra_words = self.redirects(redirect_nodes, ctx)
            words.extend(extra_words)
            ctx = _replace(ctx, redirects=ctx.redirects + tuple(redirects))
            if stdin != "none":
                ctx = _replace(
                    ctx,
                    stdin=stdin,
                    stdin_text=stdin_text,
                    piped_from=self.stdin_sources(redirects, stdin),
                )
        words.extend(ctx.extra_args)
        ctx = _replace(ctx, extra_args=())
        for program in programs:
            self.emit(
                [*program, *words], ctx, tuple(assignments), assignment_words=assignment_words
            )
        for extra in extras:
            self.statement(extra, ctx)

    def program_words(self, nodes: Sequence[Node], ctx: WalkContext) -> list[list[Word]]:
        """The program word(s), once per value it may take (`$X` with X=ls or X=rm)."""
        frags = [self.frag(node, quoted=False, ctx=ctx) for node in nodes if node.is_named]
        return self.program_words_from(frags)

    def program_words_from(self, frags: list[Fragment]) -> list[list[Word]]:
        if len(frags) != 1 or len(frags[0].texts) < 2:
            return [[word for frag in frags for word in expand(frag)]]
        frag = frags[0]
        texts = [text for text in frag.texts if text] or [""]
        options = []
        for text in texts:
            single = Fragment(
                [text],
                dynamic=True,
                glob=frag.glob,
                literal=frag.literal,
                split=frag.split,
                sources=frag.sources,
                variables=frag.variables,
            )
            options.append(expand(single))
        return options

    def glue(self, nodes: Sequence[Node], ctx: WalkContext) -> Fragment:
        """One word the grammar split in two at a `$` (`rm$IFS-rf$IFS/`): `$` + `IFS/`."""
        flat: list[Node] = []
        for node in nodes:
            flat.extend(node.children if node.type == "concatenation" else [node])
        result = Fragment([""])
        index = 0
        while index < len(flat):
            child = flat[index]
            following = flat[index + 1] if index + 1 < len(flat) else None
            if not child.is_named and child.type == "$" and following is not None:
                text = self.text(following)
                name = _NAME.match(text) if following.type == "word" else None
                if name:
                    result.join(self.variable(name.group(), quoted=False))
                    result.join(unquoted_word(text[name.end() :]))
                    index += 2
                    continue
            if child.is_named:
                result.join(self.frag(child, quoted=False, ctx=ctx))
            else:
                result.join(Fragment([self.text(child)]))
            index += 1
        return result

    # -- words ------------------------------------------------------------------------

    def words_of(self, nodes: Sequence[Node], ctx: WalkContext | None = None) -> list[Word]:
        words: list[Word] = []
        for node in nodes:
            if not node.is_named:
                continue
            frag = self.frag(node, quoted=False, ctx=ctx)
            words.extend(expand(frag))
        return words

    def frag(self, node: Node, *, quoted: bool, ctx: WalkContext | None = None) -> Fragment:
        """Build the word `node` stands for; commands inside it are walked on the way."""
        kind = node.type
        if kind == "word":
            return unquoted_word(self.text(node)) if not quoted else Fragment([self.text(node)])
        if kind in {"number", "regex", "test_operator", "file_descriptor", "heredoc_start"}:
            return Fragment([self.text(node)], literal=not quoted)
        if kind == "raw_string":
            return Fragment([self.text(node)[1:-1]], literal=False)
        if kind == "ansi_c_string":
            return Fragment([ansi_c(self.text(node)[2:-1])], literal=False)
        if kind == "string":
            return self.string(node, ctx)
        if kind == "translated_string":
            # `$"..."` is the double-quoted string, translated by the locale (a no-op here).
            inner = next((c for c in node.named_children if c.type == "string"), None)
            return self.string(inner, ctx) if inner is not None else Fragment([""], dynamic=True)
        if kind == "concatenation":
            result = Fragment([""])
            for child in node.children:
                if child.is_named:
                    result.join(self.frag(child, quoted=quoted, ctx=ctx))
                else:
                    result.join(Fragment([self.text(child)], literal=not quoted))
            return result
        if kind == "simple_expansion":
            name = self.text(node)[1:]
            return self.variable(name, quoted=quoted)
        if kind == "expansion":
            return self.expansion(node, quoted=quoted, ctx=ctx)
        if kind in {"command_substitution", "process_substitution"}:
            return self.substitution(node, ctx or WalkContext())
        if kind == "arithmetic_expansion":
            self.scan(node, ctx or WalkContext())
            self.arithmetic(self.text(node), ctx or WalkContext())
            return Fragment(["0"], literal=False)
        if kind in {"extglob_pattern"}:
            return Fragment([self.text(node)], glob=True)
        if kind == "brace_expression":
            return Fragment([self.text(node)])
        # Anything else (arrays, subscripts, odd tokens): its text, and any command in it.
        self.scan(node, ctx or WalkContext())
        return Fragment([self.text(node)], dynamic="$" in self.text(node) or "`" in self.text(node))

    def string(self, node: Node, ctx: WalkContext | None) -> Fragment:
        result = Fragment([""], literal=False)
        end = node.start_byte + 1
        for child in node.children:
            if child.start_byte > end:
                # The grammar leaves some text (newlines) between the children.
                gap = self.source[end : child.start_byte].decode("utf-8", "surrogatepass")
                result.join(Fragment([unescape_double(gap)], literal=False))
            end = max(end, child.end_byte)
            if child.type == '"':
                continue
            if child.type == "string_content":
                result.join(Fragment([unescape_double(self.text(child))], literal=False))
            elif child.is_named:
                part = self.frag(child, quoted=True, ctx=ctx)
                part.literal = False
                result.join(part)
            else:
                result.join(Fragment([self.text(child)], literal=False))
        result.literal = False
        return result

    def variable(self, name: str, *, quoted: bool) -> Fragment:
        return self.variables.value(name, quoted=quoted)

    def expansion(self, node: Node, *, quoted: bool, ctx: WalkContext | None) -> Fragment:
        text = self.text(node)
        self.scan(node, ctx or WalkContext())
        if "[" in text:
            index = text.partition("[")[2].rpartition("]")[0]
            if index not in {"@", "*"}:
                self.arithmetic(index, ctx or WalkContext())
        if text.endswith("@P}"):
            self.prompt(text, ctx or WalkContext())
        simple = _SPECIAL_EXPANSION.match(text)
        if simple:
            return self.variable(simple.group(1), quoted=quoted)
        element = _ELEMENT_EXPANSION.match(text)
        if element:
            return self.variables.element(element.group(1), element.group(2), quoted=quoted)
        indirect = _INDIRECT_EXPANSION.match(text)
        if indirect:
            return self.variables.indirect(indirect.group(1))
        default = _DEFAULT_EXPANSION.match(text)
        if default:
            name, operator, word = default.groups()
            value = self.variable(name, quoted=quoted)
            alternative = unquoted_word(re.sub(r"[\"']", "", word))
            if operator.endswith(("-", "=")):
                value.texts = list(dict.fromkeys(value.texts + alternative.texts))
            value.dynamic = True
            return value
        names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)
        return Fragment([""], dynamic=True, literal=False, variables=names[:1])

    def prompt(self, text: str, ctx: WalkContext) -> None:
        """`${x@P}` expands x as a prompt string: the substitutions in its value run."""
        if self.collecting:
            return
        self.problem("prompt expansion (@P) runs the command substitutions in a variable's value")
        name = _NAME.search(text)
        for value, _ in (self.variables.texts(name.group()) or ()) if name else ():
            if "$(" in value or "`" in value:
                self.script(": " + value, _replace(ctx, depth=ctx.depth + 1, source="@P"))

    def substitution(self, node: Node, ctx: WalkContext) -> Fragment:
        process = node.type == "process_substitution"
        if self.collecting:
            return Fragment([""], dynamic=True, literal=False, procsub=process)
        before = len(self.commands)
        # `tee >(sh)`: the commands in `>(...)` read what the command writes there.
        written = process and self.text(node).startswith(">(")
        inner = _replace(
            ctx,
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
        output = _literal_output(produced)
        return Fragment([output or ""], dynamic=True, literal=False, sources=sources)

    def scan(self, node: Node, ctx: WalkContext) -> None:
        """Walk the commands hidden in `node` (substitutions in words, conditions, values)."""
        if self.collecting:
            return
        for child in _substitutions(node):
            self.substitution(child, ctx)

    def text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")

    # -- commands ---------------------------------------------------------------------

    def emit(
        self,
        words: list[Word],
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
        if ctx.function is not None:
            self.calls.setdefault(ctx.function, set()).add(command.program)
        self.walk_nested(expansion)

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


def _appends(assignment: Node | None) -> bool:
    """`x+=value` or `x+=(items)`: adds to what x holds."""
    if assignment is None:
        return False
    return any(not child.is_named and child.type == "+=" for child in assignment.children)


def _backgrounds(node: Node) -> bool:
    """Whether `node` puts a command in the background (a `&` terminator, not `&&` or `>&`)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "&" and not current.is_named:
            return True
        stack.extend(current.children)
    return False


def _substitutions(node: Node) -> Iterator[Node]:
    """Command and process substitutions inside `node` (or `node` itself), outermost first."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in {"command_substitution", "process_substitution"}:
            yield current
            continue
        stack.extend(reversed(current.children))


def _literal_output(commands: Sequence[SimpleCommand]) -> str | None:
    """What a stage prints when that is known: `echo`/`printf` with static words, a heredoc."""
    if len(commands) != 1:
        return None
    command = commands[0]
    if command.dynamic_program or command.dynamic_args:
        return None
    # Escapes are decoded: `echo -e`, zsh's and sh's echo and printf's format all do.
    if command.program == "echo":
        text = " ".join(a for a in command.args if not re.fullmatch(r"-[neE]+", a))
        return ansi_c(text) if "\\" in text else text
    if command.program == "printf" and command.args:
        text = " ".join(command.args)
        return ansi_c(text) if "\\" in text else text
    if command.program == "pwd":
        return "."
    if command.program == "cat" and not command.args and command.stdin_text is not None:
        return command.stdin_text
    return None


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
