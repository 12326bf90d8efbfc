/* SPDX-License-Identifier: MIT */
/*
 * Finding, opening and checking backend plugins.  Each failure is one line
 * that names the backend and the file, and says what to do.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "loader.h"
#include "ms_config.h"

int ms_loader_check_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > 32)
		return ms_error_set(MS_EINVAL, "backend name \"%s\" must be 1 to 32 characters",
				    name ? name : "");
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return ms_error_set(MS_EINVAL,
					    "backend name \"%s\" may only use a-z, 0-9 and '-'",
					    name);
	return MS_OK;
}

void ms_loader_caps_str(char *buf, size_t len, uint32_t caps)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ MS_CAP_NETWORK, "network" }, { MS_CAP_LFS, "lfs" },
		{ MS_CAP_RESUME, "resume" },   { MS_CAP_DELETE, "delete" },
		{ MS_CAP_PLAN, "plan" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(caps & names[i].bit))
			continue;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 used ? "," : "", names[i].name);
	}
	if (!used)
		snprintf(buf, len, "-");
}

/*
 * The build tree's plugin folders, when this binary is the one in the build
 * tree (so a fresh build runs without installing).  NULL otherwise.
 */
static char *build_tree_dirs(void)
{
	char exe[PATH_MAX], want[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *out = NULL;
	size_t used = 0, cap = 0;
	DIR *d;
	struct dirent *e;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	snprintf(want, sizeof(want), "%s/core/mspublish", MS_BUILD_ROOT);
	if (strcmp(exe, want))
		return NULL;
	snprintf(want, sizeof(want), "%s/plugins", MS_BUILD_ROOT);
	d = opendir(want);
	if (!d)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		size_t need;

		if (e->d_name[0] == '.')
			continue;
		need = strlen(want) + strlen(e->d_name) + 3;
		if (used + need > cap) {
			char *g = realloc(out, cap + need + 256);

			if (!g)
				break;
			out = g;
			cap += need + 256;
		}
		used += (size_t)sprintf(out + used, "%s%s/%s", used ? ":" : "", want, e->d_name);
	}
	closedir(d);
	return out;
}

/* The search path: dirs, the build tree, the installed directory. */
static char *search_path(const char *dirs)
{
	char *bt = build_tree_dirs(), *out = NULL;

	if (asprintf(&out, "%s%s%s%s%s", dirs && *dirs ? dirs : "",
		     dirs && *dirs ? ":" : "", bt ? bt : "", bt ? ":" : "",
		     MS_PLUGINDIR) < 0)
		out = NULL;
	free(bt);
	return out;
}

/* The first <dir>/<name>.so that is a regular file, or NULL. */
static char *find_file(const char *path_list, const char *name)
{
	char *list = strdup(path_list), *save = NULL, *dir;
	char *found = NULL;

	for (dir = list ? strtok_r(list, ":", &save) : NULL; dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *cand;
		struct stat st;

		if (asprintf(&cand, "%s/%s.so", dir, name) < 0)
			break;
		if (!stat(cand, &st) && S_ISREG(st.st_mode))
			found = cand;
		else
			free(cand);
	}
	free(list);
	return found;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Names of the backends found on the path, for error messages. */
static void available(char *buf, size_t len, const char *path_list)
{
	char *list = strdup(path_list), *save = NULL, *dir;
	char names[64][40];
	size_t n = 0, used = 0;

	buf[0] = '\0';
	for (dir = list ? strtok_r(list, ":", &save) : NULL; dir;
	     dir = strtok_r(NULL, ":", &save)) {
		DIR *d = opendir(dir);
		struct dirent *e;

		while (d && (e = readdir(d)) != NULL && n < 64) {
			size_t l = strlen(e->d_name);
			bool dup = false;

			if (l < 4 || l > 35 || strcmp(e->d_name + l - 3, ".so"))
				continue;
			snprintf(names[n], sizeof(names[n]), "%.*s", (int)(l - 3), e->d_name);
			if (ms_loader_check_name(names[n]))
				continue;
			for (size_t i = 0; i < n; i++)
				dup = dup || !strcmp(names[i], names[n]);
			if (!dup)
				n++;
		}
		if (d)
			closedir(d);
	}
	free(list);
	ms_error_clear();
	qsort(names, n, sizeof(names[0]), cmp_name);
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 i ? ", " : "", names[i]);
	if (!n)
		snprintf(buf, len, "none found");
}

static const char *missing_method(const struct ms_backend *b)
{
	if (!b->create)
		return "create";
	if (!b->destroy)
		return "destroy";
	if (!b->login)
		return "login";
	if (!b->upload_folder)
		return "upload_folder";
	if (!b->name)
		return "name";
	return NULL;
}

/* Open and check one file; the caller has validated the name. */
static int open_file(struct ms_plugin **out, const char *name, const char *file)
{
	struct ms_plugin *p = calloc(1, sizeof(*p));
	const struct ms_backend *b = NULL;
	ms_plugin_entry_fn entry;
	const char *what;
	void *sym;
	int rc;

	*out = NULL;
	if (!p)
		return ms_error_set(MS_ENOMEM, "out of memory");
	p->path = strdup(file);
	p->handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!p->handle) {
		rc = ms_error_set(MS_EABI,
				  "cannot load backend \"%s\" from %s: %s; check its libraries with: ldd %s",
				  name, file, dlerror(), file);
		goto fail;
	}
	sym = dlsym(p->handle, MS_PLUGIN_ENTRY_SYMBOL);
	if (!sym) {
		rc = ms_error_set(MS_EABI, "%s is not an mspublish backend (no %s)", file,
				  MS_PLUGIN_ENTRY_SYMBOL);
		goto fail;
	}
	/* dlsym hands back an object pointer; POSIX makes it callable */
	*(void **)&entry = sym;
	rc = entry(&b, MS_PLUGIN_ABI_VERSION);
	if (rc || !b) {
		rc = ms_error_set(MS_EABI, "backend \"%s\" in %s refused to load (entry returned %d)",
				  name, file, rc);
		goto fail;
	}
	if (b->abi_version != MS_PLUGIN_ABI_VERSION) {
		rc = ms_error_set(MS_EABI,
				  "backend \"%s\" in %s was built for plugin ABI %u, this mspublish speaks %u; rebuild it",
				  name, file, b->abi_version, MS_PLUGIN_ABI_VERSION);
		goto fail;
	}
	if (b->struct_size < offsetof(struct ms_backend, upload_folder) + sizeof(b->upload_folder)) {
		rc = ms_error_set(MS_EABI, "backend \"%s\" in %s has a vtable of %u bytes, too small",
				  name, file, b->struct_size);
		goto fail;
	}
	what = missing_method(b);
	if (what) {
		rc = ms_error_set(MS_EABI, "backend \"%s\" in %s lacks the required member %s",
				  name, file, what);
		goto fail;
	}
	if (strcmp(b->name, name)) {
		rc = ms_error_set(MS_EABI, "%s calls itself \"%s\", not \"%s\"; rename the file",
				  file, b->name, name);
		goto fail;
	}
	p->backend = b;
	*out = p;
	return MS_OK;
fail:
	ms_loader_close(p);
	return rc;
}

int ms_loader_open(struct ms_plugin **out, const char *name, const char *dirs)
{
	char *path = NULL, *file = NULL, avail[512];
	int rc;

	*out = NULL;
	rc = ms_loader_check_name(name);
	if (rc)
		return rc;
	path = search_path(dirs);
	if (!path)
		return ms_error_set(MS_ENOMEM, "out of memory");
	file = find_file(path, name);
	if (!file) {
		available(avail, sizeof(avail), path);
		rc = ms_error_set(MS_ENOTFOUND, "unknown backend \"%s\" (available: %s; searched %s)",
				  name, avail, path);
		goto out;
	}
	rc = open_file(out, name, file);
out:
	free(file);
	free(path);
	return rc;
}

bool ms_loader_exists(const char *name, const char *dirs)
{
	char *path = search_path(dirs), *file;
	bool found;

	if (!path)
		return false;
	file = find_file(path, name);
	found = file != NULL;
	free(file);
	free(path);
	return found;
}

void ms_loader_names(char *buf, size_t len, const char *dirs)
{
	char *path = search_path(dirs);

	if (!path) {
		snprintf(buf, len, "none found");
		return;
	}
	available(buf, len, path);
	free(path);
}

void ms_loader_close(struct ms_plugin *p)
{
	const char *keep = getenv("MSPUBLISH_NO_DLCLOSE");

	if (!p)
		return;
	/* valgrind names leaks in a plugin only while it stays mapped */
	if (p->handle && !(keep && !strcmp(keep, "1")))
		dlclose(p->handle);
	free(p->path);
	free(p);
}

int ms_loader_list(FILE *f, const char *dirs)
{
	char *path = search_path(dirs), avail[512], *save = NULL, *name;
	int found = 0;

	if (!path)
		return ms_error_set(MS_ENOMEM, "out of memory");
	available(avail, sizeof(avail), path);
	if (!strcmp(avail, "none found")) {
		fprintf(f, "no backends found (searched %s)\n", path);
		free(path);
		return MS_OK;
	}
	for (name = strtok_r(avail, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
		struct ms_plugin *p = NULL;
		char *file = find_file(path, name), caps[128];

		if (file && open_file(&p, name, file) == MS_OK) {
			ms_loader_caps_str(caps, sizeof(caps), p->backend->caps);
			fprintf(f, "%-10s %-48s [%s]\n", name,
				p->backend->description ? p->backend->description : "", caps);
			found++;
		} else {
			fprintf(f, "%-10s (cannot load: %s)\n", name, ms_error_last());
		}
		ms_loader_close(p);
		free(file);
	}
	ms_error_clear();
	free(path);
	return MS_OK;
}
