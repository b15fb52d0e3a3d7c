// power_loss_shim: an LD_PRELOAD library that journals what a process has made durable in one
// directory, so that a later "crash step" (ops/crash/power_loss_fs.py) can rewind the directory
// to the state a power cut would have left: every file at the length of its last fsync, its
// overwritten-but-unsynced bytes put back, and creations, renames and unlinks that no fsync of
// their directory followed undone.
//
// Environment (both required, otherwise the library only passes calls through):
//   TEAMHEALTH_POWERLOSS_DIR      the directory to watch (absolute; the daemon's state dir)
//   TEAMHEALTH_POWERLOSS_JOURNAL  the journal, OUTSIDE that directory on the same filesystem;
//                                 the library also writes JOURNAL.undo and JOURNAL.graves/
//
// The journal is a text file of tab-separated records, each written with ONE write(2) on an
// O_APPEND descriptor, without any buffering, so a SIGKILL never leaves a record half-written
// and everything written before the kill is in it. A file is named by its inode ("dev:ino"),
// which survives renames:
//
//   B  ino size path          at start: a file already there, durable at its current size
//   C  ino path               a file this process created (durable length 0, name not durable)
//   S  ino size covers        fsync/fdatasync of a file returned: `size` bytes are durable,
//                             and the U records of the file before record number `covers`
//                             are void (records are numbered from 0, across processes)
//   D  path covers            fsync/fdatasync of a directory returned: the entries changed by
//                             the records before number `covers` are durable
//   U  ino off len undo_off   about to overwrite durable bytes: the old bytes are in
//                             JOURNAL.undo at undo_off (also before a shrinking ftruncate)
//   R  from to ino old_ino grave   about to rename; `to`'s old inode (if any) hard-linked as
//                             `grave` first, so it can be put back
//   X  path ino grave         about to unlink; the file hard-linked as `grave` first
//
// Name records (C, R, X) are written before the call where they can be (the crash step checks
// inodes, so a record of a call that then failed or never ran is harmless); S and D after the
// call returned, and cover only what was there when it started, so a durability claim is never
// early. What this library does NOT see: writes
// through mmap, through stdio's internal write calls (fopen'ed files are tracked, but their
// data is durable only at an fsync of their descriptor), dup'ed descriptors made with fcntl,
// truncate(2) by path, io_uring, and anything below the system call interface (see
// tests/integration/test_power_loss.py for what that means for the test).
//
// What RocksDB 7.8 (Debian 12) does in the daemon's state directory, from `strace -f -y` of
// `teamhealth demo`: write, fsync (files and the directory, opened O_RDONLY), fdatasync,
// sync_file_range (writeback hints only), ftruncate and fallocate(FALLOC_FL_KEEP_SIZE) on WAL
// and MANIFEST files, rename (temp file -> CURRENT, IDENTITY, OPTIONS) and unlink; no pwrite,
// link, copy_file_range or shared writable mmap.
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define kMaxFds 65536
#define kMaxInodes 65536
#define kCopyChunk 65536

// What the process may have made durable of one inode.
struct Inode {
  dev_t dev;
  ino_t ino;
  off_t durable;  // length at the last fsync (or at start)
};

// One open descriptor in the watched directory.
struct Fd {
  int inode;  // index into inodes, -1 for a directory
  int append;
  char* path;  // normalised absolute path
};

static struct {
  int active;
  char dir[PATH_MAX];
  size_t dir_len;
  int journal;
  long long records;  // records in the journal (its lines), the index of the next one
  int undo;
  off_t undo_size;
  char graves[PATH_MAX];
  unsigned long grave_count;
  pthread_mutex_t mu;
  struct Fd* fds[kMaxFds];
  struct Inode inodes[kMaxInodes];
  int inode_count;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

// The real functions, resolved once.
static int (*real_open)(const char*, int, ...);
static int (*real_openat)(int, const char*, int, ...);
static FILE* (*real_fopen)(const char*, const char*);
static int (*real_close)(int);
static int (*real_fclose)(FILE*);
static ssize_t (*real_write)(int, const void*, size_t);
static ssize_t (*real_pwrite)(int, const void*, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec*, int);
static ssize_t (*real_pwritev)(int, const struct iovec*, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate)(int, off_t);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_rename)(const char*, const char*);
static int (*real_renameat)(int, const char*, int, const char*);
static int (*real_renameat2)(int, const char*, int, const char*, unsigned);
static int (*real_unlink)(const char*);
static int (*real_unlinkat)(int, const char*, int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);

static pthread_once_t resolved = PTHREAD_ONCE_INIT;
static void Ready(void);

static void Die(const char* what) {
  char msg[512];
  int n = snprintf(msg, sizeof msg, "power_loss_shim: %s (errno %d)\n", what, errno);
  if (real_write != NULL) (void)real_write(2, msg, (size_t)n);
  abort();
}

// Stores the next definition of `name` (libc's) in the function pointer at `slot`, the way
// POSIX's dlsym page shows (ISO C has no cast from void* to a function pointer).
static void Resolve(void* slot, const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == NULL) Die(name);
  *(void**)slot = f;
}

// Appends one record: a single write(2), retried only if the kernel wrote part of it.
static void Journal(const char* fmt, ...) {
  char line[3 * PATH_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof line) Die("journal record too long");
  for (int done = 0; done < n;) {
    ssize_t w = real_write(g.journal, line + done, (size_t)(n - done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) Die("cannot write the journal");
    done += (int)w;
  }
  g.records++;
}

// Collapses "//" and "/./" and makes `path` absolute against `base` (a directory, or NULL for
// the working directory). Returns 0 if the result does not fit.
static int Normalise(const char* base, const char* path, char out[PATH_MAX]) {
  char joined[2 * PATH_MAX];
  if (path[0] == '/') {
    snprintf(joined, sizeof joined, "%s", path);
  } else {
    char cwd[PATH_MAX];
    if (base == NULL) {
      if (getcwd(cwd, sizeof cwd) == NULL) return 0;
      base = cwd;
    }
    snprintf(joined, sizeof joined, "%s/%s", base, path);
  }
  size_t o = 0;
  for (const char* p = joined; *p != '\0';) {
    if (p[0] == '/' && (p[1] == '/' || p[1] == '\0')) {
      p++;
    } else if (p[0] == '/' && p[1] == '.' && (p[2] == '/' || p[2] == '\0')) {
      p += 2;
    } else {
      if (o + 1 >= PATH_MAX) return 0;
      out[o++] = *p++;
    }
  }
  if (o == 0) out[o++] = '/';
  out[o] = '\0';
  return strchr(out, '\t') == NULL && strchr(out, '\n') == NULL;
}

static int Watched(const char* abs) {
  return strncmp(abs, g.dir, g.dir_len) == 0 && (abs[g.dir_len] == '\0' || abs[g.dir_len] == '/');
}

// The normalised absolute path of (dirfd, path) if it lies in the watched directory.
static int WatchedPath(int dirfd, const char* path, char out[PATH_MAX]) {
  if (!g.active || path == NULL) return 0;
  const char* base = NULL;
  if (path[0] != '/' && dirfd != AT_FDCWD) {
    if (dirfd < 0 || dirfd >= kMaxFds || g.fds[dirfd] == NULL) return 0;
    base = g.fds[dirfd]->path;
  }
  return Normalise(base, path, out) && Watched(out);
}

static int FindInode(dev_t dev, ino_t ino) {
  for (int i = 0; i < g.inode_count; i++) {
    if (g.inodes[i].dev == dev && g.inodes[i].ino == ino) return i;
  }
  return -1;
}

static int AddInode(dev_t dev, ino_t ino, off_t durable) {
  int i = FindInode(dev, ino);
  if (i < 0) {
    if (g.inode_count == kMaxInodes) Die("too many files");
    i = g.inode_count++;
  }
  g.inodes[i] = (struct Inode){dev, ino, durable};
  return i;
}

// Copies bytes [off, off + len) of the file open as `fd` to the undo file and journals where.
// The descriptor may be write-only, so the bytes are read through /proc/self/fd.
static void SaveOldBytes(int fd, int inode, off_t off, off_t len) {
  if (len <= 0) return;
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  int in = real_open(proc, O_RDONLY | O_CLOEXEC);
  if (in < 0) Die("cannot reopen a file to save its old bytes");
  off_t at = g.undo_size;
  static char buf[kCopyChunk];
  off_t copied = 0;
  while (copied < len) {
    size_t want = (size_t)(len - copied < kCopyChunk ? len - copied : kCopyChunk);
    ssize_t r = pread(in, buf, want, off + copied);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) Die("cannot read old bytes");
    if (r == 0) break;  // the file is shorter than its durable length: nothing more to save
    if (real_pwrite(g.undo, buf, (size_t)r, at + copied) != r) Die("cannot write the undo file");
    copied += r;
  }
  real_close(in);
  g.undo_size += copied;
  Journal("U\t%lu:%lu\t%lld\t%lld\t%lld\n", (unsigned long)g.inodes[inode].dev,
          (unsigned long)g.inodes[inode].ino, (long long)off, (long long)copied, (long long)at);
}

// Before bytes [off, off + len) of `fd` are replaced: saves those that were durable.
static void BeforeOverwrite(int fd, off_t off, off_t len) {
  struct Fd* f = g.fds[fd];
  off_t durable = g.inodes[f->inode].durable;
  if (off >= durable || len <= 0) return;
  off_t end = off + len < durable ? off + len : durable;
  SaveOldBytes(fd, f->inode, off, end - off);
}

// Where the next write(2) on `fd` lands.
static off_t WriteOffset(int fd) {
  if (g.fds[fd]->append) {
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : 0;
  }
  off_t off = lseek(fd, 0, SEEK_CUR);
  return off < 0 ? 0 : off;
}

static int TrackedFile(int fd) {
  return g.active && fd >= 0 && fd < kMaxFds && g.fds[fd] != NULL && g.fds[fd]->inode >= 0;
}

static void Untrack(int fd) {
  if (fd < 0 || fd >= kMaxFds || g.fds[fd] == NULL) return;
  free(g.fds[fd]->path);
  free(g.fds[fd]);
  g.fds[fd] = NULL;
}

// Registers a descriptor just opened on `abs`; `existed` says whether the file was there before.
static void Track(int fd, const char* abs, int existed, int append) {
  struct stat st;
  if (fd < 0 || fd >= kMaxFds || fstat(fd, &st) != 0) return;
  Untrack(fd);
  struct Fd* f = calloc(1, sizeof *f);
  if (f == NULL || (f->path = strdup(abs)) == NULL) Die("out of memory");
  f->append = append;
  f->inode = -1;
  if (S_ISREG(st.st_mode)) {
    int i = FindInode(st.st_dev, st.st_ino);
    if (!existed) {
      i = AddInode(st.st_dev, st.st_ino, 0);
      Journal("C\t%lu:%lu\t%s\n", (unsigned long)st.st_dev, (unsigned long)st.st_ino, abs);
    } else if (i < 0) {
      // Neither in the start-up listing nor created here: made by a call this library does not
      // see. Its current length is taken as durable (the crash step removes unknown files).
      i = AddInode(st.st_dev, st.st_ino, st.st_size);
    }
    f->inode = i;
  } else if (!S_ISDIR(st.st_mode)) {
    free(f->path);
    free(f);
    return;
  }
  g.fds[fd] = f;
}

static int OpenCommon(int dirfd, const char* path, int flags, mode_t mode) {
  char abs[PATH_MAX];
  if (!WatchedPath(dirfd, path, abs)) return real_openat(dirfd, path, flags, mode);
  pthread_mutex_lock(&g.mu);
  struct stat before;
  int existed = stat(abs, &before) == 0;
  int truncate = (flags & O_TRUNC) && existed && S_ISREG(before.st_mode);
  int fd = real_openat(dirfd, path, truncate ? (flags & ~O_TRUNC) : flags, mode);
  if (fd >= 0) {
    Track(fd, abs, existed, (flags & O_APPEND) != 0);
    if (truncate && TrackedFile(fd)) {
      // O_TRUNC of durable bytes: save them, then truncate as the caller asked.
      int saved = errno;
      SaveOldBytes(fd, g.fds[fd]->inode, 0, g.inodes[g.fds[fd]->inode].durable);
      if (real_ftruncate(fd, 0) != 0) Die("cannot truncate after saving old bytes");
      errno = saved;
    }
  }
  pthread_mutex_unlock(&g.mu);
  return fd;
}

static mode_t ModeArg(int flags, va_list ap) {
  return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char* path, int flags, ...) {
  Ready();
  va_list ap;
  va_start(ap, flags);
  mode_t mode = ModeArg(flags, ap);
  va_end(ap);
  return OpenCommon(AT_FDCWD, path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  Ready();
  va_list ap;
  va_start(ap, flags);
  mode_t mode = ModeArg(flags, ap);
  va_end(ap);
  return OpenCommon(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
  Ready();
  va_list ap;
  va_start(ap, flags);
  mode_t mode = ModeArg(flags, ap);
  va_end(ap);
  return OpenCommon(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  Ready();
  va_list ap;
  va_start(ap, flags);
  mode_t mode = ModeArg(flags, ap);
  va_end(ap);
  return OpenCommon(dirfd, path, flags, mode);
}

// _FORTIFY_SOURCE builds call these when the flags are not known at compile time.
int __open_2(const char* path, int flags) { Ready(); return OpenCommon(AT_FDCWD, path, flags, 0); }
int __open64_2(const char* path, int flags) {
  Ready();
  return OpenCommon(AT_FDCWD, path, flags, 0);
}
int __openat_2(int dirfd, const char* path, int flags) {
  Ready();
  return OpenCommon(dirfd, path, flags, 0);
}
int __openat64_2(int dirfd, const char* path, int flags) {
  Ready();
  return OpenCommon(dirfd, path, flags, 0);
}

int creat(const char* path, mode_t mode) {
  Ready();
  return OpenCommon(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
int creat64(const char* path, mode_t mode) { return creat(path, mode); }

// stdio opens through glibc's internal open, which LD_PRELOAD cannot see: the stream's
// descriptor is registered here. Data written through it is durable only at an fsync.
static FILE* FopenCommon(const char* path, const char* how) {
  char abs[PATH_MAX];
  if (!WatchedPath(AT_FDCWD, path, abs)) return real_fopen(path, how);
  pthread_mutex_lock(&g.mu);
  struct stat before;
  int existed = stat(abs, &before) == 0;
  if (existed && how[0] == 'w' && S_ISREG(before.st_mode)) {
    // Truncating through stdio: save the durable bytes first, as for O_TRUNC.
    int i = FindInode(before.st_dev, before.st_ino);
    if (i < 0) i = AddInode(before.st_dev, before.st_ino, before.st_size);
    int in = real_open(abs, O_RDONLY | O_CLOEXEC);
    if (in >= 0) {
      SaveOldBytes(in, i, 0, g.inodes[i].durable);
      real_close(in);
    }
  }
  FILE* f = real_fopen(path, how);
  if (f != NULL) Track(fileno(f), abs, existed, how[0] == 'a');
  pthread_mutex_unlock(&g.mu);
  return f;
}
FILE* fopen(const char* path, const char* how) { Ready(); return FopenCommon(path, how); }
FILE* fopen64(const char* path, const char* how) { Ready(); return FopenCommon(path, how); }

int fclose(FILE* f) {
  Ready();
  if (g.active && f != NULL) {
    pthread_mutex_lock(&g.mu);
    Untrack(fileno(f));
    pthread_mutex_unlock(&g.mu);
  }
  return real_fclose(f);
}

int close(int fd) {
  Ready();
  if (g.active && fd >= 0 && fd < kMaxFds && g.fds[fd] != NULL) {
    pthread_mutex_lock(&g.mu);
    Untrack(fd);
    pthread_mutex_unlock(&g.mu);
  }
  return real_close(fd);
}

static int DupTrack(int old_fd, int new_fd) {
  if (new_fd < 0 || !g.active) return new_fd;
  pthread_mutex_lock(&g.mu);
  Untrack(new_fd);
  if (old_fd >= 0 && old_fd < kMaxFds && g.fds[old_fd] != NULL && new_fd < kMaxFds) {
    struct Fd* f = malloc(sizeof *f);
    if (f == NULL) Die("out of memory");
    *f = *g.fds[old_fd];
    if ((f->path = strdup(f->path)) == NULL) Die("out of memory");
    g.fds[new_fd] = f;
  }
  pthread_mutex_unlock(&g.mu);
  return new_fd;
}
int dup(int fd) { Ready(); return DupTrack(fd, real_dup(fd)); }
int dup2(int fd, int to) { Ready(); return DupTrack(fd, real_dup2(fd, to)); }
int dup3(int fd, int to, int flags) { Ready(); return DupTrack(fd, real_dup3(fd, to, flags)); }

static size_t IovLength(const struct iovec* iov, int n) {
  size_t len = 0;
  for (int i = 0; i < n; i++) len += iov[i].iov_len;
  return len;
}

// Each write is done under the lock, so that saving the old bytes and replacing them cannot
// interleave with another thread's write or fsync of the same file. TrackedFile is checked
// again under the lock: the first check only keeps untracked descriptors off the lock.
ssize_t write(int fd, const void* buf, size_t len) {
  Ready();
  if (!TrackedFile(fd)) return real_write(fd, buf, len);
  pthread_mutex_lock(&g.mu);
  if (TrackedFile(fd)) BeforeOverwrite(fd, WriteOffset(fd), (off_t)len);
  ssize_t r = real_write(fd, buf, len);
  pthread_mutex_unlock(&g.mu);
  return r;
}

ssize_t pwrite(int fd, const void* buf, size_t len, off_t off) {
  Ready();
  if (!TrackedFile(fd)) return real_pwrite(fd, buf, len, off);
  pthread_mutex_lock(&g.mu);
  if (TrackedFile(fd)) BeforeOverwrite(fd, off, (off_t)len);
  ssize_t r = real_pwrite(fd, buf, len, off);
  pthread_mutex_unlock(&g.mu);
  return r;
}
ssize_t pwrite64(int fd, const void* buf, size_t len, off_t off) {
  return pwrite(fd, buf, len, off);
}

ssize_t writev(int fd, const struct iovec* iov, int n) {
  Ready();
  if (!TrackedFile(fd)) return real_writev(fd, iov, n);
  pthread_mutex_lock(&g.mu);
  if (TrackedFile(fd)) BeforeOverwrite(fd, WriteOffset(fd), (off_t)IovLength(iov, n));
  ssize_t r = real_writev(fd, iov, n);
  pthread_mutex_unlock(&g.mu);
  return r;
}

ssize_t pwritev(int fd, const struct iovec* iov, int n, off_t off) {
  Ready();
  if (!TrackedFile(fd)) return real_pwritev(fd, iov, n, off);
  pthread_mutex_lock(&g.mu);
  if (TrackedFile(fd)) BeforeOverwrite(fd, off, (off_t)IovLength(iov, n));
  ssize_t r = real_pwritev(fd, iov, n, off);
  pthread_mutex_unlock(&g.mu);
  return r;
}
ssize_t pwritev64(int fd, const struct iovec* iov, int n, off_t off) {
  return pwritev(fd, iov, n, off);
}

int ftruncate(int fd, off_t len) {
  Ready();
  if (!TrackedFile(fd)) return real_ftruncate(fd, len);
  pthread_mutex_lock(&g.mu);
  if (TrackedFile(fd)) BeforeOverwrite(fd, len, g.inodes[g.fds[fd]->inode].durable - len);
  int r = real_ftruncate(fd, len);
  pthread_mutex_unlock(&g.mu);
  return r;
}
int ftruncate64(int fd, off_t len) { return ftruncate(fd, len); }

int fallocate(int fd, int mode, off_t off, off_t len) {
  Ready();
  if (!TrackedFile(fd)) return real_fallocate(fd, mode, off, len);
  pthread_mutex_lock(&g.mu);
  // Allocating (with or without FALLOC_FL_KEEP_SIZE) changes no byte; punching or zeroing does.
  const int changes_bytes = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE |
                            FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE;
  if (TrackedFile(fd) && (mode & changes_bytes) != 0) {
    off_t durable = g.inodes[g.fds[fd]->inode].durable;
    off_t end = (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) ? durable : off + len;
    BeforeOverwrite(fd, off, end - off);
  }
  int r = real_fallocate(fd, mode, off, len);
  pthread_mutex_unlock(&g.mu);
  return r;
}
int fallocate64(int fd, int mode, off_t off, off_t len) { return fallocate(fd, mode, off, len); }

// fsync and fdatasync both make a file's data and its length durable (fdatasync skips only
// metadata not needed to read the data back); on a directory, its entries. What a sync is sure
// to cover is decided before it starts: the file's length then, and the journal records
// written before it. A write or rename that races with the sync from another thread may or
// may not be covered by it; the journal says it is not.
static int SyncCommon(int fd, int (*sync)(int)) {
  int tracked = 0;
  int inode = -1;
  struct stat st;
  long long covers = 0;
  char dir[PATH_MAX];
  if (g.active && fd >= 0 && fd < kMaxFds && g.fds[fd] != NULL) {
    pthread_mutex_lock(&g.mu);
    struct Fd* f = g.fds[fd];
    if (f != NULL && fstat(fd, &st) == 0) {
      tracked = 1;
      inode = f->inode;
      covers = g.records;
      snprintf(dir, sizeof dir, "%s", f->path);
    }
    pthread_mutex_unlock(&g.mu);
  }
  int r = sync(fd);
  if (r != 0 || !tracked) return r;
  int saved = errno;
  pthread_mutex_lock(&g.mu);
  if (inode >= 0) {
    g.inodes[inode].durable = st.st_size;
    Journal("S\t%lu:%lu\t%lld\t%lld\n", (unsigned long)st.st_dev, (unsigned long)st.st_ino,
            (long long)st.st_size, covers);
  } else {
    Journal("D\t%s\t%lld\n", dir, covers);
  }
  pthread_mutex_unlock(&g.mu);
  errno = saved;
  return r;
}
int fsync(int fd) { Ready(); return SyncCommon(fd, real_fsync); }
int fdatasync(int fd) { Ready(); return SyncCommon(fd, real_fdatasync); }
// sync_file_range(2) is not intercepted on purpose: it is not a durability barrier (no
// metadata, no device cache flush), and RocksDB uses it only to spread writeback.

// Hard-links `abs` into the graves directory so that an undone unlink or rename-over can put it
// back. Writes the grave's path to `grave` ("-" if the link failed, e.g. across filesystems).
static void Bury(const char* abs, char grave[PATH_MAX]) {
  int n = snprintf(grave, PATH_MAX, "%s/%lu", g.graves, g.grave_count++);
  if (n >= PATH_MAX || link(abs, grave) != 0) snprintf(grave, PATH_MAX, "-");
}

static int RenameCommon(int from_dir, const char* from, int to_dir, const char* to,
                        unsigned flags) {
  char a[PATH_MAX], b[PATH_MAX];
  int watched = WatchedPath(from_dir, from, a) && WatchedPath(to_dir, to, b);
  if (!watched) return real_renameat2(from_dir, from, to_dir, to, flags);
  pthread_mutex_lock(&g.mu);
  struct stat sf, st;
  char grave[PATH_MAX] = "-";
  char old[64] = "-";
  if (stat(b, &st) == 0 && S_ISREG(st.st_mode)) {
    Bury(b, grave);
    snprintf(old, sizeof old, "%lu:%lu", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
  }
  if (stat(a, &sf) == 0) {
    Journal("R\t%s\t%s\t%lu:%lu\t%s\t%s\n", a, b, (unsigned long)sf.st_dev,
            (unsigned long)sf.st_ino, old, grave);
  }
  int r = flags == 0 ? real_renameat(from_dir, from, to_dir, to)
                     : real_renameat2(from_dir, from, to_dir, to, flags);
  pthread_mutex_unlock(&g.mu);
  return r;
}
int rename(const char* from, const char* to) {
  Ready();
  return RenameCommon(AT_FDCWD, from, AT_FDCWD, to, 0);
}
int renameat(int fd1, const char* from, int fd2, const char* to) {
  Ready();
  return RenameCommon(fd1, from, fd2, to, 0);
}
int renameat2(int fd1, const char* from, int fd2, const char* to, unsigned flags) {
  Ready();
  return RenameCommon(fd1, from, fd2, to, flags);
}

static int UnlinkCommon(int dirfd, const char* path, int flags) {
  char abs[PATH_MAX];
  if (!WatchedPath(dirfd, path, abs)) return real_unlinkat(dirfd, path, flags);
  pthread_mutex_lock(&g.mu);
  struct stat st;
  if (!(flags & AT_REMOVEDIR) && stat(abs, &st) == 0 && S_ISREG(st.st_mode)) {
    char grave[PATH_MAX];
    Bury(abs, grave);
    Journal("X\t%s\t%lu:%lu\t%s\n", abs, (unsigned long)st.st_dev, (unsigned long)st.st_ino,
            grave);
  }
  int r = real_unlinkat(dirfd, path, flags);
  pthread_mutex_unlock(&g.mu);
  return r;
}
int unlink(const char* path) { Ready(); return UnlinkCommon(AT_FDCWD, path, 0); }
int unlinkat(int dirfd, const char* path, int flags) {
  Ready();
  return UnlinkCommon(dirfd, path, flags);
}

// Journals every regular file already in the watched directory (one level: RocksDB keeps its
// files flat) as durable at its current length.
static void Baseline(void) {
  DIR* d = opendir(g.dir);
  if (d == NULL) return;  // not created yet
  for (struct dirent* e; (e = readdir(d)) != NULL;) {
    char abs[PATH_MAX];
    struct stat st;
    if (snprintf(abs, sizeof abs, "%s/%s", g.dir, e->d_name) >= PATH_MAX) continue;
    if (stat(abs, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    AddInode(st.st_dev, st.st_ino, st.st_size);
    Journal("B\t%lu:%lu\t%lld\t%s\n", (unsigned long)st.st_dev, (unsigned long)st.st_ino,
            (long long)st.st_size, abs);
  }
  closedir(d);
}

// Records an earlier process left in the journal (one process at a time writes it).
static long long CountRecords(const char* journal) {
  long long n = 0;
  int in = real_open(journal, O_RDONLY | O_CLOEXEC);
  if (in < 0) Die("cannot read the journal");
  char buf[kCopyChunk];
  for (ssize_t r; (r = read(in, buf, sizeof buf)) != 0;) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) Die("cannot read the journal");
    for (ssize_t i = 0; i < r; i++) n += buf[i] == '\n';
  }
  real_close(in);
  return n;
}

// Libraries' constructors (OpenSSL's, for one) open files before this library's constructor
// runs, so every wrapper resolves the real functions first, once.
static void ResolveAll(void) {
  Resolve(&real_open, "open");
  Resolve(&real_openat, "openat");
  Resolve(&real_fopen, "fopen");
  Resolve(&real_close, "close");
  Resolve(&real_fclose, "fclose");
  Resolve(&real_write, "write");
  Resolve(&real_pwrite, "pwrite");
  Resolve(&real_writev, "writev");
  Resolve(&real_pwritev, "pwritev");
  Resolve(&real_fsync, "fsync");
  Resolve(&real_fdatasync, "fdatasync");
  Resolve(&real_ftruncate, "ftruncate");
  Resolve(&real_fallocate, "fallocate");
  Resolve(&real_rename, "rename");
  Resolve(&real_renameat, "renameat");
  Resolve(&real_renameat2, "renameat2");
  Resolve(&real_unlink, "unlink");
  Resolve(&real_unlinkat, "unlinkat");
  Resolve(&real_dup, "dup");
  Resolve(&real_dup2, "dup2");
  Resolve(&real_dup3, "dup3");
}

static void Ready(void) { pthread_once(&resolved, ResolveAll); }

__attribute__((constructor)) static void Init(void) {
  Ready();

  const char* dir = getenv("TEAMHEALTH_POWERLOSS_DIR");
  const char* journal = getenv("TEAMHEALTH_POWERLOSS_JOURNAL");
  if (dir == NULL || journal == NULL || dir[0] != '/') return;
  if (!Normalise(NULL, dir, g.dir)) Die("TEAMHEALTH_POWERLOSS_DIR is too long");
  g.dir_len = strlen(g.dir);
  g.journal = real_open(journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (g.journal < 0) Die("cannot open TEAMHEALTH_POWERLOSS_JOURNAL");
  g.records = CountRecords(journal);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s.undo", journal);
  g.undo = real_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (g.undo < 0) Die("cannot open the undo file");
  struct stat st;
  if (fstat(g.undo, &st) != 0) Die("cannot stat the undo file");
  g.undo_size = st.st_size;
  snprintf(g.graves, sizeof g.graves, "%s.graves", journal);
  if (mkdir(g.graves, 0700) != 0 && errno != EEXIST) Die("cannot create the graves directory");
  // Grave names must not collide with an earlier process's on the same journal.
  g.grave_count = (unsigned long)getpid() << 20;
  pthread_mutex_lock(&g.mu);
  Baseline();
  pthread_mutex_unlock(&g.mu);
  g.active = 1;
}
