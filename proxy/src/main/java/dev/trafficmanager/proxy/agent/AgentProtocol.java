package dev.trafficmanager.proxy.agent;

import dev.trafficmanager.http.PipelineLayout;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import java.nio.charset.StandardCharsets;

/**
 * The node agent's socket protocol, between processes of one node and one release: frames of a
 * 4-byte length, then a 4-byte request id and one byte. A request's byte is {@link #LOOKUP} and the
 * rest the route key (ASCII); an answer's is {@link #FOUND} with the entry's L1 bytes
 * ({@code EntryCodec}) or {@link #FAILED} with a message (UTF-8). Answers may come in any order.
 */
final class AgentProtocol {
    static final byte LOOKUP = 1;
    static final byte FOUND = 0;
    static final byte FAILED = 1;
    /** A route key is at most ~260 bytes and an entry ~2 KiB: anything far larger is a broken peer. */
    private static final int MAX_FRAME = 16 * 1024;

    private AgentProtocol() {
    }

    /** The {@link PipelineLayout#AGENT} pipeline with {@code handler} last. */
    static void assemble(ChannelPipeline pipeline, ChannelHandler handler) {
        PipelineLayout.AGENT.assemble(pipeline, new LengthFieldBasedFrameDecoder(MAX_FRAME, 0, 4, 0, 4),
                new LengthFieldPrepender(4), handler);
    }

    static ByteBuf frame(ByteBuf out, int id, byte kind, byte[] payload) {
        return out.writeInt(id).writeByte(kind).writeBytes(payload);
    }

    static byte[] text(String message) {
        return message.getBytes(StandardCharsets.UTF_8);
    }
}
