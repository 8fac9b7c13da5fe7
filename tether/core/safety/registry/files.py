"""Specs of the programs that write, move, delete, pack or edit files, or change their permissions.

None of these is read-only: their facts ask (or deny) on their own. The
specs still list every option they vet, so an unknown one is `unvetted`,
and say which operands and option values are files, written or deleted.
What depends on a target's value (a home directory, a disk device, a setuid
mode) is judged by the detectors they name.
"""

from __future__ import annotations

from tether.core.safety.registry.spec import Node, program, sub

__all__ = ["SPECS"]

_HELP = "--help --version"
_BACKUP = "-b --backup=? -S|--suffix= "
_COPY = (
    "-a|--archive -f|--force -i|--interactive -n|--no-clobber -v|--verbose -u|--update=? "
    "-t|--target-directory=o -T|--no-target-directory -Z --context=? --strip-trailing-slashes "
    "--debug " + _BACKUP + _HELP
)

SPECS: dict[str, Node] = {
    # -- deleting -------------------------------------------------------------------------
    **program(
        "rm grm",
        "-r|-R|--recursive -f|--force -i -I --interactive=? -d|--dir -v|--verbose "
        "--preserve-root=? --no-preserve-root --one-file-system " + _HELP,
        operands="d",
        detect="delete_targets",
    ),
    **program(
        "rmdir",
        "-p|--parents -v|--verbose --ignore-fail-on-non-empty " + _HELP,
        operands="d",
        operand_facts="file_delete",
    ),
    **program("unlink", _HELP, operands="d", operand_facts="file_delete"),
    **program(
        "shred srm wipe",
        "-n|--iterations= -s|--size= --random-source=r -u|--remove=? -z|--zero -f|--force "
        "-v|--verbose -x|--exact -r -R -q " + _HELP,
        operands="d",
        facts="disk_destruction",
    ),
    # -- copying, moving, linking -----------------------------------------------------------
    **program(
        "cp gcp",
        "-r|-R|--recursive -p --preserve=? --no-preserve= -P|--no-dereference "
        "-L|--dereference -H -d -l|--link -s|--symbolic-link -x|--one-file-system "
        "--parents --reflink=? --sparse= --attributes-only --copy-contents " + _COPY,
        operands="r $w",
        facts="file_write",
        detect="device_writes",
    ),
    **program(
        "mv gmv",
        "--exchange --no-copy " + _COPY,
        operands="d $w",
        facts="file_write",
        detect="device_writes",
    ),
    **program(
        "ln gln",
        "-s|--symbolic -f|--force -i|--interactive -n|--no-dereference -L|--logical "
        "-P|--physical -r|--relative -v|--verbose -t|--target-directory=o "
        "-T|--no-target-directory -d|-F|--directory " + _BACKUP + _HELP,
        operands="r $w",
        facts="file_write",
        detect="device_writes",
    ),
    **program(
        "install ginstall",
        "-m|--mode= -o|--owner= -g|--group= -d|--directory -D -c -C|--compare -p "
        "--preserve-timestamps -s|--strip --strip-program=x -t|--target-directory=o "
        "-T|--no-target-directory -v|--verbose -Z --context=? " + _BACKUP + _HELP,
        operands="r $w",
        facts="file_write",
        detect="device_writes",
    ),
    # -- creating and writing -----------------------------------------------------------------
    **program(
        "touch gtouch",
        "-a -c|--no-create -d|--date= -f -h|--no-dereference -m -r|--reference=r -t= "
        "--time= " + _HELP,
        operands="w",
        detect="device_writes",
    ),
    **program(
        "mkdir gmkdir",
        "-p|--parents -m|--mode= -v|--verbose -Z --context=? " + _HELP,
        operands="w",
        detect="device_writes",
    ),
    **program("mkfifo", "-m|--mode= -Z --context=? " + _HELP, operands="w"),
    **program(
        "mknod", "-m|--mode= -Z --context=? " + _HELP, operands="w v", detect="device_writes"
    ),
    **program(
        "truncate",
        "-c|--no-create -o|--io-blocks -r|--reference=r -s|--size= " + _HELP,
        operands="w",
        facts="file_write",
    ),
    **program(
        "tee",
        "-a|--append -i|--ignore-interrupts -p --output-error=? " + _HELP,
        operands="w",
        detect="device_writes",
    ),
    **program("sponge", "-a", operands="w", detect="device_writes"),
    **program(
        "dd dcfldd",
        _HELP,
        operands="v",
        keyed="if=r of=w bs= ibs= obs= cbs= count= skip= seek= iseek= oseek= conv= iflag= "
        "oflag= status=",
        detect="device_writes",
    ),
    **program(
        "split",
        "-a|--suffix-length= --additional-suffix= -b|--bytes= -C|--line-bytes= -d "
        "--numeric-suffixes=? -x --hex-suffixes=? -e|--elide-empty-files -l|--lines= "
        "-n|--number= -t|--separator= -u|--unbuffered --verbose " + _HELP,
        operands="r w",
        facts="file_write",
    ),
    **program(
        "csplit",
        "-b|--suffix-format= -f|--prefix= -k|--keep-files -n|--digits= -s|--quiet|--silent "
        "-z|--elide-empty-files --suppress-matched " + _HELP,
        operands="r v",
        facts="file_write",
    ),
    **program(
        "patch gpatch",
        "-p|--strip= -i|--input=r -o|--output=w -r|--reject-file=w -d|--directory=d "
        "-N|--forward -R|--reverse -f|--force -t|--batch -s|--quiet|--silent -b|--backup "
        "-B|--prefix= -Y|--basename-prefix= -z|--suffix= -V|--version-control= -E "
        "--remove-empty-files -l|--ignore-whitespace -F|--fuzz= -u|--unified -c|--context "
        "-n|--normal -e|--ed --binary --verbose --posix --merge=? --no-backup-if-mismatch "
        "--backup-if-mismatch --dry-run!~file_write --follow-symlinks " + _HELP,
        operands="w",
        facts="file_write",
    ),
    # -- archives and compressors ---------------------------------------------------------
    **program(
        "zip",
        "-r|--recurse-paths -q|--quiet -v|--verbose -j|--junk-paths -y|--symlinks -0 -1 -2 -3 "
        "-4 -5 -6 -7 -8 -9 -u|--update -f|--freshen -d|--delete -m|--move -x|--exclude= "
        "-i|--include= -e|--encrypt -P|--password= -b|--temp-path=w -D|--no-dir-entries "
        "-X|--no-extra -o|--latest-time -T|--test -g|--grow -n|--suffixes= -l -ll "
        "-S|--system-hidden -@ -t|--from-date= -tt|--before-date= -O|--output-file=w " + _HELP,
        operands="w r",
        facts="file_write",
    ),
    **program(
        "7z 7za 7zz",
        "-y -r -bd -bb0 -bb1 -bb2 -bb3 -so -si",
        operands="-",
        subs={
            "l": sub("-slt -ba", operands="r"),
            "t": sub("", operands="r"),
            **dict.fromkeys(("a", "u", "d", "rn"), sub("", operands="w r", facts="file_write")),
            **dict.fromkeys(("x", "e"), sub("", operands="r", facts="file_write")),
        },
    ),
    **program(
        "gzip gunzip bzip2 bunzip2 xz unxz zstd unzstd lz4 lzma unlzma compress uncompress",
        "-c|--stdout|--to-stdout!~file_write -t|--test!~file_write -l|--list!~file_write "
        "-d|--decompress|--uncompress -z|--compress -k|--keep -f|--force -r|--recursive "
        "-q|--quiet -v|--verbose -n|--no-name -N|--name -S|--suffix= -T|--threads= "
        "-0 -1 -2 -3 -4 -5 -6 -7 -8 -9 --fast --best -e|--extreme --rm " + _HELP,
        operands="w",
        operand_facts="file_write",
    ),
    # -- editors --------------------------------------------------------------------------
    **program(
        "vi vim nvim ex view rvim gvim",
        "-c= --cmd= -S=f -u=f -U=f -i=w -w=w -W=w -T= -R -M -m -n -b -e -E -s=f -d -o=? -O=? "
        "-p=? -y -Z -N -V=? -r -L -x -h -l -A -H -F -g -f --nofork --noplugin --clean "
        "--headless --not-a-term --ttyfail -q=? -t= " + _HELP,
        operands="w",
        facts="file_write",
        detect="editor_commands",
    ),
    **program(
        "emacs",
        "-nw --no-window-system -q|--no-init-file -Q|--quick --no-site-file --batch "
        "-l|--load=f --eval=!code_execution -f|--funcall=!code_execution -t= -d= " + _HELP,
        operands="w",
        facts="file_write",
    ),
    **program(
        "nano pico micro ed",
        "-v|--view -w|--nowrap -l|--linenumbers -i|--autoindent -B|--backup -m|--mouse "
        "-s= -p -G -x -R|--restricted " + _HELP,
        operands="w",
        facts="file_write",
        detect="editor_commands",
    ),
    # -- permissions ------------------------------------------------------------------------
    **program(
        "chmod",
        "-R|--recursive -c|--changes -f|--silent|--quiet -v|--verbose --preserve-root "
        "--no-preserve-root --reference^=r -H -L -P " + _HELP,
        operands="v w",
        detect="setuid_mode permission_targets",
    ),
    **program(
        "chown chgrp",
        "-R|--recursive -c|--changes -f|--silent|--quiet -v|--verbose --preserve-root "
        "--no-preserve-root --reference^=r --from= -h|--no-dereference --dereference "
        "-H -L -P " + _HELP,
        operands="v w",
        detect="permission_targets",
    ),
    **program(
        "chattr",
        # A `-i` mode looks like an option: every letter chattr takes is listed as one.
        "-R -V -f -v= -p= -a -A -c -C -d -D -e -E -F -i -j -m -P -s -S -t -T -u -x",
        operands="w",
        detect="permission_targets",
    ),
    **program(
        "setfacl",
        "-m|--modify= -M|--modify-file=r -x|--remove= -X|--remove-file=r -b|--remove-all "
        "-k|--remove-default --set= --set-file=r --mask -n|--no-mask -d|--default "
        "--restore=r --test -R|--recursive -L|--logical -P|--physical -v|--version "
        "-h|--help",
        operands="w",
        detect="permission_targets",
    ),
}
