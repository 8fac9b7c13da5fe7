"""Programs that talk to the network, and the local files they read or write doing it."""

from __future__ import annotations

import re

from tether.core.safety.programs.base import Findings, HandlerTable, names, parse, spec

__all__ = ["HANDLERS", "NETWORK_PROGRAMS"]

HANDLERS = HandlerTable()

NETWORK_PROGRAMS = names(
    "curl wget nc ncat netcat socat ssh scp sftp rsync ftp lftp tftp telnet http https httpie "
    "xh aria2c axel lynx links w3m elinks wscat websocat grpcurl dig nslookup host whois ping "
    "ping6 traceroute tracepath mtr nmap masscan ngrok cloudflared tailscale mosh sshpass hub"
)
"""Programs whose main job is the network (used to spot downloaded code)."""

_CURL = spec(
    "oduFHXAebcKTwxmrCEDYyzQUhti",
    "--output --data --data-raw --data-binary --data-urlencode --data-ascii --form "
    "--form-string --header --request --user-agent --referer --cookie --cookie-jar --config "
    "--upload-file --write-out --proxy --max-time --connect-timeout --retry --range "
    "--continue-at --cert --key --cacert --capath --dump-header --user --url --output-dir --json "
    "--resolve --connect-to --interface --limit-rate --max-filesize --netrc-file --proto "
    "--proto-redir --stderr --trace --trace-ascii --unix-socket --variable --time-cond --quote "
    "--oauth2-bearer --aws-sigv4 --proxy-user --socks5 --socks5-hostname --preproxy",
)
_CURL_DATA = names("-d --data --data-binary --data-urlencode --data-ascii --json -F --form")


@HANDLERS.on("curl")
def _curl(f: Findings) -> None:
    parsed = parse(f, _CURL)
    f.fact("network")
    f.option_path(
        parsed,
        (
            "-o",
            "--output",
            "-c",
            "--cookie-jar",
            "-D",
            "--dump-header",
            "--stderr",
            "--trace",
            "--trace-ascii",
            "--output-dir",
        ),
        "write",
    )
    f.option_path(
        parsed,
        ("-K", "--config", "-T", "--upload-file", "--netrc-file", "--cert", "--key", "--cacert"),
        "read",
    )
    for option in parsed.options:
        if option.value and option.name in _CURL_DATA:
            _uploaded_file(f, option.name, option.value)
    outputs = parsed.values("-o", "--output")
    if parsed.has("-O", "--remote-name", "--remote-name-all", "-J") or (
        outputs and not all(o in {"-", "/dev/null"} for o in outputs)
    ):
        f.fact("file_write")
    for _, operand in parsed.operands:
        _file_url(f, operand)
    for value in parsed.values("--url"):
        _file_url(f, value)
    f.handled_paths = True


def _uploaded_file(f: Findings, option: str, value: str) -> None:
    """`-d @file`, `-F field=@file` and `-F field=<file` send a local file."""
    if option in {"-F", "--form"}:
        match = re.search(r"=[@<]([^;]+)", value)
        if match:
            f.text_path(match.group(1), "read")
    elif value.startswith("@") and value != "@-":
        f.text_path(value[1:], "read")


def _file_url(f: Findings, url: str) -> None:
    if url.lower().startswith("file://"):
        f.text_path(url[7:] or "/", "read")


_WGET = spec(
    "OoaPiUeBtTwQlAIXDRnc",
    "--output-document --output-file --append-output --directory-prefix --input-file "
    "--user-agent --execute --base --tries --timeout --wait --quota --level --accept --reject "
    "--post-data --post-file --body-file --header --user --password --http-user --http-password "
    "--load-cookies --save-cookies --ca-certificate --certificate --private-key --method "
    "--body-data",
)


@HANDLERS.on("wget wget2")
def _wget(f: Findings) -> None:
    parsed = parse(f, _WGET)
    f.fact("network")
    f.option_path(
        parsed,
        (
            "-O",
            "--output-document",
            "-o",
            "--output-file",
            "-a",
            "--append-output",
            "--save-cookies",
            "-P",
            "--directory-prefix",
        ),
        "write",
    )
    f.option_path(
        parsed,
        (
            "-i",
            "--input-file",
            "--post-file",
            "--body-file",
            "--load-cookies",
            "--certificate",
            "--private-key",
        ),
        "read",
    )
    outputs = parsed.values("-O", "--output-document")
    quiet = outputs and all(o in {"-", "/dev/null"} for o in outputs)
    if not parsed.has("--spider") and not quiet:
        f.fact("file_write")
    for _, operand in parsed.operands:
        _file_url(f, operand)
    f.handled_paths = True


_NETCAT_EXEC = re.compile(r"^(-[a-zA-Z]*[ec]|--exec|--sh-exec|--lua-exec)$")


@HANDLERS.on("nc ncat netcat")
def _netcat(f: Findings) -> None:
    if any(_NETCAT_EXEC.match(arg) for arg in f.command.args):
        f.fact("reverse_shell", f"{f.command.text} (runs a program over the connection)")
    f.fact("network")
    f.handled_paths = True


@HANDLERS.on("socat")
def _socat(f: Findings) -> None:
    for arg in f.command.args:
        if re.match(r"^(exec|system):", arg, re.IGNORECASE):
            f.fact("reverse_shell", f"{f.command.text} (runs a program over the connection)")
        match = re.match(r"^(?:open|create|gopen|file):([^,]+)", arg, re.IGNORECASE)
        if match:
            f.text_path(match.group(1), "write")
    f.fact("network")
    f.handled_paths = True


@HANDLERS.on("ssh autossh")
def _ssh(f: Findings) -> None:
    parsed = parse(f, spec("bcDEeFIiJLlmOoPpQRSWw"))
    f.option_path(parsed, ("-i", "-F", "-E", "-S"), "read")
    f.fact("network")
    f.handled_paths = True


def is_remote(text: str) -> bool:
    """`host:path`, `user@host:path` or a URL, as scp and rsync understand them."""
    if text.startswith(("/", "./", "../", "~")):
        return False
    return bool(re.match(r"^([\w.-]+@)?[\w.-]+:|^\w+://", text))


@HANDLERS.on("scp sftp")
def _scp(f: Findings) -> None:
    parsed = parse(f, spec("cFiJlDoPS"))
    f.option_path(parsed, ("-i", "-F"), "read")
    operands = parsed.operands
    for position, (index, text) in enumerate(operands):
        if not is_remote(text):
            f.arg(index, "write" if position == len(operands) - 1 else "read")
    f.fact("network")
    f.handled_paths = True


_RSYNC = spec(
    "eBfTMt",
    "--rsh --rsync-path --exclude --include --exclude-from --include-from --files-from --filter "
    "--temp-dir --compare-dest --copy-dest --link-dest --backup-dir --suffix --chmod --chown "
    "--log-file --password-file --partial-dir --max-size --min-size --timeout --port --bwlimit",
)
_RSYNC_DELETE = names(
    "--delete --delete-before --delete-after --delete-during --delete-delay --del "
    "--remove-source-files --delete-excluded"
)


@HANDLERS.on("rsync")
def _rsync(f: Findings) -> None:
    parsed = parse(f, _RSYNC)
    operands = parsed.operands
    for position, (index, text) in enumerate(operands):
        if not is_remote(text):
            f.arg(index, "write" if position == len(operands) - 1 else "read")
    f.option_path(
        parsed, ("--exclude-from", "--include-from", "--files-from", "--password-file"), "read"
    )
    f.option_path(parsed, ("--log-file",), "write")
    f.handled_paths = True
    if any(is_remote(text) for _, text in operands):
        f.fact("network")
    if any(o.name in _RSYNC_DELETE for o in parsed.options):
        f.fact("recursive_delete", f"{f.command.text} (deletes files at the destination)")
    f.fact("file_write")


@HANDLERS.on("openssl")
def _openssl(f: Findings) -> None:
    args = f.command.args
    for index, arg in enumerate(args):
        if arg in {"-out", "-keyout"}:
            f.arg(index + 1, "write")
            f.fact("file_write")
        elif arg in {"-in", "-key", "-inkey", "-passin", "-CAfile", "-cert"}:
            f.arg(index + 1, "read")
    if args[:1] in (("s_client",), ("s_server",)):
        f.fact("network")
    f.handled_paths = True


def _network_only(f: Findings) -> None:
    f.fact("network")


for _program in NETWORK_PROGRAMS - HANDLERS.keys():
    HANDLERS[_program] = _network_only
del _program
