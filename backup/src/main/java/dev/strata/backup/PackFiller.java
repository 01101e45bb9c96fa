package dev.strata.backup;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Fills packs with sealed chunks, in the order they come, and hands each pack on when it is due:
 * before the chunk that would take it past {@link #PACK_BYTES}, and once it holds that much. A
 * backup's uploader and a repack fill packs by this one rule, so a pack is never more than
 * {@link #PACK_BYTES} whoever wrote it, and a buffer of that size always holds one.
 */
final class PackFiller {
    static final int PACK_BYTES = 8 << 20;

    /** Where a due pack goes: its name, the buffer holding its {@code length} bytes, its chunks' places. */
    @FunctionalInterface
    interface Sink {
        void put(String name, byte[] buffer, int length, List<Manifest.ChunkRef> chunks) throws IOException;
    }

    private final Supplier<byte[]> buffers;
    private final Sink sink;
    private byte[] buffer; // null between packs
    private String name;
    private int length;
    private List<Manifest.ChunkRef> chunks = new ArrayList<>();

    /**
     * {@code buffers} gives a new pack's buffer, {@link #PACK_BYTES} long: the sink may keep the one
     * it was handed (while its put is under way) and give it back through them.
     */
    PackFiller(Supplier<byte[]> buffers, Sink sink) {
        this.buffers = buffers;
        this.sink = sink;
    }

    /** Appends the chunk's {@code stored} bytes at {@code from[offset]}; returns its place in its pack. */
    Manifest.ChunkRef add(Manifest.ChunkRef chunk, byte[] from, int offset, int stored) throws IOException {
        if (buffer != null && length + stored > PACK_BYTES) {
            putPack();
        }
        if (buffer == null) {
            buffer = buffers.get();
            name = ChunkStore.newPackName();
            length = 0;
        }
        System.arraycopy(from, offset, buffer, length, stored);
        Manifest.ChunkRef place = chunk.in(name, length, stored);
        chunks.add(place);
        length += stored;
        if (length >= PACK_BYTES) {
            putPack();
        }
        return place;
    }

    /** Hands on the last pack, if it holds anything. */
    void finish() throws IOException {
        if (buffer != null) {
            putPack();
        }
    }

    private void putPack() throws IOException {
        byte[] full = buffer;
        List<Manifest.ChunkRef> placed = chunks;
        buffer = null;
        chunks = new ArrayList<>();
        sink.put(name, full, length, placed);
    }
}
