package dev.clustermaster.control;

import dev.clustermaster.core.ClusterSnapshot;
import dev.clustermaster.core.Phase;
import dev.clustermaster.core.WorkerState;
import dev.clustermaster.core.WorkerView;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** A ControlApi that records calls and answers from settable fields; thread-safe enough for the tests. */
final class FakeControlApi implements ControlApi {

    final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    volatile ClusterSnapshot snapshot;
    volatile String socketPath = "/run/test/cluster-master.sock";
    /** What restart() returns; replace to simulate slow or failing restarts. */
    volatile Supplier<CompletableFuture<String>> restartAnswer = () -> CompletableFuture.completedFuture("restarted 2 workers");
    volatile Supplier<CompletableFuture<String>> signalAnswer = null;
    /** What stop() returns; replace to act as a master that exits while answering. */
    volatile Supplier<CompletableFuture<String>> stopAnswer = () -> CompletableFuture.completedFuture("stopping");

    FakeControlApi() {
        long now = System.currentTimeMillis();
        snapshot = new ClusterSnapshot(100, 2, Phase.RUNNING, List.of(
                new WorkerView(1, 0, 0, 4242, WorkerState.READY, now - 65_000, "42 requests", ""),
                new WorkerView(2, 1, 3, 4343, WorkerState.STARTING, now - 5_000)),
                "", List.of());
    }

    @Override
    public ClusterSnapshot snapshot() {
        return snapshot;
    }

    @Override
    public CompletableFuture<String> resize(int n) {
        calls.add("resize " + n);
        return CompletableFuture.completedFuture("resized to " + n + " workers");
    }

    @Override
    public CompletableFuture<String> restart() {
        calls.add("restart");
        return restartAnswer.get();
    }

    @Override
    public CompletableFuture<String> stop() {
        calls.add("stop");
        return stopAnswer.get();
    }

    @Override
    public CompletableFuture<String> kill() {
        calls.add("kill");
        return CompletableFuture.completedFuture("killing");
    }

    @Override
    public CompletableFuture<String> stopWorkers() {
        calls.add("stopWorkers");
        return CompletableFuture.completedFuture("stopping 2 workers");
    }

    @Override
    public CompletableFuture<String> signal(Integer slot, String signalName) {
        calls.add("signal " + (slot == null ? "all" : slot) + " " + signalName);
        if (signalAnswer != null) {
            return signalAnswer.get();
        }
        if (signalName.equals("BOGUS")) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("unknown signal BOGUS"));
        }
        return CompletableFuture.completedFuture("sent SIG" + signalName.replaceFirst("^SIG", "") + " to "
                + (slot == null ? "2 workers" : "slot " + slot));
    }

    @Override
    public CompletableFuture<String> setLogLevel(String level) {
        calls.add("loglevel " + level);
        return CompletableFuture.completedFuture("log level is " + level);
    }

    @Override
    public String controlSocketPath() {
        return socketPath;
    }
}
