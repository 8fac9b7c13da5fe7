"""ApprovalPreview: what a person is asked to approve, built where the files and secrets are known.

Only the gate side can read the file an edit would change and knows which
values are credentials, so it builds one structured preview per approval:
a unified diff for Edit, MultiEdit and an existing file's Write, the first
lines of a new file, a notebook cell before and after, a shell command with
each simple command and the facts that made it ask, a URL with its host, or
the input itself, compact. Connectors only format it (`connectors/approval_view.py`).

Building a preview never fails the approval: a file that is binary, gone,
unreadable or huge gives a one-line note instead. Recognised secrets are
masked everywhere a preview shows text. It is built only when a person is
asked, never on the path of an allowed call.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tether.core.safety.analyzer import PathAnalyzer
from tether.core.safety.facts import FACTS
from tether.core.safety.pipeline import Verdict
from tether.core.safety.programs import is_secret_name
from tether.core.types import ApprovalPreview, PreviewPart

__all__ = [
    "FILE_FREE_PREVIEWS",
    "MASK",
    "ApprovalPreview",
    "PreviewPart",
    "build_preview",
    "mask_secrets",
    "note_preview",
]

MASK = "••••••"
"""What a masked secret value is shown as."""

_MAX_FILE_BYTES = 1_000_000
_MAX_DIFF_LINES = 2000
_NEW_FILE_LINES = 20
_MAX_INPUT_CHARS = 1500
_MAX_PARTS = 12
_MAX_TEXT = 20_000
_CONTEXT = 3

# Values the analyser's secret-name rule recognises, in the shapes they take in
# commands and source: `API_TOKEN=abc`, `password: "x"`, `--token abc`.
_ASSIGNMENT = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_.-]{0,63})(?P<sep>\s*(?:=|:)\s*)"
    r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^\s;&|,}\"']+)"
)
_OPTION = re.compile(
    r"(?P<name>--?[A-Za-z][A-Za-z0-9-]{0,40})(?P<sep>[ =])"
    r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^\s;&|]+)"
)
# Token shapes that are secrets whatever they are called.
_TOKENS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|glpat-[A-Za-z0-9_-]{16,}"
    r"|AIza[0-9A-Za-z_-]{30,}|\d{6,12}:[A-Za-z0-9_-]{30,})"
)
_BEARER = re.compile(r"(?i)\b(?P<scheme>bearer|basic|token)\s+(?P<value>[A-Za-z0-9._~+/=-]{8,})")
_URL_PASSWORD = re.compile(
    r"(?P<head>[a-z][a-z0-9+.-]{0,20}://[^/\s:@]{1,256}:)(?P<value>[^@\s/]{1,256})(?=@)"
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL
)


def note_preview(tool_name: str, note: str, verdict: Verdict | None = None) -> ApprovalPreview:
    """A preview that only says `note` (when nothing better could be built)."""
    return ApprovalPreview(tool_name=tool_name, kind="note", note=note, **_why(verdict))


def build_preview(
    tool_name: str,
    tool_input: Mapping[str, Any],
    verdict: Verdict | None,
    *,
    project: Path | str | None = None,
    paths: PathAnalyzer | None = None,
) -> ApprovalPreview:
    """The preview of one call. Reads files (run it in a thread); never raises.

    `project` is the directory paths are shown relative to; `paths` recognises
    credential files, whose values are all masked.
    """
    root = Path(project).expanduser() if project else None
    try:
        builder = _BUILDERS.get(tool_name, _input_preview)
        return builder(tool_name, tool_input, verdict, root, paths or PathAnalyzer())
    except Exception as error:  # noqa: BLE001 - a preview that fails must not fail the approval
        return note_preview(
            tool_name, f"no preview could be built ({type(error).__name__})", verdict
        )


# -- builders ---------------------------------------------------------------------------

_Builder = Callable[
    [str, Mapping[str, Any], Verdict | None, Path | None, PathAnalyzer], ApprovalPreview
]


def _edit_preview(
    tool_name: str,
    tool_input: Mapping[str, Any],
    verdict: Verdict | None,
    root: Path | None,
    paths: PathAnalyzer,
) -> ApprovalPreview:
    target = str(tool_input.get("file_path") or "")
    shown = _relative(target, root)
    if tool_name == "MultiEdit":
        raw = tool_input.get("edits")
        edits = [e for e in raw if isinstance(e, Mapping)] if isinstance(raw, list) else []
    else:
        edits = [tool_input]
    secret = paths.credential_reason(target) is not None
    current, problem = _read_text(target, root)
    if current is None:
        # Show the change itself, so the person still sees what would be written.
        before = "\n".join(str(e.get("old_string") or "") for e in edits)
        after = "\n".join(str(e.get("new_string") or "") for e in edits)
        return _diff_result(
            tool_name, shown, before, after, f"{problem}; the change alone:", verdict, secret
        )
    after_text = current
    missing = 0
    for edit in edits:
        old, new = str(edit.get("old_string") or ""), str(edit.get("new_string") or "")
        if not old or old not in after_text:
            missing += 1
            continue
        count = -1 if edit.get("replace_all") is True else 1
        after_text = after_text.replace(old, new, count)
    note = ""
    if missing:
        note = f"{missing} of {len(edits)} edit(s) do not match the file as it is now"
    return _diff_result(tool_name, shown, current, after_text, note, verdict, secret)


def _write_preview(
    tool_name: str,
    tool_input: Mapping[str, Any],
    verdict: Verdict | None,
    root: Path | None,
    paths: PathAnalyzer,
) -> ApprovalPreview:
    target = str(tool_input.get("file_path") or "")
    content = str(tool_input.get("content") or "")
    shown = _relative(target, root)
    secret = paths.credential_reason(target) is not None
    resolved = _resolve(target, root)
    if resolved is not None and resolved.exists():
        current, problem = _read_text(target, root)
        if current is None:
            return note_preview(tool_name, f"{shown}: {problem}", verdict).model_copy(
                update={"subject": shown}
            )
        return _diff_result(tool_name, shown, current, content, "", verdict, secret)
    lines = content.splitlines()
    head = "\n".join(lines[:_NEW_FILE_LINES])
    more = len(lines) - _NEW_FILE_LINES
    note = f"new file, {_plural(len(lines), 'line')}, {_size(len(content.encode()))}"
    if more > 0:
        note += f" (first {_NEW_FILE_LINES} lines shown)"
    return ApprovalPreview(
        tool_name=tool_name,
        kind="new_file",
        subject=shown,
        body=_mask_text(head, secret),
        note=note,
        **_why(verdict),
    )


def _notebook_preview(
    tool_name: str,
    tool_input: Mapping[str, Any],
    verdict: Verdict | None,
    root: Path | None,
    paths: PathAnalyzer,
) -> ApprovalPreview:
    target = str(tool_input.get("notebook_path") or "")
    shown = _relative(target, root)
    mode = str(tool_input.get("edit_mode") or "replace")
    new_source = "" if mode == "delete" else str(tool_input.get("new_source") or "")
    cell_id = tool_input.get("cell_id")
    label = f"{shown}, cell {cell_id}" if cell_id is not None else shown
    before = ""
    note = f"{mode} cell"
    if mode != "insert":
        text, problem = _read_text(target, root)
        if text is None:
            note = f"{problem}; the new cell alone:"
        else:
            found = _notebook_cell(text, cell_id)
            if found is None:
                note = f"cell {cell_id!r} not found in the notebook as it is now"
            else:
                before = found
    return _diff_result(tool_name, label, before, new_source, note, verdict, False)


def _bash_preview(
    tool_name: str,
    tool_input: Mapping[str, Any],
    verdict: Verdict | None,
    root: Path | None,
    paths: PathAnalyzer,
) -> ApprovalPreview:
    command = str(tool_input.get("command") or "")
    masked = mask_secrets(command[:_MAX_TEXT])
    parts: list[PreviewPart] = []
    classification = verdict.classification if verdict is not None else None
    if classification is not None:
        for part in classification.parts[:_MAX_PARTS]:
            facts = tuple(_describe_fact(f.kind, f.detail, part.text) for f in part.facts)
            parts.append(PreviewPart(text=mask_secrets(part.text)[:500], facts=facts))
        whole = tuple(_describe_fact(f.kind, f.detail) for f in classification.facts)
        if whole:
            parts.append(PreviewPart(text="(the command as a whole)", facts=whole))
    first = masked.strip().splitlines()[0] if masked.strip() else ""
    more = len(classification.parts) - _MAX_PARTS if classification is not None else 0
    note = f"{_plural(more, 'more command')} not listed" if more > 0 else ""
    description = tool_input.get("description")
    if isinstance(description, str) and description.strip() and not note:
        note = mask_secrets(description.strip())[:200]
    return ApprovalPreview(
        tool_name=tool_name,
        kind="command",
        subject=first[:200],
        body=masked,
        parts=tuple(parts),
        note=note,
        **_why(verdict),
    )


def _url_preview(
    tool_name: str,
    tool_input: Mapping[str, Any],
    verdict: Verdict | None,
    root: Path | None,
    paths: PathAnalyzer,
) -> ApprovalPreview:
    url = mask_secrets(str(tool_input.get("url") or ""))[:2000]
    try:
        host = urlsplit(url).hostname or "(no host)"
    except ValueError:
        host = "(not a valid URL)"
    prompt = tool_input.get("prompt")
    body = mask_secrets(prompt)[:500] if isinstance(prompt, str) else ""
    return ApprovalPreview(
        tool_name=tool_name,
        kind="url",
        subject=url,
        body=body,
        note=f"host {host}",
        **_why(verdict),
    )


def _input_preview(
    tool_name: str,
    tool_input: Mapping[str, Any],
    verdict: Verdict | None,
    root: Path | None,
    paths: PathAnalyzer,
) -> ApprovalPreview:
    shown = {str(k): _relative_value(v, root) for k, v in list(tool_input.items())[:30]}
    text = json.dumps(shown, ensure_ascii=False, default=repr, separators=(", ", ": "))
    text = mask_secrets(_mask_keys(text[: _MAX_INPUT_CHARS * 2]))
    if len(text) > _MAX_INPUT_CHARS:
        text = text[: _MAX_INPUT_CHARS - 1] + "…"
    subject = ""
    classification = verdict.classification if verdict is not None else None
    if classification is not None and classification.parts and classification.parts[0].text:
        subject = _relative(classification.parts[0].text, root)
    return ApprovalPreview(
        tool_name=tool_name,
        kind="input",
        subject=mask_secrets(subject)[:200],
        body=text,
        **_why(verdict),
    )


# Tools whose preview is built from the call and its verdict alone: no file is read,
# resolved or looked up, so building one cannot block (the gate builds these on the
# event loop and the others in a thread, bounded in time). Every other builder
# (edits, writes, notebooks, and the input preview, which shows paths relative to the
# resolved project) touches the file system.
FILE_FREE_PREVIEWS = frozenset({"Bash", "WebFetch"})
"""Tools whose preview reads no file (safe to build without a thread)."""

_BUILDERS: dict[str, _Builder] = {
    "Edit": _edit_preview,
    "MultiEdit": _edit_preview,
    "Write": _write_preview,
    "NotebookEdit": _notebook_preview,
    "Bash": _bash_preview,
    "WebFetch": _url_preview,
}


# -- helpers ----------------------------------------------------------------------------


def _why(verdict: Verdict | None) -> dict[str, Any]:
    if verdict is None:
        return {}
    reason = verdict.reason.split(" [", 1)[0]
    return {
        "reason": mask_secrets(reason)[:300],
        "rule": verdict.rule,
        "risk_level": verdict.risk_level.value,
        "facts": verdict.risk_facts[:8],
    }


def _diff_result(
    tool_name: str,
    subject: str,
    before: str,
    after: str,
    note: str,
    verdict: Verdict | None,
    secret: bool,
) -> ApprovalPreview:
    # A private key spans lines, so it goes before diffing; every other secret
    # sits on one line and is masked in the diff alone (cheaper than the file).
    # In a credential file every value is masked, and a changed value still
    # shows as a changed line.
    raw = _unified(
        subject,
        _PRIVATE_KEY.sub(MASK, before[: _MAX_TEXT * 50]),
        _PRIVATE_KEY.sub(MASK, after[: _MAX_TEXT * 50]),
    )
    mask = _mask_every_value if secret else mask_secrets
    diff = "\n".join(_mask_diff_line(line, mask) for line in raw.splitlines())
    if not diff:
        note = note or "no change: the text is the same"
    return ApprovalPreview(
        tool_name=tool_name, kind="diff", subject=subject, body=diff, note=note, **_why(verdict)
    )


def _mask_diff_line(line: str, mask: Callable[[str], str]) -> str:
    if line.startswith(("+++", "---", "@@")) or not line:
        return line
    return line[0] + mask(line[1:])


def _unified(subject: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(),
        after.splitlines(),
        fromfile=f"a/{subject}",
        tofile=f"b/{subject}",
        n=_CONTEXT,
        lineterm="",
    )
    out: list[str] = []
    for index, line in enumerate(lines):
        if index >= _MAX_DIFF_LINES:
            out.append(f"… (diff cut at {_MAX_DIFF_LINES} lines)")
            break
        out.append(line)
    return "\n".join(out)


def _resolve(target: str, root: Path | None) -> Path | None:
    if not target or "\x00" in target:
        return None
    path = Path(target).expanduser()
    if not path.is_absolute() and root is not None:
        path = root / path
    return path


def _read_text(target: str, root: Path | None) -> tuple[str | None, str]:
    """The file's text, or None and a one-line reason (gone, binary, huge, unreadable)."""
    path = _resolve(target, root)
    if path is None:
        return None, "no file path given"
    try:
        if not path.exists():
            return None, "the file does not exist (yet)"
        if not path.is_file():
            return None, "not a regular file"
        size = path.stat().st_size
        if size > _MAX_FILE_BYTES:
            return None, f"the file is too large to compare ({_size(size)})"
        data = path.read_bytes()
    except OSError as error:
        return None, f"the file cannot be read ({error.strerror or type(error).__name__})"
    if b"\x00" in data[:8192]:
        return None, f"binary file ({_size(len(data))}), no diff"
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError:
        return None, f"not UTF-8 text ({_size(len(data))}), no diff"


def _notebook_cell(text: str, cell_id: Any) -> str | None:
    try:
        cells = json.loads(text).get("cells")
    except (ValueError, AttributeError):
        return None
    if not isinstance(cells, list):
        return None
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        if (
            cell.get("id") == cell_id
            or (cell_id is None and index == 0)
            or str(index) == str(cell_id)
        ):
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else str(source)
    return None


def _relative(target: str, root: Path | None) -> str:
    if not target or root is None:
        return target
    try:
        path = Path(target).expanduser()
        if not path.is_absolute():
            return target
        for base in (root, root.resolve()):
            if path.is_relative_to(base):
                return str(path.relative_to(base)) or "."
    except (OSError, ValueError):
        return target
    home = Path.home()
    try:
        if path.is_relative_to(home):
            return "~/" + str(path.relative_to(home))
    except ValueError:
        pass
    return target


def _relative_value(value: Any, root: Path | None) -> Any:
    if isinstance(value, str) and value.startswith(("/", "~")):
        return _relative(value, root)
    return value


def _describe_fact(kind: str, detail: str, context: str = "") -> str:
    info = FACTS.get(kind)
    text = info.summary if info is not None else kind
    # A detail that only repeats the command it is listed under adds nothing.
    if detail and (detail in context or detail.split(" (")[0] in context):
        detail = ""
    return mask_secrets(f"{text} ({detail})" if detail else text)[:200]


def _mask_text(text: str, secret_file: bool) -> str:
    if secret_file:
        return _mask_every_value(text)
    return mask_secrets(text)


def _mask_every_value(text: str) -> str:
    """A credential file: every `name = value` keeps its name and loses its value."""
    out = []
    for line in text.splitlines():
        match = re.match(r"^(\s*(?:export\s+)?[^=:#\s][^=:]*?\s*[=:]\s*)(\S.*)$", line)
        out.append(match.group(1) + MASK if match else mask_secrets(line))
    return _PRIVATE_KEY.sub(MASK, "\n".join(out))


def _mask_keys(text: str) -> str:
    """JSON `"api_key": "…"` pairs: the analyser's secret-name rule decides."""

    def replace(match: re.Match[str]) -> str:
        return (
            match.group(0)
            if not is_secret_name(match.group(1))
            else f'"{match.group(1)}": "{MASK}"'
        )

    return re.sub(r'"([A-Za-z_][A-Za-z0-9_-]*)": "(?:[^"\\]|\\.)*"', replace, text)


def mask_secrets(text: str) -> str:
    """`text` with the values Tether recognises as credentials replaced by `MASK`.

    Recognised: assignments and options whose name the analyser calls secret
    (`GITHUB_TOKEN=…`, `password: …`, `--api-key …`), bearer and basic
    credentials, passwords in URLs, private keys, and well-known token shapes
    (GitHub, OpenAI/Anthropic, Slack, AWS, GitLab, Google, Telegram bots).
    """
    if not text:
        return text
    text = _PRIVATE_KEY.sub(MASK, text)
    text = _TOKENS.sub(MASK, text)
    text = _BEARER.sub(lambda m: f"{m.group('scheme')} {MASK}", text)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    text = _ASSIGNMENT.sub(_masked_pair, text)
    return _OPTION.sub(_masked_pair, text)


def _masked_pair(match: re.Match[str]) -> str:
    name = match.group("name").lstrip("-").replace("-", "_").replace(".", "_")
    value = match.group("value")
    if value == MASK or not is_secret_name(name):
        return match.group(0)
    if value.startswith(("$", '"$')):
        return match.group(0)  # a reference to a variable is not the secret itself
    return f"{match.group('name')}{match.group('sep')}{MASK}"


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / 1024 / 1024:.1f} MB"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
