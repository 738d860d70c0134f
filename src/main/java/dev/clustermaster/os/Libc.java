package dev.clustermaster.os;

import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;

/**
 * Direct libc bindings for what jnr-posix lacks or gets wrong (posix_spawn signal attributes throw "not yet
 * supported" in jnr-posix 3.1.20, its posix_spawnp drops the error code, no pipe2/SO_SNDTIMEO/shutdown).
 * Constants are the Linux values, identical on x86_64 and aarch64.
 */
final class Libc {
    private Libc() {}

    static final int O_CLOEXEC = 0x80000;
    static final int SOCK_CLOEXEC = O_CLOEXEC;
    static final int AF_UNIX = 1;
    static final int SOCK_STREAM = 1;
    static final int SOCK_DGRAM = 2;
    static final int F_GETFD = 1;
    static final int F_SETFD = 2;
    static final int FD_CLOEXEC = 1;
    static final int F_DUPFD_CLOEXEC = 1030;
    static final int F_GETFL = 3;
    static final int F_SETFL = 4;
    static final int SOL_SOCKET = 1;
    static final int SO_RCVTIMEO = 20;
    static final int SO_SNDTIMEO = 21;
    static final int MSG_NOSIGNAL = 0x4000;
    static final int MSG_CTRUNC = 0x8;
    static final int MSG_CMSG_CLOEXEC = 0x40000000;
    static final int SCM_RIGHTS = 1;
    static final int MSG_DONTWAIT = 0x40;
    static final int O_NONBLOCK = 0x800;
    static final short POLLIN = 0x1;
    static final int SHUT_RDWR = 2;
    static final int WNOHANG = 1;
    static final int CLOCK_MONOTONIC = 1;
    static final int SC_CLK_TCK = 2;
    static final int SC_PAGESIZE = 30;
    static final int SC_OPEN_MAX = 4;
    static final short POSIX_SPAWN_SETPGROUP = 0x02;
    static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    /** sizeof(sigset_t) in glibc. */
    static final int SIGSET_SIZE = 128;
    /** glibc's struct sigaction is 152 bytes on x86_64 and aarch64, sa_handler first; this bound is generous. */
    static final int SIGACTION_SIZE = 256;
    static final long SIG_DFL = 0;
    static final long SIG_IGN = 1;
    /** Generous upper bounds of glibc's posix_spawnattr_t (336) and posix_spawn_file_actions_t (80). */
    static final int SPAWNATTR_SIZE = 1024;
    static final int FILE_ACTIONS_SIZE = 512;

    static final int ENOENT = 2;
    static final int ESRCH = 3;
    static final int EINTR = 4;
    static final int EBADF = 9;
    static final int ECHILD = 10;
    static final int EAGAIN = 11;
    static final int EPIPE = 32;
    static final int EACCES = 13;
    static final int EISDIR = 21;
    static final int X_OK = 1;

    /** Only the functions this package calls; names must match the libc symbols. */
    public interface Api {
        int posix_spawnp(IntByReference pid, String file, Pointer fileActions, Pointer attr, Pointer argv, Pointer envp);
        int posix_spawn_file_actions_init(Pointer fa);
        int posix_spawn_file_actions_destroy(Pointer fa);
        int posix_spawn_file_actions_adddup2(Pointer fa, int fd, int newFd);
        int posix_spawn_file_actions_addclose(Pointer fa, int fd);
        int posix_spawn_file_actions_addclosefrom_np(Pointer fa, int from);
        int posix_spawnattr_init(Pointer attr);
        int posix_spawnattr_destroy(Pointer attr);
        int posix_spawnattr_setflags(Pointer attr, short flags);
        int posix_spawnattr_setpgroup(Pointer attr, int pgroup);
        int posix_spawnattr_setsigmask(Pointer attr, Pointer set);
        int posix_spawnattr_setsigdefault(Pointer attr, Pointer set);
        int sigemptyset(Pointer set);
        int sigaction(int sig, Pointer act, Pointer oldAct);
        int access(String path, int mode);

        int pipe2(@Out int[] fds, int flags);
        int socketpair(int domain, int type, int protocol, @Out int[] fds);
        int socket(int domain, int type, int protocol);
        int bind(int fd, Pointer addr, int addrLen);
        int setsockopt(int fd, int level, int option, Pointer value, int len);
        int shutdown(int fd, int how);
        long send(int fd, @In byte[] buf, long len, int flags);
        long sendto(int fd, @In byte[] buf, long len, int flags, Pointer addr, int addrLen);
        long recv(int fd, @Out byte[] buf, long len, int flags);
        long sendmsg(int fd, Pointer msghdr, int flags);
        long recvmsg(int fd, Pointer msghdr, int flags);
        long read(int fd, @Out byte[] buf, long len);
        long write(int fd, @In byte[] buf, long len);
        int poll(Pointer fds, long nfds, int timeout);
        int fcntl(int fd, int cmd, int arg);
        int close(int fd);
        long sysconf(int name);
        int clock_gettime(int clock, Pointer ts);
    }

    private static final class Holder {
        static final Api API = LibraryLoader.create(Api.class).load("c");
        static final Runtime RUNTIME = Runtime.getRuntime(API);
    }

    static Api api() {
        return Holder.API;
    }

    static Runtime runtime() {
        return Holder.RUNTIME;
    }

    /** errno saved by the last native call of this thread. */
    static int errno() {
        return LastError.getLastError(Holder.RUNTIME);
    }

    static String strerror(int errno) {
        return Posix.get().strerror(errno);
    }

    /** Native memory, zeroed, freed by the GC; callers keep it reachable across the native call. */
    static Pointer alloc(int size) {
        return jnr.ffi.Memory.allocateDirect(Holder.RUNTIME, size, true);
    }

    /** close(2) ignoring EINTR (on Linux the fd is released anyway; retrying could close a reused fd). */
    static void closeQuietly(int fd) {
        if (fd >= 0) {
            api().close(fd);
        }
    }

    /** Sets FD_CLOEXEC; returns false if the fd is not open. */
    static boolean setCloexec(int fd) {
        int flags = api().fcntl(fd, F_GETFD, 0);
        if (flags < 0) {
            return false;
        }
        return (flags & FD_CLOEXEC) != 0 || api().fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0;
    }

    static boolean isCloexec(int fd) {
        int flags = api().fcntl(fd, F_GETFD, 0);
        return flags >= 0 && (flags & FD_CLOEXEC) != 0;
    }

    /** The current disposition's handler of sig: SIG_DFL, SIG_IGN or a handler address; -1 if sig is invalid. */
    static long signalHandler(int sig) {
        Pointer old = alloc(SIGACTION_SIZE);
        if (api().sigaction(sig, null, old) != 0) {
            return -1;
        }
        return old.getLong(0);
    }

    /** Sets sig's disposition to SIG_DFL (empty mask, no flags); false if sig is invalid or uncatchable. */
    static boolean resetSignalToDefault(int sig) {
        Pointer act = alloc(SIGACTION_SIZE);
        boolean ok = api().sigaction(sig, act, null) == 0;
        java.lang.ref.Reference.reachabilityFence(act);
        return ok;
    }

    /** Sets a socket send/receive timeout (SO_SNDTIMEO/SO_RCVTIMEO) as a struct timeval. */
    static void setSocketTimeout(int fd, int option, long millis) throws java.io.IOException {
        Pointer tv = alloc(16);
        tv.putLong(0, millis / 1000);
        tv.putLong(8, (millis % 1000) * 1000);
        if (api().setsockopt(fd, SOL_SOCKET, option, tv, 16) != 0) {
            int e = errno();
            throw new java.io.IOException("setsockopt(" + option + ") on fd " + fd + ": " + strerror(e));
        }
        java.lang.ref.Reference.reachabilityFence(tv);
    }
}
