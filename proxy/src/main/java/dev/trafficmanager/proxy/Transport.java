package dev.trafficmanager.proxy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The I/O transport and its channel types ({@code TM_PROXY_TRANSPORT}). By default io_uring where
 * the kernel allows it (side by side here: 1.16–1.28× the requests per second of epoll at 0.67–0.76×
 * the CPU per request; the README has the runs), else epoll, else NIO. Container runtimes' default
 * seccomp profiles often refuse io_uring: then the default falls back to epoll by itself.
 */
public record Transport(String name, IoHandlerFactory io, Class<? extends ServerChannel> serverChannel,
                        Class<? extends SocketChannel> socketChannel, Class<? extends DatagramChannel> datagramChannel) {

    /**
     * The buffers of client and upstream connections: Netty's pooled allocator with per-event-loop
     * caches, which cost less CPU per request under load here than 4.2's default adaptive allocator
     * (see the README's load test figures).
     */
    public static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

    public static final String AUTO = "auto";
    public static final String EPOLL = "epoll";
    public static final String IO_URING = "io_uring";
    public static final String NIO = "nio";

    /** {@code name} if it names a transport this machine has; else why not, naming the choices. */
    public static String checkName(String name) {
        if (!name.equals(AUTO) && !name.equals(EPOLL) && !name.equals(IO_URING) && !name.equals(NIO)) {
            throw new IllegalArgumentException("TM_PROXY_TRANSPORT: \"" + name + "\" (expected: auto, io_uring, epoll or nio)");
        }
        if (name.equals(IO_URING) && !IoUring.isAvailable()) {
            throw new IllegalArgumentException("TM_PROXY_TRANSPORT: io_uring is not available here ("
                    + IoUring.unavailabilityCause() + "); use epoll or nio");
        }
        return name;
    }

    /**
     * The transport {@code name} asks for ({@link #checkName} checked it): auto takes the first of
     * io_uring, epoll and NIO that this machine has; epoll falls back to NIO where its native library
     * does not load.
     */
    public static Transport select(String name) {
        if (name.equals(IO_URING) || name.equals(AUTO) && IoUring.isAvailable()) {
            if (!IoUring.isAvailable()) {
                throw new IllegalStateException("TM_PROXY_TRANSPORT=io_uring: io_uring is not available here: "
                        + IoUring.unavailabilityCause());
            }
            return new Transport(IO_URING, IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
                    IoUringSocketChannel.class, IoUringDatagramChannel.class);
        }
        if (!name.equals(NIO) && Epoll.isAvailable()) {
            return new Transport(EPOLL, EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                    EpollSocketChannel.class, EpollDatagramChannel.class);
        }
        return new Transport(NIO, NioIoHandler.newFactory(), NioServerSocketChannel.class,
                NioSocketChannel.class, NioDatagramChannel.class);
    }

    public EventLoopGroup group(int threads, String threadName) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadName, true), io);
    }
}
