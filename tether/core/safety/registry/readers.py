"""Specs of the programs that read, search, list and print: files, text, the shell's builtins.

Only what is listed is vetted. Options that write, run commands or load code
are listed with their role or fact (so both spellings are known), or left out
(so they are not vetted).
"""

from __future__ import annotations

from tether.core.safety.registry.spec import Node, program

__all__ = ["SPECS"]

_HELP = "--help --version"

SPECS: dict[str, Node] = {
    # -- listing and file information ---------------------------------------------------
    **program(
        "ls gls dir",
        "-a|--all -A|--almost-all -l -h|--human-readable -1 -R|--recursive -t -S -r|--reverse "
        "-d|--directory -F|--classify=? -p -i|--inode -s|--size -n|--numeric-uid-gid -g -o -G "
        "--no-group -c -u -U -v -X -x -C -m -k -L|--dereference -H --group-directories-first "
        "--color=? --colour=? --full-time --time-style= --time= --sort= --format= "
        "--block-size= -w|--width= -T|--tabsize= -I|--ignore= --hide= --indicator-style= "
        "-N|--literal -Q|--quote-name -b|--escape -q|--hide-control-chars --si -Z|--context "
        "-B|--ignore-backups -D|--dired --author -e -O -P -W -@ -f -E " + _HELP,
        operands="l",
    ),
    **program(
        "tree",
        "-a -d -l -f -x -L= -P= -I= --gitignore --noreport -i -q -N -Q -p -u -g -s -h --si "
        "--du -D --timefmt= -F --inodes --device -v -t -c -U -r --dirsfirst --filesfirst "
        "--sort= -n -C -A -S --charset= --filelimit= --prune --matchdirs --ignore-case -J -X "
        "-H= -T= --nolinks -o=w " + _HELP,
        operands="l",
    ),
    **program(
        "stat",
        "-L|--dereference -f|--file-system -c|--format= --printf= -t|--terse -x " + _HELP,
        operands="l",
    ),
    **program(
        "file",
        "-b|--brief -i|--mime --mime-type --mime-encoding -L|--dereference "
        "-h|--no-dereference -z|--uncompress -Z -k|--keep-going -s|--special-files "
        "-E -N|--no-pad -0|--print0 -r|--raw -p|--preserve-date -F|--separator= "
        "-e|--exclude= -P|--parameter= --extension --apple -f|--files-from=r!unresolved_path "
        "-m|--magic-file=r " + _HELP,
        operands="l",
    ),
    **program(
        "du",
        "-a|--all -h|--human-readable -s|--summarize -c|--total -d|--max-depth= -k -m -b "
        "--bytes --apparent-size -x|--one-file-system -L|--dereference -P|--no-dereference "
        "-H -D -l|--count-links -S|--separate-dirs --si -t|--threshold= --time=? --time-style= "
        "--exclude= -X|--exclude-from=r -B|--block-size= -0|--null --inodes -A -g "
        "--files0-from=r!unresolved_path " + _HELP,
        operands="l",
    ),
    **program(
        "df",
        "-h|--human-readable -H --si -T|--print-type -t|--type= -x|--exclude-type= -i|--inodes "
        "-k -m -g -P|--portability -l|--local -a|--all --total --output=? -B|--block-size= "
        "--sync --no-sync " + _HELP,
        operands="l",
    ),
    **program(
        "realpath grealpath",
        "-e|--canonicalize-existing -m|--canonicalize-missing -L|--logical -P|--physical "
        "-q|--quiet -s|--strip|--no-symlinks -z|--zero --relative-to=l --relative-base=l " + _HELP,
        operands="l",
    ),
    **program(
        "readlink greadlink",
        "-f|--canonicalize -e|--canonicalize-existing -m|--canonicalize-missing "
        "-n|--no-newline -q|--quiet -s|--silent -v|--verbose -z|--zero " + _HELP,
        operands="l",
    ),
    **program("basename", "-a|--multiple -s|--suffix= -z|--zero " + _HELP, operands="v"),
    **program("dirname", "-z|--zero " + _HELP, operands="v"),
    **program("pwd", "-L -P " + _HELP, operands="-"),
    # -- reading --------------------------------------------------------------------------
    **program(
        "cat gcat",
        "-A|--show-all -b|--number-nonblank -e -E|--show-ends -n|--number -s|--squeeze-blank "
        "-t -T|--show-tabs -u -v|--show-nonprinting -l " + _HELP,
        operands="r",
    ),
    **program("tac", "-b|--before -r|--regex -s|--separator= " + _HELP, operands="r"),
    **program(
        "head ghead",
        "-n|--lines= -c|--bytes= -q|--quiet|--silent -v|--verbose -z|--zero-terminated " + _HELP,
        operands="r",
        numeric=True,
    ),
    **program(
        "tail gtail",
        "-n|--lines= -c|--bytes= -q|--quiet|--silent -v|--verbose -z|--zero-terminated -f "
        "--follow=? -F -r --retry -s|--sleep-interval= --pid= --max-unchanged-stats= " + _HELP,
        operands="r",
        numeric=True,
    ),
    **program(
        "wc gwc",
        "-l|--lines -w|--words -c|--bytes -m|--chars -L|--max-line-length "
        "--files0-from=r!unresolved_path "
        "--total= " + _HELP,
        operands="r",
    ),
    **program(
        "nl",
        "-b|--body-numbering= -d|--section-delimiter= -f|--footer-numbering= "
        "-h|--header-numbering= -i|--line-increment= -l|--join-blank-lines= "
        "-n|--number-format= -p|--no-renumber -s|--number-separator= -v|--starting-line-number= "
        "-w|--number-width= " + _HELP,
        operands="r",
    ),
    **program(
        "less",
        "-N|--LINE-NUMBERS -n|--line-numbers -S|--chop-long-lines -R|--RAW-CONTROL-CHARS "
        "-r|--raw-control-chars -i|--ignore-case -I|--IGNORE-CASE -F|--quit-if-one-screen "
        "-X|--no-init -M|--LONG-PROMPT -m|--long-prompt -E|--QUIT-AT-EOF -e|--quit-at-eof "
        "-x|--tabs= -j|--jump-target= -p|--pattern= -K|--quit-on-intr -s|--squeeze-blank-lines "
        "-o|--log-file=w -O|--LOG-FILE=w " + _HELP,
        operands="r",
        detect="pager_commands",
    ),
    **program(
        "more",
        "-d -l -f -p -c -s -u -n= " + _HELP,
        operands="r",
        numeric=True,
        detect="pager_commands",
    ),
    **program(
        "zcat gzcat bzcat xzcat zstdcat",
        "-f|--force -q|--quiet -v|--verbose -l|--list -t|--test -k|--keep -S|--suffix= " + _HELP,
        operands="r",
    ),
    **program(
        "bat batcat",
        "-p|--plain -n|--number -A|--show-all -l|--language= -H|--highlight-line= "
        "-r|--line-range= --style= --theme= --color= --paging= --decorations= --wrap= "
        "--tabs= --list-languages --list-themes -P -f|--force-colorization "
        "--file-name= --diff --diff-context= -u|--unbuffered --terminal-width= " + _HELP,
        operands="r",
    ),
    **program(
        "od",
        "-A|--address-radix= -j|--skip-bytes= -N|--read-bytes= -t|--format= -S|--strings=? "
        "-w|--width=? -v|--output-duplicates -a -b -c -d -f -i -l -o -s -x --endian= " + _HELP,
        operands="r",
    ),
    **program(
        "hexdump hd",
        "-b -c -C -d -o -x -e= -f=r -n= -s= -v -L=? " + _HELP,
        operands="r",
    ),
    **program(
        "xxd",
        "-a|-autoskip -b|-bits -C|-capitalize -c|-cols= -E|-EBCDIC -e -g|-groupsize= -i|-include "
        "-l|-len= -n|-name= -o|-offset= -p|-ps|-postscript|-plain -R= -s|-seek= -u -d "
        "-h|-help -v|-version",
        operands="r w",
        max_operands=1,
    ),
    **program(
        "strings",
        "-a|--all -d|--data -f|--print-file-name -n|--bytes= -t|--radix= -e|--encoding= "
        "-w|--include-all-whitespace -s|--output-separator= -U|--unicode= -T|--target= " + _HELP,
        operands="r",
        numeric=True,
    ),
    **program(
        "md5sum sha1sum sha224sum sha256sum sha384sum sha512sum b2sum cksum sum gmd5sum gsha256sum",
        "-b|--binary -t|--text -c|--check -z|--zero --tag --ignore-missing --quiet --status "
        "--strict -w|--warn -l|--length= -a|--algorithm= --base64 --untagged -r -s " + _HELP,
        operands="r",
    ),
    **program(
        "shasum",
        "-a|--algorithm= -b|--binary -c|--check -t|--text -U|--UNIVERSAL -0|--01 "
        "--tag -s|--status -w|--warn -q|--quiet --ignore-missing --strict -h|--help "
        "-v|--version",
        operands="r",
    ),
    **program(
        "base64 base32 basenc gbase64",
        "-d|-D|--decode -i|--ignore-garbage -w|--wrap= --base64 --base64url --base32 "
        "--base32hex --base16 --base2msbf --base2lsbf --z85 -b|--break= " + _HELP,
        operands="r",
    ),
    **program(
        "diff gdiff colordiff",
        "-u|--unified=? -U= -c|--context=? -C= -y|--side-by-side -q|--brief -s "
        "--report-identical-files -r|--recursive -N|--new-file --unidirectional-new-file "
        "-i|--ignore-case -w|--ignore-all-space -b|--ignore-space-change -B|--ignore-blank-lines "
        "-E|--ignore-tab-expansion -Z|--ignore-trailing-space --strip-trailing-cr "
        "-I|--ignore-matching-lines= -a|--text --color=? -p|--show-c-function "
        "-F|--show-function-line= --label= -t|--expand-tabs -T|--initial-tab "
        "--suppress-common-lines -W|--width= -l|--paginate -x|--exclude= -X|--exclude-from=r "
        "-S|--starting-file= --from-file=r --to-file=r -d|--minimal --speed-large-files "
        "--horizon-lines= --no-dereference --normal -n|--rcs -e|--ed -D|--ifdef= "
        "--line-format= --old-line-format= --new-line-format= --unchanged-line-format= "
        "--old-group-format= --new-group-format= --changed-group-format= "
        "--unchanged-group-format= --tabsize= --suppress-blank-empty --left-column "
        "--palette= " + _HELP,
        operands="r",
    ),
    **program(
        "cmp",
        "-b|--print-bytes -i|--ignore-initial= -l|--verbose -n|--bytes= -s|--quiet|--silent "
        + _HELP,
        operands="r",
    ),
    **program(
        "sdiff",
        "-a -b -B -d -E -H -i -I= -l -s -t -w= -W -Z --strip-trailing-cr " + _HELP,
        operands="r",
    ),
    # -- text processing ------------------------------------------------------------------
    **program(
        "sort gsort",
        "-b|--ignore-leading-blanks -d|--dictionary-order -f|--ignore-case -g "
        "--general-numeric-sort -h|--human-numeric-sort -i|--ignore-nonprinting -M "
        "--month-sort -n|--numeric-sort -R|--random-sort -r|--reverse -V|--version-sort "
        "-c|--check=? -C -k|--key= -m|--merge -o|--output=w -s|--stable -t|--field-separator= "
        "-u|--unique -z|--zero-terminated -S|--buffer-size= --parallel= --debug "
        "--sort= --random-source=r -T|--temporary-directory=w --files0-from=r!unresolved_path "
        "--batch-size= " + _HELP,
        operands="r",
    ),
    **program(
        "uniq",
        "-c|--count -d|--repeated -D|--all-repeated=? -u|--unique -i|--ignore-case "
        "-f|--skip-fields= -s|--skip-chars= -w|--check-chars= -z|--zero-terminated "
        "--group=? " + _HELP,
        operands="r w",
        numeric=True,
    ),
    **program(
        "cut",
        "-b|--bytes= -c|--characters= -d|--delimiter= -f|--fields= -s|--only-delimited "
        "--complement --output-delimiter= -n -z|--zero-terminated " + _HELP,
        operands="r",
    ),
    **program(
        "tr gtr",
        "-c|-C|--complement -d|--delete -s|--squeeze-repeats -t|--truncate-set1 " + _HELP,
        operands="v",
    ),
    **program(
        "paste",
        "-d|--delimiters= -s|--serial -z|--zero-terminated " + _HELP,
        operands="r",
    ),
    **program(
        "join",
        "-a= -e= -i|--ignore-case -j= -o= -t= -v= -1= -2= --check-order --nocheck-order "
        "--header -z|--zero-terminated " + _HELP,
        operands="r",
    ),
    **program(
        "comm",
        "-1 -2 -3 -i --check-order --nocheck-order --output-delimiter= --total "
        "-z|--zero-terminated " + _HELP,
        operands="r",
    ),
    **program(
        "column",
        "-t|--table -s|--separator= -o|--output-separator= -c|--output-width= -x|--fillrows "
        "-n|--table-name= -N|--table-columns= -R|--table-right= -H|--table-hide= "
        "-W|--table-wrap= -E|--table-noextreme= -l|--table-columns-limit= -J|--json "
        "-e|--table-noheadings -d -r|--tree= -i|--tree-id= -p|--tree-parent= -L "
        "--table-empty-lines " + _HELP,
        operands="r",
    ),
    **program("fold", "-b|--bytes -s|--spaces -w|--width= " + _HELP, operands="r", numeric=True),
    **program(
        "fmt",
        "-c|--crown-margin -p|--prefix= -s|--split-only -t|--tagged-paragraph "
        "-u|--uniform-spacing -w|--width= -g|--goal= " + _HELP,
        operands="r",
        numeric=True,
    ),
    **program(
        "expand unexpand",
        "-i|--initial -a|--all -t|--tabs= --first-only " + _HELP,
        operands="r",
        numeric=True,
    ),
    **program("rev", "-0|--zero " + _HELP, operands="r"),
    **program("seq", "-f|--format= -s|--separator= -w|--equal-width " + _HELP, operands="v"),
    **program(
        "echo",
        "-n -e -E",
        operands="v",
    ),
    **program("printf", "-v=", operands="v"),
    **program("yes", _HELP, operands="v"),
    **program("true false :", "", operands="v"),
    **program(
        "test [ [[",
        "-a -b -c -d -e -f -g -h -k -p -r -s -t -u -w -x -G -L -N -O -S -z -n -o -v -R -eq -ne "
        "-lt -le -gt -ge -ef -nt -ot",
        operands="v",
        words=True,
    ),
    **program("expr", _HELP, operands="v"),
    **program(
        "bc",
        "-l|--mathlib -q|--quiet -s|--standard -w|--warn -i|--interactive " + _HELP,
        operands="r",
    ),
    **program("sleep", _HELP, operands="v"),
    # -- information about the system and the user --------------------------------------
    **program(
        "date gdate",
        "-u|--utc|--universal -R|--rfc-email -I|--iso-8601=? --rfc-3339= -d|--date= "
        "-r|--reference=r -j -f|--file=r -v= -s|--set=!system_admin " + _HELP,
        operands="v",
        detect="clock_set",
    ),
    **program("cal ncal", "-1 -3 -y -m= -j -h -Y -A= -B= " + _HELP, operands="v"),
    **program(
        "uname",
        "-a|--all -s|--kernel-name -n|--nodename -r|--kernel-release "
        "-v|--kernel-version -m|--machine -p|--processor -i|--hardware-platform "
        "-o|--operating-system " + _HELP,
        operands="-",
    ),
    **program(
        "hostname",
        "-f|--fqdn|--long -s|--short -i|--ip-address -I|--all-ip-addresses "
        "-d|--domain -A|--all-fqdns -F|--file=r!system_admin -b|--boot!system_admin " + _HELP,
        operands="v",
        detect="host_name_set",
    ),
    **program("whoami", _HELP, operands="-"),
    **program(
        "id",
        "-u|--user -g|--group -G|--groups -n|--name -r|--real -z|--zero -a -p " + _HELP,
        operands="v",
    ),
    **program("groups", _HELP, operands="v"),
    **program("uptime", "-p|--pretty -s|--since " + _HELP, operands="-"),
    **program("nproc", "--all --ignore= " + _HELP, operands="-"),
    **program("arch", _HELP, operands="-"),
    **program(
        "lscpu",
        "-e|--extended=? -p|--parse=? -J|--json -a|--all -b|--online "
        "-c|--offline -x|--hex -y|--physical " + _HELP,
        operands="-",
    ),
    **program(
        "free",
        "-b -k -m -g -h|--human -t|--total -w|--wide -s|--seconds= "
        "-c|--count= --si --kilo --mega --giga " + _HELP,
        operands="-",
    ),
    **program(
        "ps",
        "-e -A -a -f -F -l -u= -U= -p= -C= -o= -x -w -ww -H --forest -j -L "
        "--sort= --no-headers -T -t= -g= -G= --pid= --ppid= " + _HELP,
        operands="v",
        detect="process_environment",
    ),
    **program(
        "pgrep",
        "-l|--list-name -a|--list-full -f|--full -x|--exact -i|--ignore-case "
        "-n|--newest -o|--oldest -u|--euid= -U|--uid= -P|--parent= -c|--count "
        "-d|--delimiter= -v|--inverse -g|--pgroup= -G|--group= -t|--terminal= "
        "-s|--session= " + _HELP,
        operands="v",
    ),
    **program("top", "-b -n= -d= -o= -p= -u= -H -c -i -s -l= -stats= " + _HELP, operands="-"),
    **program(
        "lsof", "-i=? -n -P -p= -u= -c= -t -a +D=l +d=l -U -l -w -F= -s=? " + _HELP, operands="l"
    ),
    **program(
        "netstat",
        "-a -n -t -u -l -p -r -i -s -e -c -W -x -v -A= -f= --tcp --udp "
        "--listening --program --numeric --all " + _HELP,
        operands="-",
    ),
    **program(
        "ss",
        "-a|--all -n|--numeric -t|--tcp -u|--udp -l|--listening -p|--processes "
        "-x|--unix -e|--extended -m|--memory -i|--info -s|--summary -4|--ipv4 "
        "-6|--ipv6 -r|--resolve -o|--options -H|--no-header -O|--oneline " + _HELP,
        operands="v",
    ),
    **program("which", "-a|--all -s " + _HELP, operands="v"),
    **program("whereis", "-b -m -s -u -l", operands="v"),
    **program("type", "-a -f -p -P -t", operands="v"),
    **program("command", "-v -V", operands="v"),
    **program(
        "locale",
        "-a|--all-locales -m|--charmaps -c|--category-name -k|--keyword-name -v|--verbose " + _HELP,
        operands="v",
    ),
    **program("getconf", "-a -v=", operands="v"),
    **program("tty", "-s|--silent|--quiet " + _HELP, operands="-"),
    **program("tput", "-T= -S -x -V", operands="v"),
    **program("clear", "-x -T= -V", operands="-"),
    **program(
        "man",
        "-k|--apropos -f|--whatis -a|--all -w|--where|--path -W -S|-s|--sections= "
        "-l|--local-file!unvetted --help -V|--version",
        operands="v",
        detect="man_files",
    ),
    **program("help", "-d -m -s", operands="v"),
    **program(
        "whatis apropos", "-l|--long -r|--regex -w|--wildcard -s|--sections= " + _HELP, operands="v"
    ),
    # -- shell builtins -------------------------------------------------------------------
    **program("cd", "-L -P -e -@", operands="c", max_operands=1, detect="cd_home"),
    **program("pushd", "-n", operands="c", max_operands=1),
    **program("popd", "-n", operands="v", max_operands=1),
    **program("dirs", "-c -l -p -v", operands="v"),
    **program("export", "-n -p -f", operands="v", detect="declared_variables"),
    **program("unset", "-f -v -n", operands="v"),
    **program(
        "set",
        # `set_options` judges the letters and `-o` names as bash reads them (`+o NAME` too);
        # `-H` (history expansion) is left out here as well.
        "-e -u -x -o= +o= -v +e +u +x +v -E -T -f +f -C +C -B +B -h +H -m +m -b -a +a -P",
        operands="v",
        detect="declared_variables set_options",
    ),
    **program("shopt", "-s -u -q -p -o", operands="v", detect="shell_options"),
    **program("wait", "-n -f -p=", operands="v"),
    **program("exit return", "", operands="v", max_operands=1),
    **program("read", "-r -s -a= -d= -e -i= -n= -N= -p= -t= -u=", operands="v"),
    # `-C CALLBACK` is shell code, evaluated every `-c` lines with the index and the line
    # appended (`help mapfile`): a command run, its text judged as `eval`'s would be.
    **program("mapfile readarray", "-d= -n= -O= -s= -t -u= -C=x -c=", operands="v"),
    **program("printenv", _HELP + " -0|--null", operands="v", detect="printed_variables"),
    # -- archives, listed -------------------------------------------------------------------
    **program(
        "tar gtar bsdtar",
        "-t|--list -c|--create -h|--dereference -v|--verbose -f|--file=r "
        "-z|--gzip|--gunzip|--ungzip -j|--bzip2 -J|--xz "
        "--zstd --lzma -a|--auto-compress --wildcards --no-wildcards --exclude= "
        "--numeric-owner -O|--to-stdout --full-time --utc -q --fast-read "
        # Options that say where: listed so their paths are named. Extracting, appending
        # and updating are not listed (a person approves them); `tar_modes` says what
        # each mode reads, writes and runs.
        "-C|--directory=d -T|--files-from=r -X|--exclude-from=r --exclude-vcs "
        "--exclude-caches --sort= -H|--format= -b|--blocking-factor= --one-file-system "
        "-K|--starting-file= -L|--tape-length= -N|--newer|--after-date= -V|--label= "
        # Programs tar starts: each runs a command of the caller's choice, which a
        # person approves in every preset.
        "-I|--use-compress-program=x!unvetted -F|--info-script|--new-volume-script=x!unvetted "
        "--to-command=x!unvetted --rsh-command=x!unvetted --rmt-command=x!unvetted "
        "--checkpoint-action=!unvetted " + _HELP,
        operands="v",
        detect="tar_modes",
    ),
    **program(
        "unzip",
        "-l!~file_write -v!~file_write -Z!~file_write -t!~file_write -p!~file_write "
        "-c!~file_write -q -qq -z -1 -2 -s -h -m -T -M "
        # Where it extracts to is named (and checked) though a person approves it.
        "-d=w!unvetted",
        operands="r v",
        facts="file_write",
    ),
    **program("zipinfo", "-1 -2 -s -m -l -v -h -M -t -T -z", operands="r v"),
}
