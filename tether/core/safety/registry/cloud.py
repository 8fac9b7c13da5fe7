"""Specs of the cluster, infrastructure and cloud CLIs, and the object-store clients.

Every call here talks to something outside the machine (`network`); none is
allowed without a person. The specs say more:

- global options with their values, so an option value is never taken for a
  subcommand (`kubectl -n prod delete pod x` is a delete, `aws --profile s3 s3
  rb b` a bucket removal); options that point the tool at another cluster or
  configuration (`--context`, `--kubeconfig`, `--server`) are `env_change`,
  as `KUBECONFIG=` is;
- read-only queries (`kubectl get`, `helm list`, `terraform validate`) are
  vetted option by option: an unknown option makes them `unvetted`;
- what destroys (`kubectl delete`, `helm uninstall`, `terraform destroy`,
  `apply -destroy`, every object store's recursive remove and bucket removal)
  is `cloud_destruction`, a hard deny;
- what runs a command (`kubectl exec`, `run`, `debug`, `attach`) is
  `code_execution`; what opens the network to this machine (`port-forward`,
  `proxy`) is `network`; what changes the cluster or infrastructure is
  `container`.

Copying a credential file with any of them (`kubectl cp .kube/config pod:/`,
`aws s3 cp .env s3://b/`) is the upload rule (`dev.UPLOADS`). Operation names
of the large cloud CLIs (`aws ec2 terminate-instances`, `az group delete`) and
wildcard removes (`gsutil rm gs://b/**`) are read by the detectors in
`detect_cloud.py`.
"""

from __future__ import annotations

from tether.core.safety.registry.spec import Node, alias, program, sub, words

__all__ = ["SPECS"]

_NET = "network"
_CHANGE = "container network"
_DESTROY = "cloud_destruction network"


def _read(options: str, operands: str = "v", **extra: object) -> Node:
    """A read-only query: vetted option by option."""
    return sub(options, operands=operands, facts=_NET, **extra)  # type: ignore[arg-type]


def _acts(facts: str = _CHANGE, options: str = "", **extra: object) -> Node:
    """A subcommand that changes things: any option (its facts ask), hard denies listed."""
    return sub(options, operands="a", facts=facts, any_options=True, **extra)  # type: ignore[arg-type]


# -- kubectl, oc -----------------------------------------------------------------------------

_KUBE_GLOBAL = (
    "-n|--namespace= --context=!env_change --cluster=!env_change --user=!env_change "
    "-s|--server=!env_change --kubeconfig=!env_change --token= --as= --as-group= --as-uid= "
    "--certificate-authority= --client-certificate= --client-key= --request-timeout= "
    "--cache-dir=w -v|--v= --insecure-skip-tls-verify "
    "--tls-server-name= --password= --username= --match-server-version "
    "--warnings-as-errors --disable-compression --log-flush-frequency= -h|--help"
)
_KUBE_SELECT = (
    "-o|--output= -l|--selector= -A|--all-namespaces --field-selector= -f|--filename=r "
    "-k|--kustomize=l -R|--recursive --show-labels -L|--label-columns= --sort-by= "
    "--no-headers --chunk-size= --ignore-not-found -w|--watch --watch-only --show-kind "
    "--server-print --template= --allow-missing-template-keys --output-watch-events "
    "--subresource= --show-managed-fields --raw= --show-events"
)
_KUBE_LOGS = (
    "-f|--follow -c|--container= --all-containers -p|--previous --since= --since-time= "
    "--tail= --timestamps --prefix -l|--selector= --max-log-requests= --limit-bytes= "
    "--pod-running-timeout= --ignore-errors --insecure-skip-tls-verify-backend"
)

_KUBE_SUBS: dict[str, Node] = {
    **alias(_read(_KUBE_SELECT), "get", "describe", "events"),
    "logs": _read(_KUBE_LOGS),
    "top": sub(
        "",
        operands="-",
        subs={
            **alias(
                _read(
                    "-l|--selector= -A|--all-namespaces --containers --no-headers --sort-by= "
                    "--sum --use-protocol-buffers --show-capacity --field-selector="
                ),
                "pod",
                "pods",
                "po",
                "node",
                "nodes",
                "no",
            )
        },
    ),
    "explain": _read("--recursive --api-version= --output="),
    "version": _read("--client -o|--output= --short", operands="-"),
    "api-resources": _read(
        "--api-group= --cached --namespaced= --no-headers -o|--output= --sort-by= --verbs= "
        "--categories=",
        operands="-",
    ),
    "api-versions": _read("", operands="-"),
    "cluster-info": _read("", operands="-", subs={"dump": _acts(_NET, "--output-directory=w")}),
    "config": sub(
        "--kubeconfig=r",
        operands="-",
        subs={
            **alias(_read("-o|--output= --no-headers", operands="-"), "get-contexts"),
            **alias(_read("", operands="-"), "current-context", "get-clusters", "get-users"),
            # `config view --raw` prints the cluster credentials (detect_cloud).
            "view": _read(
                "--minify --flatten -o|--output= --template= --merge= --raw=?", operands="-"
            ),
            **{
                word: _acts("env_change")
                for word in words(
                    "use-context use set set-context set-cluster set-credentials "
                    "delete-context delete-cluster delete-user unset rename-context"
                )
            },
        },
    ),
    "auth": sub(
        "",
        operands="-",
        subs={
            "can-i": _read("-A|--all-namespaces --list --no-headers -q|--quiet --subresource="),
            "whoami": _read("-o|--output=", operands="-"),
            "reconcile": _acts(),
        },
    ),
    "completion": sub("", operands="v"),
    "diff": _read(
        "-f|--filename=r -k|--kustomize=l -R|--recursive -l|--selector= "
        "--server-side --field-manager= --force-conflicts --prune"
    ),
    "wait": _read(
        "--for= --timeout= -l|--selector= --all -A|--all-namespaces -f|--filename=r "
        "--field-selector= -o|--output="
    ),
    "kustomize": _read("-o|--output=w --enable-helm!code_execution --load-restrictor=", "l"),
    "plugin": sub("", operands="-", subs={"list": _read("--name-only", operands="-")}),
    "delete": _acts(_DESTROY),
    **alias(_acts("container network code_execution"), "exec", "run", "debug", "attach"),
    **alias(_acts(_NET), "port-forward", "proxy"),
    "cp": _acts(),
}
for _word in words(
    "apply create edit patch replace scale autoscale rollout label annotate set expose "
    "drain cordon uncordon taint certificate"
):
    _KUBE_SUBS[_word] = _acts()
del _word

# -- helm ------------------------------------------------------------------------------------

_HELM_GLOBAL = (
    "-n|--namespace= --kube-context=!env_change --kubeconfig=!env_change "
    "--kube-apiserver=!env_change --kube-token= --kube-as-user= --kube-as-group= "
    "--kube-ca-file= --kube-insecure-skip-tls-verify "
    "--kube-tls-server-name= --registry-config= --repository-config= "
    "--repository-cache=w --burst-limit= --qps= --debug -h|--help"
)
_HELM_LIST = (
    "-a|--all -A|--all-namespaces -o|--output= -q|--short -f|--filter= --deployed --failed "
    "--pending --uninstalled --uninstalling --superseded -m|--max= --offset= -r|--reverse "
    "-d|--date --no-headers --time-format= -l|--selector="
)
_HELM_SUBS: dict[str, Node] = {
    **alias(_read(_HELM_LIST, operands="-"), "list", "ls"),
    "status": _read("--revision= -o|--output= --show-desc --show-resources"),
    **alias(_read("--max= -o|--output="), "history", "hist"),
    "get": sub(
        "",
        operands="-",
        subs={
            word: _read("--revision= -o|--output= -a|--all --template=")
            for word in ("all", "hooks", "manifest", "notes", "values", "metadata")
        },
    ),
    **alias(
        sub(
            "",
            operands="-",
            subs={
                word: _read("--version= --devel --repo= --insecure-skip-tls-verify --jsonpath=")
                for word in ("all", "chart", "readme", "values", "crds")
            },
        ),
        "show",
        "inspect",
    ),
    "search": sub(
        "",
        operands="-",
        subs={
            w: _read("-o|--output= --max-col-width= --devel --version= -r|--regexp -l|--versions")
            for w in ("hub", "repo")
        },
    ),
    "lint": _read("--strict --with-subcharts -f|--values=r --set= --quiet", "r"),
    "version": _read("--short --template=", operands="-"),
    "env": _read("", operands="v"),
    "repo": sub(
        "", operands="-", subs={**alias(_read("-o|--output=", operands="-"), "list", "ls")}
    ),
    "dependency": sub(
        "", operands="-", subs={**alias(_read("--max-col-width=", "r"), "list", "ls")}
    ),
    "plugin": sub(
        "",
        operands="-",
        subs={
            **alias(_read("", operands="-"), "list", "ls"),
            **alias(_acts("package_install code_execution network"), "install", "update", "add"),
        },
    ),
    **alias(_acts(_DESTROY), "uninstall", "delete", "del", "un"),
}
for _word in words(
    "install upgrade rollback test pull fetch push package create template registry "
    "completion verify"
):
    _HELM_SUBS[_word] = _acts()
_HELM_SUBS["repo"].subs.update(
    {w: _acts(_NET) for w in ("add", "remove", "rm", "update", "up", "index")}
)
_HELM_SUBS["dependency"].subs.update({w: _acts(_NET) for w in ("update", "up", "build")})
del _word

# -- terraform, tofu -------------------------------------------------------------------------

_TF_VARS = "-var= -var-file= -no-color -input= -lock= -lock-timeout= -compact-warnings -json"
_TF_SUBS: dict[str, Node] = {
    "version": sub("-json", operands="-", words=True),
    "validate": sub("-json -no-color -no-tests -test-directory=l", operands="-", words=True),
    "fmt": sub(
        "-check!~file_write -list= -write= -diff -recursive -no-color",
        operands="r",
        facts="file_write",
        words=True,
    ),
    "providers": sub("", operands="-", words=True),
    "graph": sub("-type= -plan=r -draw-cycles -module-depth=", operands="-", words=True),
    # Outputs marked sensitive are printed in clear by -json and -raw.
    "output": sub(
        "-json!secrets_read -raw!secrets_read -no-color -state=", operands="v", words=True
    ),
    "show": sub("-json -no-color", operands="r", facts="secrets_read", words=True),
    "workspace": sub(
        "",
        operands="-",
        subs={
            **alias(sub("", operands="-", words=True), "list", "show"),
            "delete": _acts(_DESTROY),
            **alias(_acts(), "new", "select"),
        },
    ),
    "state": sub(
        "",
        operands="-",
        subs={
            "list": sub("-state= -id=", operands="v", words=True),
            "show": sub("-state=", operands="v", facts="secrets_read", words=True),
            **alias(_acts(), "mv", "rm", "push", "pull", "replace-provider"),
        },
    ),
    "plan": _acts(_NET, "-out=w -destroy " + _TF_VARS, words=True),
    "apply": _acts(_CHANGE, "-destroy!cloud_destruction -auto-approve " + _TF_VARS, words=True),
    "destroy": _acts(_DESTROY),
    **alias(_acts("package_install network"), "init", "get"),
    **alias(_acts(), "import", "taint", "untaint", "refresh", "force-unlock", "test"),
    **alias(_acts("secrets_read network"), "login", "logout"),
    "console": _acts("inline_code"),
}

# -- aws, gcloud, az: services are too many to list; operations are read by a detector -------

_AWS_GLOBAL = (
    "--profile=!env_change --region= --output= --endpoint-url= --no-sign-request --debug "
    "--no-paginate --query= --color= --no-cli-pager --cli-input-json= --cli-input-yaml= "
    "--ca-bundle=r --cli-read-timeout= --cli-connect-timeout= --no-verify-ssl --cli-binary-format= "
    "--page-size= --max-items= --starting-token= --version --help"
)
_RECURSIVE_DESTROY = "-r|-R|--recursive!cloud_destruction"
_GCLOUD_GLOBAL = (
    "--project= --account=!env_change --configuration=!env_change --format= --verbosity= "
    "--impersonate-service-account=!env_change --billing-project= -q|--quiet --log-http "
    "--flags-file=r --access-token-file=!env_change --trace-token= --user-output-enabled= --help "
    "--version --region= --zone= --filter= --limit= --sort-by= --page-size= --uri"
)
_AZ_GLOBAL = "--subscription= -o|--output= --query= --only-show-errors --debug --verbose -h|--help"

# -- object stores ---------------------------------------------------------------------------

_RCLONE_GLOBAL = (
    "--config=!env_change -v|--verbose -q|--quiet -n|--dry-run!~cloud_destruction -P|--progress "
    "--include= --exclude= --filter= --include-from=r --exclude-from=r --filter-from=r "
    "--files-from=r --max-depth= --transfers= --checkers= --log-file=w --log-level= "
    "--bwlimit= -i|--interactive --fast-list --stats= --retries= --min-age= --max-age= "
    "--min-size= --max-size= -h|--help"
)

SPECS: dict[str, Node] = {
    # Forges: every call talks to the forge; `-R owner/repo` is a value, so
    # `gh -R o/r gist create .env` is still a gist of `.env` (the upload rule).
    **program(
        "gh glab",
        "-R|--repo= --hostname= -h|--help --version",
        operands="v",
        facts=_NET,
        any_options=True,
        detect="secret_reads",
    ),
    **program(
        "kubectl oc",
        _KUBE_GLOBAL,
        operands="-",
        subs=_KUBE_SUBS,
        scan="kube_secrets",
        detect="cluster_changes",
    ),
    **program("helm", _HELM_GLOBAL, operands="-", subs=_HELM_SUBS),
    **program(
        "terraform tofu",
        "-chdir=d -help -version -v",
        operands="-",
        subs=_TF_SUBS,
        words=True,
        detect="infrastructure_changes",
    ),
    **program(
        "aws",
        _AWS_GLOBAL,
        operands="v",
        facts=_NET,
        any_options=True,
        subs={
            "s3": sub(
                "",
                operands="-",
                subs={
                    "ls": _read(
                        "--recursive --human-readable --summarize --page-size= "
                        "--request-payer= --bucket-name-prefix= --bucket-region="
                    ),
                    "rm": _acts(_NET, "--recursive!cloud_destruction"),
                    "rb": _acts(_DESTROY),
                    "sync": _acts(_NET, "--delete!recursive_delete"),
                    **alias(_acts(_NET), "cp", "mv", "mb", "presign", "website"),
                },
            )
        },
        scan="cloud_operations",
        detect="secret_reads cloud_destruction",
    ),
    **program(
        "gcloud",
        _GCLOUD_GLOBAL,
        operands="v",
        facts=_NET,
        any_options=True,
        subs={
            "storage": sub(
                "",
                operands="v",
                facts=_NET,
                any_options=True,
                subs={
                    "rm": _acts(_NET, _RECURSIVE_DESTROY + " -a|--all-versions"),
                    "rsync": _acts(_NET, "--delete-unmatched-destination-objects!recursive_delete"),
                    **alias(
                        _read(
                            "-r|-R|--recursive -l|--long -a|--all-versions --buckets "
                            "--readable-sizes -e|--etag"
                        ),
                        "ls",
                        "du",
                    ),
                    **alias(_acts(_NET), "cp", "mv", "cat"),
                },
            )
        },
        scan="cloud_operations object_store_wildcards",
        detect="secret_reads cloud_destruction",
    ),
    **program(
        "az",
        _AZ_GLOBAL,
        operands="v",
        facts=_NET,
        any_options=True,
        scan="cloud_operations",
        detect="secret_reads cloud_destruction",
    ),
    **program(
        "gsutil",
        "-m -q -D -d -h= -o= -u= -i=",
        operands="-",
        subs={
            "rm": _acts(_NET, _RECURSIVE_DESTROY + " -a -f -I"),
            "rb": _acts(_DESTROY),
            "rsync": _acts(_NET, "-d!recursive_delete"),
            **alias(_read("-r|-R -l -L -a -b -e -h -p="), "ls", "du"),
            **alias(_acts(_NET), "cp", "mv", "cat", "mb", "stat", "hash"),
        },
        scan="object_store_wildcards",
        detect="bucket_removal",
    ),
    **program(
        "rclone",
        _RCLONE_GLOBAL,
        operands="-",
        subs={
            # `purge` removes a path and everything in it; `delete` every file under it.
            **alias(_acts(_DESTROY), "purge", "delete", "rmdirs"),
            **alias(_acts(_NET, "--rmdirs!cloud_destruction"), "deletefile", "rmdir", "cleanup"),
            **alias(_acts("recursive_delete network"), "sync", "bisync"),
            **alias(
                _acts(_NET),
                "copy",
                "copyto",
                "move",
                "moveto",
                "mkdir",
                "copyurl",
                "mount",
                "serve",
                "rcat",
            ),
            **alias(
                _read(
                    "--recursive -R --max-depth= --dirs-only --files-only --format= "
                    "--absolute --human-readable"
                ),
                "ls",
                "lsd",
                "lsl",
                "lsf",
                "lsjson",
                "size",
                "tree",
                "cat",
                "about",
                "version",
            ),
            "listremotes": sub("--long", operands="-"),
            "config": sub("", operands="-", subs={"show": _read(""), "file": _read("")}),
        },
    ),
    **program(
        "mc mcli",
        "--json --no-color -q|--quiet --debug --insecure -C|--config-dir=!env_change "
        "--disable-pager",
        operands="-",
        subs={
            "rm": _acts(
                _NET,
                "-r|--recursive!cloud_destruction --versions --incomplete -I "
                "--dangerous!cloud_destruction --older-than= --newer-than= --force --bypass "
                "--non-current --purge!cloud_destruction",
            ),
            "rb": _acts(_DESTROY),
            "mirror": _acts(_NET, "--remove!recursive_delete --overwrite!recursive_delete"),
            **alias(_acts(_NET), "cp", "mv", "mb", "put", "pipe", "share", "tag", "retention"),
            **alias(
                _read("-r|--recursive --versions --incomplete -I --rewind= --summarize"),
                "ls",
                "du",
                "cat",
                "head",
                "stat",
                "tree",
                "find",
                "diff",
            ),
        },
    ),
    **program(
        "s3cmd",
        "-c|--config=!env_change -r|--recursive -f|--force --dry-run -v|--verbose -q|--quiet "
        "--exclude= --include= --delete-removed!recursive_delete --progress "
        "--no-progress -h|--help --version",
        operands="-",
        subs={
            **alias(_acts(_NET, "-r|--recursive!cloud_destruction --force"), "del", "rm"),
            "rb": _acts(_DESTROY),
            **alias(_acts(_NET), "put", "get", "sync", "cp", "mv", "mb", "setacl", "info"),
            **alias(_read("", "v"), "ls", "la", "du"),
        },
    ),
    **program(
        "s5cmd",
        "--endpoint-url= --credentials-file=!env_change --profile= --dry-run --json --log= "
        "--numworkers= -r|--retry-count= --no-sign-request -h|--help",
        operands="-",
        subs={
            **alias(_acts(_NET, "--all-versions --version-id= --raw --exclude="), "rm"),
            "rb": _acts(_DESTROY),
            **alias(_acts(_NET, "--delete!recursive_delete"), "sync"),
            **alias(_acts(_NET), "cp", "mv", "mb", "pipe", "cat"),
            **alias(_read("-e|--etag -H|--humanize -s|--storage-class"), "ls", "du"),
        },
        scan="object_store_wildcards",
    ),
    **program(
        "azcopy",
        "--log-level= --output-type= -h|--help",
        operands="-",
        subs={
            **alias(_acts(_NET, "--recursive=?!cloud_destruction"), "remove", "rm"),
            **alias(_acts(_NET, "--delete-destination=?!recursive_delete"), "sync"),
            **alias(_acts(_NET), "copy", "cp", "make"),
            **alias(_read("--machine-readable --running-tally --mega-units"), "list", "ls"),
        },
    ),
    **program(
        "b2",
        "-h|--help --version",
        operands="-",
        subs={
            "rm": _acts(_NET, "-r|--recursive!cloud_destruction --versions"),
            **alias(_acts(_DESTROY), "delete-bucket", "bucket-delete"),
            **alias(_acts(_NET), "upload-file", "file-upload", "sync", "download-file", "cp"),
            "ls": _read("-r|--recursive -l|--long --json --versions --with-wildcard"),
        },
    ),
}
"""Program name -> spec."""
