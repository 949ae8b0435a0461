/*
 * store_disk.c — the data file on disk: real blocks reserved ahead of the
 * last used page, the mapping given back, and how much of the map is used.
 *
 * With MDB_WRITEMAP LMDB sizes the data file to the map as a sparse file,
 * and writing into a hole on a full disk would kill the process with
 * SIGBUS.  So every write transaction first allocates real disk blocks for
 * the pages it may take beyond the last used one (store_reserve_disk); a
 * full disk then fails that allocation and the write answers "database
 * full" before anything is changed.
 */
#include "store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Allocates disk blocks for bytes beyond the last used page (capped at the
 * map).  Blocks below it were allocated when those pages were written.
 *
 * Without a system call on most writes: blocks are never given back (LMDB
 * neither shrinks the file nor punches holes in it), so a frontier this
 * process once saw allocated stays allocated, and s->reserved_to caches
 * it.  Past it, the file itself says how far another writer (a worker,
 * groupctl) has reserved: lseek(SEEK_HOLE) finds the first hole.  Only
 * when that is short are blocks allocated, STORE_RESERVE_STEP at a time,
 * or just what this write needs when the disk has no room for a step.
 * A file system without fallocate has nothing to reserve with; writes
 * there behave as without this check. */
int store_reserve_disk(struct store *s, size_t bytes)
{
    MDB_envinfo info;
    MDB_stat st;
    mdb_filehandle_t fd;
    int rc = mdb_env_info(s->env, &info);
    if (!rc)
        rc = mdb_env_stat(s->env, &st);
    if (rc)
        return rc;
    size_t from = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
    if (from >= info.me_mapsize)
        return 0;
    size_t want = bytes < info.me_mapsize - from ? from + bytes : info.me_mapsize;
    if (want <= s->reserved_to)
        return 0;
    rc = mdb_env_get_fd(s->env, &fd);
    if (rc)
        return rc;
    off_t hole = lseek(fd, (off_t)from, SEEK_HOLE);
    if (hole >= 0 && (size_t)hole >= want) {
        s->reserved_to = (size_t)hole;
        return 0;
    }
    size_t step =
        from + STORE_RESERVE_STEP < info.me_mapsize ? from + STORE_RESERVE_STEP : info.me_mapsize;
    size_t to = step > want ? step : want;
    if (fallocate(fd, 0, (off_t)from, (off_t)(to - from)) != 0 &&
        (errno != ENOSPC || (to = want, fallocate(fd, 0, (off_t)from, (off_t)(to - from)) != 0))) {
        if (errno == ENOSPC || errno == EDQUOT)
            return MDB_MAP_FULL;
        return errno == EOPNOTSUPP ? 0 : errno;
    }
    s->reserved_to = to;
    return 0;
}

/* Where the data file is mapped.  LMDB does not say (mdb_env_info's
 * me_mapaddr is set only with MDB_FIXEDMAP), so it is the mapping of the
 * data file's device and inode in /proc/self/maps. */
static int find_map(struct store *s, void **addr, size_t *len)
{
    mdb_filehandle_t fd;
    struct stat st;
    int rc = mdb_env_get_fd(s->env, &fd);
    if (rc)
        return rc;
    if (fstat(fd, &st) != 0)
        return errno;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return errno;
    char line[512];
    rc = ENOENT;
    while (rc == ENOENT && fgets(line, sizeof line, f)) {
        unsigned long start, end, ino;
        unsigned maj, min;
        if (sscanf(line, "%lx-%lx %*s %*s %x:%x %lu", &start, &end, &maj, &min, &ino) == 5 &&
            ino == st.st_ino && makedev(maj, min) == st.st_dev) {
            *addr = (void *)start;
            *len = end - start;
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

/* MADV_DONTNEED on a MAP_SHARED file mapping (LMDB always maps shared)
 * removes only this process's page-table entries: the pages, dirty ones
 * of an open write transaction included, stay in the page cache, and the
 * next touch maps the same page again.  So it is safe at any moment, and
 * the kernel may write dirty ones back early or evict clean ones. */
int store_release_map(struct store *s)
{
    void *addr = NULL;
    size_t len = 0;
    int rc = find_map(s, &addr, &len);
    if (rc)
        return rc;
    return madvise(addr, len, MADV_DONTNEED) ? errno : 0;
}

int store_usage(struct store *s, size_t *map_size, size_t *used)
{
    MDB_envinfo info;
    MDB_stat st;
    int rc = mdb_env_info(s->env, &info);
    if (!rc)
        rc = mdb_env_stat(s->env, &st);
    if (rc)
        return rc;
    *map_size = info.me_mapsize;
    *used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
    return 0;
}
