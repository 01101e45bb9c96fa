package dev.strata.node.powercut;

import dev.strata.common.exec.CommandRunner;
import dev.strata.node.mount.MountTable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The disks of a power-cut test, all loop devices on sparse files in the VM: the data disk behind a
 * dm-log-writes device (whose filesystem the driver works on), the log, a copy of the data disk as
 * it was when logging began (onto which a prefix of the log is replayed), and a copy-on-write disk,
 * so that each cut is checked on a throwaway dm-snapshot of the replay and the replay goes on.
 */
final class PowerCutRig implements AutoCloseable {
    private static final List<String> DMSETUP = List.of("dmsetup", "--verifyudev");
    private static final String LOGGED = "pc-logged";
    private static final String CUT = "pc-cut";

    private final CommandRunner runner = new CommandRunner();
    private final Path dir;
    private final Path mountPoint;
    private final List<String> loops = new ArrayList<>();
    private String dataLoop;
    private String logLoop;
    private String replayLoop;
    private String cowLoop;
    private long sectors;

    PowerCutRig(Path dir) {
        this.dir = dir;
        this.mountPoint = dir.resolve("mnt");
    }

    /** Where the filesystem under test is mounted, during the workload and at every check. */
    Path mountPoint() {
        return mountPoint;
    }

    /** Makes the disks and an ext4 on the data disk, keeps its copy, starts logging, mounts it. */
    void start(long bytes) throws IOException {
        Path data = sparse("data.img", bytes);
        run("mkfs.ext4", "-q", "-F", "-E", "nodiscard", "--", data.toString());
        run("cp", "--sparse=always", "--", data.toString(), dir.resolve("replay.img").toString());
        dataLoop = attach(data);
        logLoop = attach(sparse("log.img", 4 * bytes));
        replayLoop = attach(dir.resolve("replay.img"));
        cowLoop = attach(sparse("cow.img", bytes));
        sectors = Long.parseLong(run("blockdev", "--getsz", dataLoop).stdout().strip());
        dm("create", LOGGED, "--table", "0 " + sectors + " log-writes " + dataLoop + " " + logLoop);
        Files.createDirectories(mountPoint);
        run("mount", "-t", "ext4", "/dev/mapper/" + LOGGED, mountPoint.toString());
    }

    /** A mark in the log: everything written before it that was flushed is on the disk at this point. */
    void mark(String name) throws IOException {
        dm("message", LOGGED, "0", "mark", name);
    }

    /** Ends the workload: unmounts, stops logging (the log's last entries and superblock are written). */
    WriteLog stop() throws IOException {
        unmountAll();
        dm("remove", LOGGED);
        return WriteLog.open(Path.of(logLoop));
    }

    /** Opens the disk as a power cut at entry {@code cut} would have left it, after replaying entries up to it. */
    FileChannel replayDisk() throws IOException {
        return FileChannel.open(Path.of(replayLoop), StandardOpenOption.WRITE);
    }

    /** Mounts a throwaway copy of the replayed disk where the workload's was (ext4 replays its journal). */
    void mountCut() throws IOException {
        dm("create", CUT, "--table", "0 " + sectors + " snapshot " + replayLoop + " " + cowLoop + " N 8");
        run("mount", "-t", "ext4", "/dev/mapper/" + CUT, mountPoint.toString());
    }

    /**
     * Unmounts the copy and throws it away. A lazily unmounted filesystem goes when its last user
     * does (a background delete finishing, a loop device detaching), so the removal is retried.
     */
    void dropCut() throws IOException, InterruptedException {
        unmountAll();
        for (int i = 0; i < 60; i++) {
            if (runner.run(List.of("dmsetup", "--verifyudev", "remove", CUT)).ok()) {
                return;
            }
            Thread.sleep(500);
        }
        throw new IOException("the cut's disk is still in use after its unmount: " + users());
    }

    /** Who still holds the disk under test: open files in any process, other mount namespaces, loops. */
    private String users() throws IOException {
        List<String> held = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try (var fds = Files.list(proc.resolve("fd"))) {
                    for (Path fd : fds.toList()) {
                        String target = Files.readSymbolicLink(fd).toString();
                        // a file of a lazily unmounted filesystem reads as a path from that filesystem's root
                        if (target.contains(dir.toString()) || target.startsWith("/data")
                                || target.startsWith("/host") || target.startsWith("/pool")) {
                            held.add(proc.getFileName() + " " + cmdline(proc) + " fd -> " + target);
                        }
                    }
                    String who = proc.getFileName() + " " + cmdline(proc);
                    Files.readAllLines(proc.resolve("mountinfo")).stream().filter(l -> l.contains(dir.toString()))
                            .forEach(l -> held.add(who + " mount " + l));
                } catch (IOException gone) {
                    // ended meanwhile
                }
            }
        }
        held.add("loops: " + runner.run("losetup", "-a").stdout().strip());
        return String.join("\n", held);
    }

    private static String cmdline(Path proc) throws IOException {
        return Files.readString(proc.resolve("cmdline")).replace('\0', ' ').strip();
    }

    /** Unmounts everything at or below the mount point, deepest first (a loop-backed upper detaches its loop). */
    void unmountAll() throws IOException {
        for (Path p : MountTable.read().under(mountPoint)) {
            run("umount", "-l", p.toString());
        }
    }

    @Override
    public void close() {
        try {
            unmountAll();
        } catch (IOException | RuntimeException e) {
            // best effort: the VM goes away after the stage
        }
        runner.run(List.of("dmsetup", "--verifyudev", "remove", "--retry", CUT));
        runner.run(List.of("dmsetup", "--verifyudev", "remove", "--retry", LOGGED));
        for (String loop : loops) {
            runner.run("losetup", "-d", loop);
        }
    }

    private Path sparse(String name, long bytes) throws IOException {
        Path file = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return file;
    }

    private String attach(Path file) throws IOException {
        String loop = run("losetup", "-f", "--show", "--", file.toString()).stdout().strip();
        loops.add(loop);
        return loop;
    }

    private void dm(String... args) throws IOException {
        List<String> command = new ArrayList<>(DMSETUP);
        command.addAll(List.of(args));
        runner.run(command).checkIo();
    }

    private CommandRunner.Result run(String... command) throws IOException {
        return runner.run(command).checkIo();
    }

}
