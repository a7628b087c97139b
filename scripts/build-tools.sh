#!/usr/bin/env bash
# Build the local tools for TaskDash development and interop tests into
# .tools/bin/ at the repository root:
#
#   nsq         nsqd, nsqlookupd, nsq_tail   (tools/nsq, github.com/nsqio/nsq)
#   ferretdb    ferretdb                     (tools/ferretdb, github.com/FerretDB/FerretDB)
#   refservice  taskdash-refservice          (interop/refservice)
#   loadgen     taskdash-loadgen             (bench/loadgen, HTTP load for `make bench`)
#
# Usage: scripts/build-tools.sh [nsq] [ferretdb] [refservice] [loadgen]
# Without arguments it builds every group. A binary is built only when it is
# missing, and taskdash-refservice and taskdash-loadgen also when a file in
# their module directory is newer than the binary. Delete a binary to force
# its rebuild. Module versions and checksums come from the committed go.mod
# and go.sum files.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_dir="$repo_root/.tools/bin"
all_groups=(nsq ferretdb refservice loadgen)

usage() {
    sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Print the seconds since the epoch with millisecond precision.
now() {
    date +%s.%3N
}

# Print "name built in Ns" for a build that started at $2.
report_built() {
    awk -v name="$1" -v start="$2" -v end="$(now)" \
        'BEGIN { printf "built %s in %.1fs\n", name, end - start }'
}

# Run "go build" in module directory $1 with the remaining arguments. $2 is
# the binary name, or "" to name each binary after its package. The binaries
# go to a temporary directory first and are then moved into $bin_dir, so an
# interrupted build never leaves a partial binary that a later run would
# take as present.
go_build_into_bin() {
    local module_dir=$1 binary_name=$2
    shift 2
    local out_dir
    out_dir=$(mktemp -d "$repo_root/.tools/build.XXXXXX")
    # GOWORK=off keeps a go.work file above the module from changing versions.
    if ! (cd "$module_dir" && GOWORK=off go build -o "$out_dir/$binary_name" "$@"); then
        rm -rf "$out_dir"
        return 1
    fi
    mv -f "$out_dir"/* "$bin_dir/"
    rmdir "$out_dir"
}

build_nsq() {
    local missing=() name
    for name in nsqd nsqlookupd nsq_tail; do
        if [[ -x "$bin_dir/$name" ]]; then
            echo "up to date: $name"
        else
            missing+=("$name")
        fi
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi

    local packages=() start
    for name in "${missing[@]}"; do
        packages+=("github.com/nsqio/nsq/apps/$name")
    done
    echo "building ${missing[*]} from tools/nsq"
    start=$(now)
    go_build_into_bin "$repo_root/tools/nsq" "" "${packages[@]}"
    report_built "${missing[*]}" "$start"
}

# The ferretdb command panics at startup unless build/version/version.txt
# contains its version, and the module zip ships without that file. The panic
# message (build/version/version.go in FerretDB v1.24.2) says to create the
# file before building, so this builds from a writable copy of the module
# source with the file added. The copy keeps FerretDB's own go.mod and
# go.sum, and its dependency versions match tools/ferretdb/go.sum.
build_ferretdb() {
    if [[ -x "$bin_dir/ferretdb" ]]; then
        echo "up to date: ferretdb"
        return 0
    fi

    local module_info version module_dir start source_dir
    # go list -m reports .Dir only for a module already in the module cache, so download it first;
    # go mod download checks it against tools/ferretdb/go.sum.
    module_info=$(cd "$repo_root/tools/ferretdb" &&
        GOWORK=off go mod download github.com/FerretDB/FerretDB &&
        GOWORK=off go list -m -f '{{.Version}} {{.Dir}}' github.com/FerretDB/FerretDB)
    version=${module_info%% *}
    module_dir=${module_info#* }
    if [[ -z "$version" || ! -d "$module_dir" ]]; then
        echo "error: could not locate the github.com/FerretDB/FerretDB module source (go list printed '$module_info')" >&2
        return 1
    fi

    echo "building ferretdb $version from a copy of $module_dir"
    start=$(now)
    source_dir=$(mktemp -d "$repo_root/.tools/ferretdb-src.XXXXXX")
    cp -R "$module_dir/." "$source_dir/"
    chmod -R u+w "$source_dir"
    echo "$version" >"$source_dir/build/version/version.txt"
    # -buildvcs=false: the copy sits inside this repository, and TaskDash's git
    # commit must not be stamped into FerretDB's version information.
    if ! go_build_into_bin "$source_dir" ferretdb -buildvcs=false ./cmd/ferretdb; then
        rm -rf "$source_dir"
        return 1
    fi
    rm -rf "$source_dir"
    report_built ferretdb "$start"
}

# Build the command in this repository's Go module directory $1 (relative to
# the root) as binary $2, unless the binary exists and no file in the module
# directory is newer than it.
build_local_module() {
    local module_dir="$repo_root/$1" name=$2
    local binary="$bin_dir/$name"
    local newer=""
    if [[ -x "$binary" ]]; then
        newer=$(find "$module_dir" -type f -newer "$binary" -print -quit)
        if [[ -z "$newer" ]]; then
            echo "up to date: $name"
            return 0
        fi
        echo "rebuilding $name: ${newer#"$repo_root"/} is newer than the binary"
    else
        echo "building $name from $1"
    fi

    local start
    start=$(now)
    go_build_into_bin "$module_dir" "$name" .
    report_built "$name" "$start"
}

build_refservice() {
    build_local_module interop/refservice taskdash-refservice
}

build_loadgen() {
    build_local_module bench/loadgen taskdash-loadgen
}

main() {
    local groups=() arg group
    for arg in "$@"; do
        case "$arg" in
        -h | --help)
            usage
            return 0
            ;;
        nsq | ferretdb | refservice | loadgen)
            groups+=("$arg")
            ;;
        *)
            echo "error: unknown tool group '$arg'; expected any of: ${all_groups[*]}" >&2
            usage >&2
            return 2
            ;;
        esac
    done
    if ((${#groups[@]} == 0)); then
        groups=("${all_groups[@]}")
    fi

    if ! command -v go >/dev/null 2>&1; then
        echo "error: 'go' not found in PATH; install Go 1.24 or newer (FerretDB v1.24.2 requires it) and retry" >&2
        return 1
    fi

    mkdir -p "$bin_dir"
    for group in "${groups[@]}"; do
        "build_$group"
    done
}

main "$@"
