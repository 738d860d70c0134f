package dev.clustermaster.worker;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerEnvTest {

    @Test
    void readsEverythingTheMasterSets() {
        WorkerEnv env = WorkerEnv.from(Map.of(
                "CM_CHILD_ID", "3", "CM_RESTART", "5", "CM_MASTER_PID", "1234", "CM_WORKER_ID", "17",
                "NOTIFY_SOCKET", "/run/cm/w17.notify", "CM_IPC_FD", "5", "LISTEN_FDS", "2",
                "LISTEN_FDNAMES", "http:admin", "WATCHDOG_USEC", "3000000", "CM_LOG_LEVEL", "DEBUG"));
        assertEquals(new WorkerEnv(3, 5, 1234, "17", "/run/cm/w17.notify", 5, 2, List.of("http", "admin"), 3_000_000, "DEBUG", -1, -1), env);
        assertTrue(env.underMaster());
        assertFalse(env.ipcPipes());
    }

    @Test
    void aJvmWorkerGetsAPipePair() {
        WorkerEnv env = WorkerEnv.from(Map.of("CM_CHILD_ID", "1", "CM_IPC_IN_FD", "4", "CM_IPC_OUT_FD", "5"));
        assertEquals(4, env.ipcInFd());
        assertEquals(5, env.ipcOutFd());
        assertTrue(env.ipcPipes());
        assertFalse(WorkerEnv.from(Map.of("CM_IPC_IN_FD", "4")).ipcPipes(), "half a pair is no channel");
    }

    @Test
    void outsideAMasterEverythingIsNeutral() {
        WorkerEnv env = WorkerEnv.from(Map.of());
        assertEquals(new WorkerEnv(0, 0, 0, "", "", -1, 0, List.of()), env);
        assertFalse(env.underMaster());
    }

    @Test
    void garbageCountsAsUnset() {
        WorkerEnv env = WorkerEnv.from(Map.of("CM_CHILD_ID", "one", "CM_IPC_FD", "-4", "CM_RESTART", " 2 "));
        assertEquals(0, env.childId());
        assertEquals(-1, env.ipcFd());
        assertEquals(2, env.restartCount());
    }
}
