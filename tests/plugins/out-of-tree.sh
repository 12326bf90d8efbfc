#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install into a staging dir, build a backend out of tree against the
# installed SDK header found through pkg-config, and load it.
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/stage

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null

pcdir=$(dirname "$(find "$dest" -name mspublish-plugin.pc | head -n1)")
[ -n "$pcdir" ] || { echo "FAIL: mspublish-plugin.pc not installed"; exit 1; }
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$dest
plugindir=$(pkg-config --variable=plugindir mspublish-plugin)
# pkgconf applies the sysroot to variables too; pkg-config does not
case $plugindir in "$dest"/*) ;; *) plugindir=$dest$plugindir ;; esac
bin=$(find "$dest" -path '*/bin/mspublish' | head -n1)
conf=$(find "$dest" -path '*/mspublish/mspublish.ini' | head -n1)
[ -x "$bin" ] || { echo "FAIL: binary not installed"; exit 1; }
[ -f "$conf" ] || { echo "FAIL: mspublish.ini not installed"; exit 1; }
[ -f "$plugindir/dryrun.so" ] || { echo "FAIL: dryrun.so not in plugindir $plugindir"; exit 1; }
cmp -s "$conf" "$src/config/mspublish.ini" || { echo "FAIL: installed ini differs"; exit 1; }

# Only the entry point is exported from the shipped backends.
for so in "$plugindir"/*.so; do
	syms=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDB]/ {print $3}' | sort -u)
	if [ "$syms" != "ms_plugin_entry" ]; then
		echo "FAIL: $so exports: $syms"
		exit 1
	fi
done

cat > "$work/hello.c" <<'C'
#include <mspublish/plugin.h>
static int h_create(void **self, const struct ms_host *host)
{ static int me; (void)host; *self = &me; return MS_OK; }
static void h_destroy(void *self) { (void)self; }
static int h_login(void *self, const struct ms_login *r, struct ms_identity *w)
{ (void)self; (void)r; (void)w; return MS_OK; }
static int h_upload(void *self, const struct ms_upload *r, struct ms_upload_result *o)
{
	(void)self;
	o->files_total = r->n_files;
	o->files_sent = r->n_files;
	return MS_OK;
}
static const struct ms_backend hello = {
	.abi_version = MS_PLUGIN_ABI_VERSION, .struct_size = sizeof(struct ms_backend),
	.name = "hello", .description = "out-of-tree test backend", .caps = 0,
	.create = h_create, .destroy = h_destroy, .login = h_login, .upload_folder = h_upload,
};
MS_PLUGIN_EXPORT int ms_plugin_entry(const struct ms_backend **out, uint32_t abi)
{ (void)abi; *out = &hello; return 0; }
C
# shellcheck disable=SC2046
cc -std=c11 -pedantic -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
	$(pkg-config --cflags mspublish-plugin) -o "$plugindir/hello.so" "$work/hello.c"

out=$("$bin" --list-backends --plugin-dir "$plugindir")
echo "$out"
grep -q '^hello .*out-of-tree test backend' <<<"$out" || { echo "FAIL: hello not listed"; exit 1; }
grep -q '^dryrun ' <<<"$out" || { echo "FAIL: dryrun not listed"; exit 1; }

mkdir -p "$work/model"
echo '{}' > "$work/model/config.json"
echo '{}' > "$work/model/tokenizer_config.json"
out=$("$bin" --config /dev/null --plugin-dir "$plugindir" --backend hello \
	--repo-id alice/demo --model-dir "$work/model" --json)
echo "$out"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["status"]=="ok" and d["files_sent"]==2, d' "$out"
echo "ok: out-of-tree backend built against the installed SDK and loaded"
