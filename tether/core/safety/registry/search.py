"""Specs of the search and text-program tools: grep, ripgrep, find, fd, sed, awk, jq, yq.

Their scripts (sed, awk, jq programs) are vetted by code in `scripts.py`:
data cannot say which parts of a language run commands.
"""

from __future__ import annotations

from tether.core.safety.registry.spec import Node, program

__all__ = ["SPECS"]

_HELP = "--help --version"

_GREP = (
    "-i|-y|--ignore-case --no-ignore-case -v|--invert-match -w|--word-regexp -x|--line-regexp "
    "-c|--count --color=? --colour=? -L|--files-without-match -l|--files-with-matches "
    "-m|--max-count= -o|--only-matching -q|--quiet|--silent -s|--no-messages -b|--byte-offset "
    "-H|--with-filename -h|--no-filename --label= -n|--line-number -T|--initial-tab -Z|--null "
    "-A|--after-context= -B|--before-context= -C|--context= -a|--text --binary-files= "
    "-D|--devices= -d|--directories= --exclude= --exclude-from=r --exclude-dir= --include=g "
    "-r|--recursive -R|--dereference-recursive --line-buffered -U|--binary -z|--null-data "
    "-E|--extended-regexp -F|--fixed-strings -G|--basic-regexp -P|--perl-regexp "
    "-e|--regexp^= -f|--file^=r -I -V -X=!unvetted " + _HELP
)

_RG = (
    "-i|--ignore-case -S|--smart-case -s|--case-sensitive -w|--word-regexp -x|--line-regexp "
    "-v|--invert-match -c|--count --count-matches -l|--files-with-matches "
    "--files-without-match --files^ -n|--line-number -N|--no-line-number -H|--with-filename "
    "-I|--no-filename -o|--only-matching -A|--after-context= -B|--before-context= "
    "-C|--context= -e|--regexp^= -f|--file^=r -g|--glob=g --iglob=g --glob-case-insensitive "
    "-t|--type= -T|--type-not= --type-list^ --type-add= --type-clear= -u|--unrestricted "
    "--hidden --no-hidden --no-ignore --no-ignore-vcs --no-ignore-parent --no-ignore-dot "
    "--no-ignore-global --no-ignore-exclude --no-ignore-files --no-require-git "
    "-L|--follow -F|--fixed-strings -P|--pcre2 --engine= -U|--multiline --multiline-dotall "
    "-m|--max-count= -d|--max-depth= --max-filesize= -j|--threads= --json --vimgrep "
    "--heading --no-heading --color= --colors= -p|--pretty --sort= --sortr= --stats "
    "-q|--quiet --trim --column --no-column -0|--null -M|--max-columns= "
    "--max-columns-preview -r|--replace= --passthru|--passthrough -a|--text --binary "
    "--no-binary -z|--search-zip --ignore-file=r --ignore-file-case-insensitive --no-config "
    "--no-messages -b|--byte-offset --line-buffered --block-buffered --context-separator= "
    "--no-context-separator --field-match-separator= --field-context-separator= "
    "--path-separator= --crlf --include-zero --no-unicode --one-file-system --mmap --no-mmap "
    "-E|--encoding= --null-data --smart-case --debug --trace --no-pcre2-unicode "
    "--auto-hybrid-regex --dfa-size-limit= --regex-size-limit= --hyperlink-format= "
    "--pre=x --pre-glob= --hostname-bin=x -V|--version -h|--help"
)

_FIND = (
    "-H -L -P -D= -O0 -O1 -O2 -O3 -name= -iname= -path= -ipath= -wholename= -iwholename= "
    "-regex= -iregex= -regextype= -type= -xtype= -size= -mtime= -mmin= -atime= -amin= "
    "-ctime= -cmin= -newer=r -anewer=r -cnewer=r -newermt= -newerat= -newerct= -newermm= "
    "-user= -group= -uid= -gid= -nouser -nogroup -perm= -links= -inum= -samefile=r "
    "-lname= -ilname= -maxdepth= -mindepth= -depth -d -mount -xdev -prune -print -print0 "
    "-printf= -ls -empty -readable -writable -executable -true -false -not -and -or -a -o "
    "-follow -noleaf -ignore_readdir_race -noignore_readdir_race -quit -fstype= -used= "
    "-daystart -context= -nowarn -warn -exec=c -execdir=c -ok=c -okdir=c "
    "-delete!file_delete -fprint=w -fprint0=w -fprintf=w -fls=w -files0-from=r "
    "-help --help -version --version"
)

_FD = (
    "-H|--hidden -I|--no-ignore --no-ignore-vcs --no-ignore-parent -u|--unrestricted "
    "-s|--case-sensitive -i|--ignore-case -g|--glob --regex -F|--fixed-strings --and= "
    "-a|--absolute-path -l|--list-details -L|--follow -p|--full-path -0|--print0 "
    "-d|--max-depth= --min-depth= --exact-depth= -E|--exclude= --prune -t|--type= "
    "-e|--extension= -S|--size= --changed-within= --changed-before= --change-newer-than= "
    "--change-older-than= --newer= --older= -o|--owner= --format= -c|--color= "
    "-j|--threads= --max-results= -1 -q|--quiet --show-errors --strip-cwd-prefix=? "
    "--one-file-system --base-directory=d --path-separator= --search-path=l "
    "--ignore-file=r --hyperlink=? -x|--exec=c -X|--exec-batch=c --batch-size= "
    "-V|--version -h|--help"
)

SPECS: dict[str, Node] = {
    **program("grep egrep fgrep ggrep", _GREP, operands="v r", numeric=True),
    **program("zgrep", _GREP, operands="v r", numeric=True),
    **program("rg ripgrep", _RG, operands="v r"),
    **program(
        "ag",
        "-i|--ignore-case -s|--case-sensitive -S|--smart-case -w|--word-regexp -v|--invert-match "
        "-l|--files-with-matches -L|--files-without-matches -c|--count -Q|--literal "
        "-G|--file-search-regex= -g= --ignore= --ignore-dir= -t|--all-text -u|--unrestricted "
        "-a|--all-types --hidden -U|--skip-vcs-ignores -A|--after= -B|--before= -C|--context= "
        "--depth= -m|--max-count= -n|--norecurse --nocolor --color --column --heading "
        "--noheading --group --nogroup --numbers --nonumbers -f|--follow -o|--only-matching "
        "--vimgrep --stats -0|--null --filename --nofilename --silent --literal " + _HELP,
        operands="v r",
    ),
    **program(
        "ack ack-grep",
        "-i|--ignore-case -I --no-ignore-case -s -S|--smart-case -w|--word-regexp "
        "-v|--invert-match -l|--files-with-matches -L|--files-without-matches -c|--count "
        "-Q|--literal -h|--no-filename -H|--with-filename -n|--no-recurse -r|-R|--recurse "
        "-f -g= -o --output= -A|--after-context= -B|--before-context= -C|--context= "
        "--type= -t= -k|--known-types --ignore-dir= --noignore-dir= --color --nocolor "
        "--column --nocolumn --heading --noheading --group --nogroup --sort-files "
        "--follow --nofollow -1 --match= -m|--max-count= --noenv " + _HELP,
        operands="v r",
    ),
    # find's `--` ends only its leading options (-H -L -P -D -O): the expression follows,
    # `-fprint FILE` and all (`find -- src -fprint .git/config`).
    **program(
        "find gfind", _FIND, operands="l", words=True, detect="find_expression", dashdash=False
    ),
    **program("fd fdfind", _FD, operands="v l", detect="fd_exec"),
    **program(
        "sed gsed",
        "-n|--quiet|--silent -e|--expression^= -f|--file^=f -E|-r|--regexp-extended "
        "-s|--separate -z|--null-data -u|--unbuffered -l|--line-length= --posix --debug "
        "--sandbox -b|--binary --follow-symlinks -i|--in-place=?!file_write -I=?!file_write "
        + _HELP,
        operands="v r",
        detect="sed_program",
    ),
    **program(
        "awk gawk mawk nawk",
        "-F|--field-separator= -v|--assign= -f|--file^=f -e|--source^= --posix -P --traditional "
        "-c --re-interval -r -b|--characters-as-bytes -n|--non-decimal-data -M|--bignum "
        "-O|--optimize -s|--no-optimize -S|--sandbox --lint=? -L=? -t|--lint-old --csv -k "
        "-E|--exec^=f -i|--include=f -l|--load=f -V|--version -h|--help -W= --",
        operands="v r",
        detect="awk_program",
    ),
    **program(
        "jq gojq jaq",
        "-r|--raw-output -j|--join-output -a|--ascii-output -c|--compact-output "
        "-n|--null-input -s|--slurp -e|--exit-status -S|--sort-keys -C|--color-output "
        "-M|--monochrome-output --tab --indent= --arg== --argjson== --slurpfile==r --rawfile==r "
        "--args --jsonargs -R|--raw-input --seq --stream --stream-errors --raw-output0 "
        "--unbuffered -f|--from-file^=f -L|--library-path=f -h|--help -V|--version "
        "--yaml-input --yaml-output",
        operands="v r",
        detect="jq_filter",
    ),
    **program(
        "yq",
        "-i|--inplace!file_write -o|--output-format= -p|--input-format= -I|--indent= "
        "-r|--unwrapScalar -j|--tojson -P|--prettyPrint -C|--colors -M|--no-colors "
        "-e|--exit-status -n|--null-input -N|--no-doc --expression= --from-file=f "
        "--header-preprocess --no-header-preprocess --xml-attribute-prefix= "
        "--xml-content-name= -0|--nul-output -h|--help -V|--version",
        operands="v r",
        detect="yq_expression",
    ),
}
