package dev.clustermaster.os;

import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;
import jnr.constants.platform.Access;
import jnr.constants.platform.AddressFamily;
import jnr.constants.platform.Errno;
import jnr.constants.platform.Fcntl;
import jnr.constants.platform.IPProto;
import jnr.constants.platform.OpenFlags;
import jnr.constants.platform.Shutdown;
import jnr.constants.platform.Sock;
import jnr.constants.platform.SocketLevel;
import jnr.constants.platform.SocketMessage;
import jnr.constants.platform.SocketOption;
import jnr.constants.platform.Sysconf;
import jnr.constants.platform.WaitFlags;

/**
 * The package's one libc binding: sockets, spawning, signals, fds, processes and the user database all go through
 * it. Not jnr-posix: its posix_spawn signal attributes throw "not yet supported" (3.1.20), its posix_spawnp drops
 * the error code, it lacks pipe2/SO_SNDTIMEO/shutdown, and setting it up binds all of libc and more (a quarter of
 * the master's start), where the master calls a few functions.
 */
final class Libc {
    private Libc() {}

    // From jnr-constants where it has them (its Linux table); the rest are Linux values, same on x86_64/aarch64.
    static final int O_RDONLY = OpenFlags.O_RDONLY.intValue();
    static final int O_NONBLOCK = OpenFlags.O_NONBLOCK.intValue();
    static final int O_CLOEXEC = 0x80000;
    static final int AF_UNIX = AddressFamily.AF_UNIX.intValue();
    static final int AF_INET = AddressFamily.AF_INET.intValue();
    static final int AF_INET6 = AddressFamily.AF_INET6.intValue();
    static final int SOCK_STREAM = Sock.SOCK_STREAM.intValue();
    static final int SOCK_DGRAM = Sock.SOCK_DGRAM.intValue();
    static final int SOCK_CLOEXEC = Sock.SOCK_CLOEXEC.intValue();
    static final int F_GETFD = Fcntl.F_GETFD.intValue();
    static final int F_SETFD = Fcntl.F_SETFD.intValue();
    static final int F_GETFL = Fcntl.F_GETFL.intValue();
    static final int F_SETFL = Fcntl.F_SETFL.intValue();
    static final int FD_CLOEXEC = 1;
    static final int F_DUPFD_CLOEXEC = 1030;
    static final int SOL_SOCKET = SocketLevel.SOL_SOCKET.intValue();
    static final int SO_REUSEADDR = SocketOption.SO_REUSEADDR.intValue();
    static final int SO_TYPE = SocketOption.SO_TYPE.intValue();
    static final int SO_ACCEPTCONN = SocketOption.SO_ACCEPTCONN.intValue();
    static final int SO_RCVTIMEO = SocketOption.SO_RCVTIMEO.intValue();
    static final int SO_SNDTIMEO = SocketOption.SO_SNDTIMEO.intValue();
    static final int IPPROTO_IPV6 = IPProto.IPPROTO_IPV6.intValue();
    static final int IPV6_V6ONLY = 26;
    static final int MSG_NOSIGNAL = SocketMessage.MSG_NOSIGNAL.intValue();
    static final int MSG_CTRUNC = SocketMessage.MSG_CTRUNC.intValue();
    static final int MSG_DONTWAIT = SocketMessage.MSG_DONTWAIT.intValue();
    static final int MSG_CMSG_CLOEXEC = 0x40000000;
    static final int SCM_RIGHTS = 1;
    static final short POLLIN = 0x1;
    static final int SHUT_RDWR = Shutdown.SHUT_RDWR.intValue();
    static final int WNOHANG = WaitFlags.WNOHANG.intValue();
    static final int CLOCK_MONOTONIC = 1;
    static final int SC_CLK_TCK = Sysconf._SC_CLK_TCK.intValue();
    static final int SC_PAGESIZE = Sysconf._SC_PAGESIZE.intValue();
    static final int SC_OPEN_MAX = Sysconf._SC_OPEN_MAX.intValue();
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

    static final int ENOENT = Errno.ENOENT.intValue();
    static final int ESRCH = Errno.ESRCH.intValue();
    static final int EINTR = Errno.EINTR.intValue();
    static final int EBADF = Errno.EBADF.intValue();
    static final int ECHILD = Errno.ECHILD.intValue();
    static final int EAGAIN = Errno.EAGAIN.intValue();
    static final int EPIPE = Errno.EPIPE.intValue();
    static final int EACCES = Errno.EACCES.intValue();
    static final int EISDIR = Errno.EISDIR.intValue();
    static final int EAFNOSUPPORT = Errno.EAFNOSUPPORT.intValue();
    static final int EADDRINUSE = Errno.EADDRINUSE.intValue();
    static final int EADDRNOTAVAIL = Errno.EADDRNOTAVAIL.intValue();
    static final int ERANGE = 34;
    static final int X_OK = Access.X_OK.intValue();

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
        int open(String path, int flags, int mode);

        int pipe2(@Out int[] fds, int flags);
        int socketpair(int domain, int type, int protocol, @Out int[] fds);
        int socket(int domain, int type, int protocol);
        int bind(int fd, Pointer addr, int addrLen);
        int bind(int fd, @In byte[] address, int length);
        int listen(int fd, int backlog);
        int getsockname(int fd, @Out byte[] address, IntByReference length);
        int setsockopt(int fd, int level, int option, Pointer value, int len);
        int setsockopt(int fd, int level, int option, @In byte[] value, int length);
        int getsockopt(int fd, int level, int option, @Out byte[] value, IntByReference length);
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

        int getpid();
        int getuid();
        int geteuid();
        int getegid();
        int waitpid(int pid, @Out int[] status, int options);
        String strerror(int errno);
        int getpwuid_r(int uid, Pointer pwd, Pointer buf, long bufLen, Pointer result);
        int getpwnam_r(String name, Pointer pwd, Pointer buf, long bufLen, Pointer result);
        int getgrgid_r(int gid, Pointer grp, Pointer buf, long bufLen, Pointer result);
        int getgrnam_r(String name, Pointer grp, Pointer buf, long bufLen, Pointer result);
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
        return api().strerror(errno);
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
