"""Specs of the programs whose job is the network: transfer clients, shells, probes.

Every program here carries the `network` fact, so none is allowed without a
person; the specs say what else a call does: which option values are files
read (`curl -T .env` sends it) or written (`-o page.html`), which run a
command on this machine (`nc -e`), which options write files. What depends on
a value (`-d @file`, `host:path`, `put .env` in an sftp here-string) is left
to the detectors the specs name (`detect_network.py`).

`NETWORK_PROGRAMS` is derived from these specs: the analyzer uses it to spot
code that was just downloaded (`sh -c "$(curl …)"`).
"""

from __future__ import annotations

from tether.core.safety.registry.spec import Node, alias, program, sub, words

__all__ = ["NETWORK_PROGRAMS", "SPECS"]

_CURL = (
    "-o|--output=w -O|--remote-name!file_write --remote-name-all!file_write "
    "-J|--remote-header-name!file_write -d|--data= --data-raw= --data-binary= "
    "--data-urlencode= --data-ascii= --json= -F|--form= --form-string= -H|--header= "
    "-X|--request= -A|--user-agent= -e|--referer= -b|--cookie= -c|--cookie-jar=w "
    "-K|--config=r -T|--upload-file=r -w|--write-out= -x|--proxy= -m|--max-time= "
    "--connect-timeout= --retry= -r|--range= -C|--continue-at= -E|--cert=r --key=r "
    "--cacert=r --capath=l -D|--dump-header=w -u|--user= --url= --output-dir=w "
    "--resolve= --connect-to= --interface= -Y|--speed-limit= -y|--speed-time= "
    "--limit-rate= --max-filesize= --netrc-file=r --proto= --proto-redir= --stderr=w "
    "--trace=w --trace-ascii=w --unix-socket=r --variable= -z|--time-cond= -Q|--quote= "
    "--oauth2-bearer= --aws-sigv4= -U|--proxy-user= --socks5= --socks5-hostname= "
    "--preproxy= -t|--telnet-option= -h|--help=? -s|--silent -S|--show-error -f|--fail "
    "--fail-with-body -L|--location -i|--include -I|--head -v|--verbose -k|--insecure "
    "-G|--get -n|--netrc --compressed -#|--progress-bar -N|--no-buffer -l|--list-only "
    "-a|--append -q|--disable -V --version -g|--globoff -4|--ipv4 -6|--ipv6 "
    "-0|--http1.0 --http1.1 --http2 --http3 -Z|--parallel -R|--remote-time "
    "--create-dirs --max-redirs= --retry-delay= --retry-max-time= --retry-all-errors "
    "--tlsv1.2 --tlsv1.3 --ssl --ssl-reqd --no-progress-meter --path-as-is --raw "
    "-j|--junk-session-cookies -M|--manual -p|--proxytunnel -P|--ftp-port= "
    "-B|--use-ascii --digest --basic --ntlm --negotiate --anyauth"
)

_WGET = (
    "-O|--output-document=w!~file_write -o|--output-file=w -a|--append-output=w "
    "-P|--directory-prefix=w --save-cookies=w -i|--input-file=r --post-file=r "
    "--body-file=r --load-cookies=r --certificate=r --private-key=r --ca-certificate=r "
    "-U|--user-agent= -e|--execute= -B|--base= -t|--tries= -T|--timeout= -w|--wait= "
    "-Q|--quota= -l|--level= -A|--accept= -R|--reject= --post-data= --header= --user= "
    "--password= --http-user= --http-password= --method= --body-data= -D|--domains= "
    "-X|--exclude-directories= -I|--include-directories= -n= -c|--continue "
    "--spider!~file_write -q|--quiet -v|--verbose -nv|--no-verbose -S|--server-response "
    "-N|--timestamping -r|--recursive -m|--mirror -p|--page-requisites -k|--convert-links "
    "-np|--no-parent -nc|--no-clobber -nd|--no-directories -x|--force-directories "
    "-nH|--no-host-directories --no-check-certificate -V --version -h|--help -b|--background"
)

_NETCAT = (
    "-e|--exec=x!reverse_shell -c|--sh-exec=x!reverse_shell --lua-exec=f!reverse_shell "
    "-p|--source-port= -s|--source= -w|--wait= -i|--idle-timeout= -q= -x|--proxy= "
    "--proxy-type= --proxy-auth= -X= -T= -O= -I= -V= -M= -m= -o|--output=w "
    "--hex-dump=w --allow= --deny= --max-conns= -l|--listen -k|--keep-open -v|--verbose "
    "-n|--nodns -u|--udp -z -N -d -D -4 -6 -U|--unixsock -t|--telnet -C|--crlf "
    "--send-only --recv-only --ssl --version -h|--help"
)

_SSH = (
    "-i=r -F=r -E=w -S=r -b= -c= -D= -e= -I= -J= -L= -l= -m= -O= -o= -p= -P= -Q= "
    "-R= -W= -w= -B= -1 -2 -4 -6 -A -a -C -f -G -g -K -k -M -N -n -q -s -T -t -V -v -vv "
    "-vvv -X -x -Y -y"
)

_SCP = "-i=r -F=r -c= -J= -l= -D= -o= -P= -S= -3 -4 -6 -A -B -C -O -p -q -R -r -s -T -v"

_SFTP = "-b=f -i=r -F=r -c= -J= -l= -D= -o= -P= -R= -S= -s= -B= -4 -6 -A -a -C -f -N -p -q -r -v"

_RSYNC = (
    "-e|--rsh= --rsync-path= --exclude= --include= --exclude-from=r --include-from=r "
    "--files-from=r -f|--filter= -T|--temp-dir=w --compare-dest=r --copy-dest=r "
    "--link-dest=r --backup-dir=w --suffix= --chmod= --chown= --log-file=w "
    "--password-file=r --partial-dir=w --max-size= --min-size= --timeout= --port= "
    "--bwlimit= -B|--block-size= -M|--remote-option= -t|--times "
    "--delete!recursive_delete --delete-before!recursive_delete "
    "--delete-after!recursive_delete --delete-during!recursive_delete "
    "--delete-delay!recursive_delete --del!recursive_delete "
    "--remove-source-files!recursive_delete --delete-excluded!recursive_delete "
    "--delete-missing-args!recursive_delete"
)

_FTP = "-p= -P= -u= -s=f -d --debug -v -n -i -g -e -V -h --help --version"
_LFTP = "-c= -e= -f=f -p= -u= -d --debug -v --norc --rcfile=f -h --help --version"
_SMBCLIENT = (
    "-c|--command= -A|--authentication-file=r -U|--user= -W|--workgroup= -I|--ip-address= "
    "-p|--port= -m|--max-protocol= -D|--directory= -L|--list= -T|--tar= -b|--send-buffer= "
    "-s|--configfile=r -n|--netbiosname= -O|--socket-options= -N|--no-pass -E|--stderr "
    "-g|--grepable -q|--quiet -d|--debuglevel= --version -h|--help"
)

_OPENSSL_IO = (
    "-in=r -out=w -key=r -inkey=r -keyout=w -passin= -passout= -CAfile=r -CApath=l "
    "-cert=r -certfile=r -signkey=r -config=r -extfile=r -rand=r -writerand=w "
    "-connect= -servername= -port= -accept= -verify= -showcerts -quiet -brief "
    "-noout -text -subject -issuer -dates -fingerprint -hash -pubout -pubin -new "
    "-x509 -nodes -days= -newkey= -subj= -batch -verbose"
)

SPECS: dict[str, Node] = {
    **program(
        "curl",
        _CURL,
        operands="v",
        facts="network",
        any_options=True,
        scan="curl_sent_files file_urls",
    ),
    **program(
        "wget wget2",
        _WGET,
        operands="v",
        facts="network file_write",
        any_options=True,
        scan="file_urls",
    ),
    **program("nc ncat netcat", _NETCAT, operands="v", facts="network", any_options=True),
    **program("socat", "", operands="v", facts="network", any_options=True, scan="socat"),
    **program("ssh autossh", _SSH, operands="v", facts="network", any_options=True),
    **program("scp", _SCP, operands="v", facts="network", any_options=True, scan="remote_copy"),
    **program(
        "sftp",
        _SFTP,
        operands="v",
        facts="network",
        any_options=True,
        scan="remote_copy transfer_script",
    ),
    **program(
        "rsync",
        _RSYNC,
        operands="v",
        facts="file_write",
        any_options=True,
        scan="remote_copy",
    ),
    **program(
        "lftp", _LFTP, operands="v", facts="network", any_options=True, scan="transfer_script"
    ),
    **program(
        "smbclient",
        _SMBCLIENT,
        operands="v",
        facts="network",
        any_options=True,
        scan="transfer_script",
    ),
    **program(
        "ftp tftp ncftp pftp gftp",
        _FTP,
        operands="v",
        facts="network",
        any_options=True,
        scan="transfer_script",
    ),
    **program(
        "ncftpput",
        "-u= -p= -P= -f=r -R -m -c -z -Z -v",
        operands="v v r",
        facts="network",
        any_options=True,
    ),
    **program(
        "openssl",
        "",
        operands="-",
        subs={
            "version": sub("-a -v -b -o -f -p -d -e -m -r -c", operands="-"),
            "help": sub("", operands="v"),
            **alias(
                sub(_OPENSSL_IO, operands="v", facts="network", any_options=True, words=True),
                "s_client",
                "s_server",
                "s_time",
                "ocsp",
            ),
            **{
                word: sub(_OPENSSL_IO, operands="r", words=True)
                for word in words(
                    "x509 req rsa ec pkey genrsa genpkey dgst enc base64 rand verify crl "
                    "pkcs12 pkcs7 pkcs8 asn1parse smime cms dhparam ecparam speed "
                    "list ciphers passwd prime errstr sess_id spkac ts nseq"
                )
            },
        },
    ),
    # httpie and xh: request items `field@file`, `field=@file`, `field:=@file` send files.
    **program(
        "http https httpie xh xhs",
        "-o|--output=w -d|--download!file_write --session=w --session-read-only=r "
        "--cert=r --cert-key=r --verify= -a|--auth= -A|--auth-type= --proxy= "
        "-f|--form -j|--json -m|--multipart -b|--body -h|--headers -v|--verbose -p|--print= "
        "-q|--quiet -F|--follow --timeout= --raw= --offline -I|--ignore-stdin",
        operands="v",
        facts="network",
        any_options=True,
        scan="request_items",
    ),
    # zsh's own sockets, its `/dev/tcp`: a shell joined to a raw connection.
    **program(
        "ztcp zsocket",
        "",
        operands="v",
        facts="reverse_shell network",
        any_options=True,
    ),
    **{
        name: node
        for name in words(
            "nmap masscan telnet aria2c axel lynx links w3m elinks "
            "wscat websocat grpcurl dig nslookup host whois ping ping6 traceroute tracepath "
            "mtr ngrok cloudflared tailscale mosh sshpass hub"
        )
        for name, node in program(name, "", operands="a", facts="network", any_options=True).items()
    },
}

NETWORK_PROGRAMS: frozenset[str] = frozenset(SPECS)
"""Programs whose main job is the network (used to spot downloaded code)."""
